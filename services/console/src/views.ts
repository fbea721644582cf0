/**
 * What the console's own JSON API (`/api/…`) answers, shared by the server (src/) and the browser (web/src/, which
 * imports these types only). Approvals and live sessions are the edge's admin API answers, passed through unchanged:
 * their shapes are docs/admin-api.md's, restated here with only the fields the console reads.
 */

/** The signed-in person, as the edge's admin API (`whoami`) sees their token. */
export interface Person {
  subject: string;
  issuer: string;
  name: string | null;
  email: string | null;
  groups: string[];
  /** Member of one of admin.groups: may see every session and recording. */
  admin: boolean;
}

/** `GET /api/me` */
export interface MeResponse {
  person: Person;
  /** Sent back as the `x-csrf-token` header on every POST. */
  csrfToken: string;
  /** When this sign-in ends at the latest (ISO 8601). */
  signedInUntil: string;
}

/** Any failure: `code` as in docs/admin-api.md (the console adds none of its own). */
export interface ErrorResponse {
  code: string;
  message: string;
}

export type ApprovalStatusName = 'pending' | 'approved' | 'denied' | 'expired';

/** docs/admin-api.md `ApprovalView` (fields the console shows). */
export interface ApprovalView {
  id: string;
  status: ApprovalStatusName;
  requester: { subject: string; issuer: string; name: string | null; groups: string[]; sessionId: string };
  action: string;
  resources: string[];
  region: string;
  roleArn: string;
  parameters: Record<string, string>;
  approverGroups: string[];
  quorum: number;
  policyId: string;
  reason: string;
  votes: { subject: string; issuer: string; name: string | null; approve: boolean; reason: string; at: string }[];
  createdAt: string;
  expiresAt: string;
  grantExpiresAt: string | null;
}

/** `GET /api/approvals`, and every `approvals` event of `GET /api/approvals/stream`. */
export interface ApprovalsResponse {
  approvals: ApprovalView[];
}

/** `GET /api/approvals/<id>`, `POST /api/approvals/<id>/approve|deny` */
export interface ApprovalResponse {
  approval: ApprovalView;
}

/** docs/admin-api.md session (fields the console shows). */
export interface LiveSession {
  sessionId: string;
  subject: string;
  issuer: string;
  name: string | null;
  groups: string[];
  roleArn: string;
  roleSessionName?: string | null;
  issuedAt: string;
  expiresAt: string;
  revoked: boolean;
}

/** `GET /api/sessions` */
export interface LiveSessionsResponse {
  sessions: LiveSession[];
}

/** `POST /api/sessions/<id>/revoke`, `POST /api/sessions/revoke` */
export interface RevokeResponse {
  revoked: string[];
}

/** One recorded session, as the recorder's index lists it (counts within the time range asked for). */
export interface RecordingSummary {
  sessionId: string;
  subject: string;
  name: string;
  roleArn: string;
  firstAt: string | null;
  lastAt: string | null;
  calls: number;
  events: number;
  /** IAM actions called, sorted. */
  operations: string[];
  /** "allow", "deny", "approval", "none", sorted. */
  decisions: string[];
}

/** The search `GET /api/recordings` takes (query parameters), handed to the recorder's ListSessions. */
export const recordingFilters = ['subject', 'role', 'operation', 'decision'] as const;

/** `GET /api/recordings` */
export interface RecordingsResponse {
  recordings: RecordingSummary[];
}

export interface PrincipalView {
  subject: string;
  issuer: string;
  name: string;
  groups: string[];
}

export type DecisionName = 'allow' | 'deny' | 'approval-required' | 'unspecified';

/** One line of a replayed session, oldest first. Values the masking service removed are never recorded: only counts. */
export type TimelineEntry =
  | { kind: 'started'; at: string; edgeId: string; principal: PrincipalView | null; roleArn: string; expiresAt: string | null }
  | { kind: 'requested'; at: string; edgeId: string; requestId: string; action: string; resources: string[] }
  | {
      kind: 'call';
      at: string;
      edgeId: string;
      requestId: string;
      principal: PrincipalView | null;
      action: string;
      region: string;
      resources: string[];
      parameters: Record<string, string>;
      decision: DecisionName;
      policyIds: string[];
      reason: string;
      approval: {
        id: string;
        status: ApprovalStatusName | 'unspecified';
        votes: { voter: PrincipalView | null; approve: boolean; reason: string; at: string }[];
      } | null;
      upstreamStatus: number;
      awsRequestId: string;
      errorCode: string;
      durationMs: number;
      bytesIn: number;
      bytesOut: number;
      /** What masking removed from the answer: kinds, counts, the rule and where; never the values. */
      masked: { kind: string; count: number; rule: string; location: string }[];
      /** Why the answer went out unmasked (masking failed under masking.failure: open); empty when it did not. */
      unmaskedReason: string;
    }
  | { kind: 'ended'; at: string; edgeId: string; reason: string };

/** `GET /api/recordings/<id>` */
export interface RecordingResponse {
  sessionId: string;
  timeline: TimelineEntry[];
}

/** `GET /api/recordings/<id>/verify`: the recorder's VerifySession answer. */
export interface VerificationResponse {
  sessionId: string;
  /** No problem other than "unsigned". */
  ok: boolean;
  signed: boolean;
  objects: number;
  events: number;
  problems: { kind: string; key: string; line: number; message: string }[];
}

/** `GET /api/policy`: the Cedar files named by policy.files, read and checked the way the policy service loads them. */
export interface PolicyResponse {
  /** `sha256:<16 hex>` over every file's path and text, in order: equal digests, equal files. */
  version: string;
  /** How many policies the files hold. */
  policies: number;
  files: { path: string; text: string }[];
  /** Parse and annotation errors (empty when the files are valid). */
  problems: string[];
}
