import { RecordingLevel } from '@airlock/contracts';

/** What Airlock reads from a policy's annotations, validated once at load. */
export interface PolicyMeta {
  /** `@id("...")` when present, else `<file>:<Cedar id>`. */
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** Where it came from, for error messages: `<file> (<id>)`. */
  readonly source: string;
  /** The file it was read from, as errors name it (set by the loader). */
  readonly file?: string;
  /** `@reason("...")`: shown to the agent when this policy decides. */
  readonly reason?: string;
  /** Present when the permit only applies once a person approves (`@approval("groupA,groupB")`). */
  readonly approval?: ApprovalMeta;
  /** `@recording("metadata" | "request" | "full")`. */
  readonly recording?: RecordingLevel;
  /** `@masking("<profile>")`. */
  readonly maskingProfile?: string;
  /** `@scope("action" | "service" | "role")`: how narrowly the credentials of a call this permit allows are scoped. */
  readonly scope?: CredentialScope;
  /** `@credential_seconds("N")`: the longest the credentials of a call this permit allows may live. */
  readonly credentialSeconds?: number;
  /** Set by the loader when the policy reads time-varying context, so that its decisions are never reused. */
  readonly readsTime?: boolean;
  /**
   * Set by the loader: how narrowly the policy's scope names the action, then the principal (`==` 2, `in`/`is` 1,
   * unconstrained 0), as `action * 10 + principal`. Of several @approval permits that gate one resource, the most
   * specific is the one whose approval is asked for (decide.ts).
   */
  readonly specificity?: number;
}

/**
 * How the session policy of an allowed call's credentials is drawn (decide.ts), narrowest first:
 * `action` — exactly the call's action on exactly its resources; `service` — any action of the call's service;
 * `role` — no session policy, the role's own permissions. Every distinct session policy is a separate cached
 * credential and so its own sts:AssumeRole: `action` costs one per distinct request, `service` one per service,
 * `role` one per role (README "Policy", credential scope).
 */
export const credentialScopes = ['action', 'service', 'role'] as const;
export type CredentialScope = (typeof credentialScopes)[number];

export interface ApprovalMeta {
  readonly approverGroups: readonly string[];
  readonly quorum: number;
  readonly pendingTtlSeconds: number;
  readonly grantWindowSeconds: number;
}

/** @default 900 — a request waits 15 minutes for a decision. */
export const defaultPendingTtlSeconds = 15 * 60;
/** @default 600 — an approved request may be used for 10 minutes. */
export const defaultGrantWindowSeconds = 10 * 60;

const recordingLevels: Record<string, RecordingLevel> = {
  metadata: RecordingLevel.RECORDING_LEVEL_METADATA,
  request: RecordingLevel.RECORDING_LEVEL_REQUEST,
  full: RecordingLevel.RECORDING_LEVEL_FULL,
};

/**
 * Reads Airlock's annotations. Throws a plain Error with a readable message on a bad value; the loader adds the file
 * and policy and turns it into a configuration error. Unknown annotations are left alone: authors may keep their own.
 */
export function readAnnotations(
  id: string,
  effect: 'permit' | 'forbid',
  source: string,
  annotations: Readonly<Record<string, string>>,
): PolicyMeta {
  const approvalText = annotations['approval'];
  const approvalOnly = ['quorum', 'pending_ttl', 'grant_window'].filter((key) => annotations[key] !== undefined);
  if (approvalText === undefined && approvalOnly.length > 0) {
    throw new Error(`@${approvalOnly[0]} only makes sense together with @approval("<groups>")`);
  }
  if (approvalText !== undefined && effect === 'forbid') {
    throw new Error('@approval applies to permit policies only; a forbid cannot be approved away');
  }
  const recordingText = annotations['recording'];
  const recording = recordingText === undefined ? undefined : recordingLevels[recordingText.trim().toLowerCase()];
  if (recordingText !== undefined && recording === undefined) {
    throw new Error(`@recording("${recordingText}") must be one of: ${Object.keys(recordingLevels).join(', ')}`);
  }
  const maskingProfile = annotations['masking']?.trim();
  if (maskingProfile === '') throw new Error('@masking("") names no masking profile');
  const scopeText = annotations['scope'];
  const scope = credentialScopes.find((each) => each === scopeText?.trim().toLowerCase());
  if (scopeText !== undefined && scope === undefined) throw new Error(`@scope("${scopeText}") must be one of: ${credentialScopes.join(', ')}`);
  if (effect === 'forbid' && (scope !== undefined || annotations['credential_seconds'] !== undefined)) {
    throw new Error('@scope and @credential_seconds apply to permit policies only; a forbid allows nothing to scope');
  }
  return {
    id,
    effect,
    source,
    ...(annotations['reason'] === undefined ? {} : { reason: annotations['reason'] }),
    ...(approvalText === undefined ? {} : { approval: readApproval(approvalText, annotations) }),
    ...(recording === undefined ? {} : { recording }),
    ...(maskingProfile === undefined ? {} : { maskingProfile }),
    ...(scope === undefined ? {} : { scope }),
    ...(annotations['credential_seconds'] === undefined ? {} : { credentialSeconds: positiveInteger(annotations, 'credential_seconds', 0) }),
  };
}

function readApproval(groupsText: string, annotations: Readonly<Record<string, string>>): ApprovalMeta {
  const approverGroups = [...new Set(groupsText.split(',').map((group) => group.trim()).filter((group) => group !== ''))];
  if (approverGroups.length === 0) throw new Error('@approval("...") must name at least one approver group');
  return {
    approverGroups,
    quorum: positiveInteger(annotations, 'quorum', 1),
    pendingTtlSeconds: positiveInteger(annotations, 'pending_ttl', defaultPendingTtlSeconds),
    grantWindowSeconds: positiveInteger(annotations, 'grant_window', defaultGrantWindowSeconds),
  };
}

function positiveInteger(annotations: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const text = annotations[key];
  if (text === undefined) return fallback;
  const value = Number(text.trim());
  // uint32 on the wire; anything beyond a day-scale number of seconds is a typo, but only the wire bound is enforced.
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < 1 || value > 0xffff_ffff) {
    throw new Error(`@${key}("${text}") must be a positive whole number`);
  }
  return value;
}
