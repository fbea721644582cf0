import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Transform, type Readable } from 'node:stream';
import {
  classify,
  errorFormatFor,
  formBodyParameters,
  jsonBodyParameters,
  mintsCredentials,
  pathStyle,
  renderError,
  resolveUpstream,
  serviceFor,
  type CallDescription,
  type Protocol,
  type ServiceInfo,
} from '@airlock/aws-protocol';
import { ApprovalStatus, Decision, type Approval, type AwsCall, type CallRecorded, type DecideResponse, type MaskedValue, type Principal } from '@airlock/contracts';
import { AirlockError, toAirlockError } from '@airlock/errors';
import {
  STREAMING_SIGNED_PAYLOAD,
  STREAMING_SIGNED_PAYLOAD_TRAILER,
  chunkSigningContext,
  parseAuthorization,
  reframeSignedChunks,
  verifySignature,
  type ChunkSigningContext,
  type IncomingRequestHead,
  type ParsedAuthorization,
} from '@airlock/sigv4';
import { adminApiPrefix, handleAdminRequest } from './admin-api.js';
import { sendAnswer, widenForMasking, type AnswerPlan } from './answer.js';
import { bindRequestId, countCall, observeApprovalWait, observeUpstream } from './call-telemetry.js';
import { defaultApprovalWaitSeconds, waitForDecision } from './approval-wait.js';
import type { DecisionCache } from './decision-cache.js';
import { decisionContext } from './decision-context.js';
import type { EdgeDependencies } from './dependencies.js';
import { holdUnlessDrained } from './drain.js';
import { forward, refetcher, type UpstreamAgents, type UpstreamRequest, type UpstreamResponse } from './forward.js';
import type { HostAddressing } from './hosts.js';
import { decodePath, firstHeader, readBounded, sendText, splitTarget } from './http.js';
import type { CallLimits } from './limits.js';
import { payloadMode, sha256Hex, verifyingStream } from './payload.js';
import type { RevocationCheck } from './revocations.js';
import type { SessionRegistry } from './session-registry.js';
import { recordBeforeForwarding } from './strict-recording.js';
import { assumeRoleWithWebIdentity } from './sts-facade.js';
import { vendRequestFor } from './vend-request.js';

/** Every S3 Control operation's path starts with its API version (S3 Control API reference). */
const s3ControlPath = /^\/v20180820(\/|$)/;
/** Largest body read whole: query and JSON API calls, whose parameters policy needs before forwarding. */
const smallBodyLimit = 16 * 1024 * 1024;
const unsignedBodyLimit = 64 * 1024;

export interface PipelineContext {
  deps: EdgeDependencies;
  upstreams: UpstreamAgents;
  assertHost(host: string | undefined): HostAddressing;
  revocations: RevocationCheck;
  registry: SessionRegistry;
  /** Rate and concurrency limits (limits.ts): a throttled call is refused before anything is decided. */
  limits: CallLimits;
  /** Aborted when the edge's drain grace ends: calls still held for approval then answer retryably (drain.ts). */
  drainEnded?: AbortSignal;
  /** Policy decisions reused for identical requests under the same policy version (decision-cache.ts). */
  decisions: DecisionCache;
}

/** What one request became; recorded as a session event when it ends. */
interface Outcome {
  sessionId?: string;
  principal?: Principal;
  call?: AwsCall;
  decision?: DecideResponse;
  approvalId?: string;
  /** The approval the call waited for, as it stood when the call was released or refused. */
  approval?: Approval;
  upstreamStatus?: number;
  awsRequestId?: string;
  errorCode?: string;
  bytesIn: number;
  bytesOut: number;
  masked: MaskedValue[];
  /** Why the answer went out unmasked (masking failed under masking.failure: open). */
  unmasked?: string;
}

/**
 * The life of one request, stage by stage: host check → STS facade or signature → classification → policy →
 * approval → endpoint → credentials → re-sign and forward → masked answer → session event.
 *
 * `Expect: 100-continue` (the edge handles node's 'checkContinue' itself): the client is told to send its body only
 * when the body is about to be read: for bodies that stream to AWS, after the signature, policy, approval and
 * credentials have all passed; for small API bodies, whose hash is part of the signature and whose parameters policy
 * needs, once the session is known. A refused request never gets its 100 Continue and its connection is closed, so
 * the client does not upload a body nobody will read.
 */
export async function handleRequest(request: IncomingMessage, response: ServerResponse, context: PipelineContext): Promise<void> {
  const { deps } = context;
  const requestTarget = splitTarget(request.url);
  const expectsContinue = /(^|,)\s*100-continue\s*($|,)/i.test(firstHeader(request.headers, 'expect') ?? '');
  let continued = false;
  const continueBody = () => {
    if (expectsContinue && !continued && !response.headersSent) response.writeContinue();
    continued = true;
  };
  // The admin API speaks JSON and takes OIDC bearer tokens, so it is routed before anything SigV4.
  if (requestTarget.rawPath.startsWith(adminApiPrefix)) {
    continueBody();
    await handleAdminRequest(request, response, requestTarget.rawPath, requestTarget.rawQuery, context);
    return;
  }
  const requestId = randomUUID();
  bindRequestId(requestId);
  const startedAt = performance.now();
  const abort = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) abort.abort();
  });
  // A client that goes away mid-call surfaces as stream errors; they end this call, never the process.
  const clientGone = () => abort.abort();
  request.on('error', clientGone);
  response.on('error', clientGone);
  const outcome: Outcome = { bytesIn: 0, bytesOut: 0, masked: [] };
  let releaseSlot = () => {};
  // Until the request names its service (by its signature's scope), errors are written as its shape suggests.
  let { protocol, xmlNamespace } = errorFormatFor(request.headers, Object.fromEntries(new URLSearchParams(requestTarget.rawQuery)));
  try {
    const addressing = context.assertHost(request.headers.host);
    const { rawQuery } = requestTarget;
    // Virtual-hosted S3 (`bucket.<edge host>/key`) is handled as path-style (`/bucket/key`) from here on: that is what
    // classification sees and what goes upstream. The signature is checked against what the client sent (`head`).
    // S3 Control's account-id prefix (`123456789012.<edge host>/v20180820/…`) keeps its path.
    const virtualHostedS3 = addressing.prefix !== undefined && !s3ControlPath.test(requestTarget.rawPath);
    const rawPath = virtualHostedS3 ? pathStyle(addressing.prefix ?? '', requestTarget.rawPath) : requestTarget.rawPath;
    const head: IncomingRequestHead = { method: request.method ?? 'GET', rawPath: requestTarget.rawPath, rawQuery, headers: request.headers };
    if (!request.headers.authorization && !/X-Amz-Signature=/i.test(rawQuery)) {
      releaseSlot = context.limits.admit(protocol);
      continueBody();
      const params = await unsignedParameters(request, rawQuery);
      // Refused in the format the client's SDK reads (S3's for an anonymous S3 client); the STS facade's is STS's.
      ({ protocol, xmlNamespace } = errorFormatFor(request.headers, params));
      await answerUnsigned(params, response, requestId, context, abort.signal);
      return;
    }

    const auth = parseAuthorization(head);
    const service = serviceFor(auth.service, { method: head.method, rawPath, rawQuery, headers: request.headers });
    if (!service) throw new AirlockError('EndpointNotAllowed', `Service "${auth.service.slice(0, 64)}" is not served by this Airlock deployment.`);
    protocol = service.protocol;
    xmlNamespace = service.xmlNamespace;
    releaseSlot = context.limits.admit(protocol);
    if (addressing.prefix !== undefined && auth.service !== 's3') {
      throw new AirlockError('EndpointNotAllowed', `Host "${addressing.prefix}.…" names an S3 bucket; ${auth.service.slice(0, 64)} calls must address the edge itself.`);
    }
    if (!auth.securityToken) throw new AirlockError('UnknownAccessKey', 'The request has no session token; use the credentials Airlock issued.');
    const session = await deps.sessions.open(auth.accessKeyId, auth.securityToken, deps.now());
    outcome.sessionId = session.claims.sessionId;
    await context.revocations.assertNotRevoked(session.claims);
    await context.limits.charge(session.claims, protocol);

    const body = await takeBody(request, head, auth, service, session.secretAccessKey, context, outcome, continueBody);
    const principal: Principal = {
      subject: session.claims.subject,
      issuer: session.claims.issuer,
      groups: session.claims.groups,
      sessionId: session.claims.sessionId,
      name: session.claims.name ?? '',
    };
    outcome.principal = principal;
    const description = classify(service, {
      method: head.method,
      path: decodePath(rawPath),
      rawPath,
      query: Object.fromEntries(new URLSearchParams(rawQuery)),
      headers: request.headers,
      bodyParameters: body.parameters,
      body: body.buffer,
      partition: deps.settings.partition,
      region: auth.region,
      account: session.claims.roleArn.split(':')[4],
    });
    // Derived before policy: a global service's calls are recorded and decided in its signing region, whatever
    // region the client signed for, so the same call always has the same name and approval fingerprint.
    const target = resolveUpstream(
      service,
      auth.region,
      {
        partition: deps.settings.partition,
        allowedRegions: deps.settings.allowedRegions,
        upstreamEndpoint: deps.settings.upstreamEndpoint,
        fips: deps.settings.fips,
        dualStack: deps.settings.dualStack,
      },
      description,
    );
    const call = toAwsCall(service, description, service.global ? target.signingRegion : auth.region, session.claims.roleArn);
    outcome.call = call;
    if (mintsCredentials(call.action)) {
      throw new AirlockError('AccessDenied', `${call.action} is answered by Airlock or not at all: Airlock never hands AWS credentials to clients.`);
    }

    const decideRequest = {
      principal,
      call,
      context: decisionContext(session.claims, { operationKnown: description.known, sourceIp: request.socket.remoteAddress, now: deps.now(), issuerKinds: deps.settings.issuerKinds }),
    };
    const decision = await context.decisions.decide(decideRequest, () =>
      deps.policy.decide(decideRequest, { signal: abort.signal, timeoutMs: deps.settings.dependencyTimeoutMs }),
    );
    outcome.decision = decision;
    if (decision.decision === Decision.DECISION_APPROVAL_REQUIRED) {
      outcome.approvalId = await requireApproval(principal, call, decision, context, outcome, abort.signal);
    } else if (decision.decision !== Decision.DECISION_ALLOW) {
      throw new AirlockError('AccessDenied', decision.reason || `Airlock policy denies ${call.action}.`, {
        details: { policyIds: decision.policyIds.join(',') },
      });
    }

    const { credentials } = await deps.credentials.vend(
      vendRequestFor({ principal, roleArn: session.claims.roleArn, region: target.signingRegion, sessionExpiresAt: session.claims.expiresAt, decision, approval: outcome.approval }),
      { signal: abort.signal, timeoutMs: deps.settings.dependencyTimeoutMs },
    );
    if (!credentials) throw new AirlockError('Internal', 'Credential vending returned no credentials.');

    if (deps.settings.recording === 'strict') {
      const requested = { principal: outcome.principal, call: outcome.call, requestId, approvalId: outcome.approvalId ?? '' };
      await recordBeforeForwarding(deps.events, outcome.sessionId ?? '', requested, deps.settings.dependencyTimeoutMs);
    }

    const answerPlan: AnswerPlan = {
      masking: deps.masking,
      profile: decision.obligations?.maskingProfile || 'default',
      service: call.service,
      operation: call.operation,
      method: head.method,
      signal: abort.signal,
      failure: deps.settings.masking?.failure ?? 'strict',
      holdBytes: deps.settings.masking?.holdBytes ?? 1024 * 1024,
      logger: deps.logger,
    };
    // A ranged read goes upstream wider, so that masking sees the secrets around its edges (answer.ts).
    const ranged = await widenForMasking(request.headers, answerPlan);
    let upstream: UpstreamResponse;
    // Everything has passed: now the client may send the body.
    continueBody();
    const upstreamCall: UpstreamRequest = {
      method: head.method,
      rawPath,
      rawQuery,
      headers: ranged.headers,
      body: body.reframe ?? body.stream ?? (body.buffer?.length ? body.buffer : undefined),
      contentLength: body.buffer ? body.buffer.length : contentLengthOf(request),
      payloadHash: body.payloadHash,
      service: auth.service,
      target,
      credentials,
      signal: abort.signal,
    };
    try {
      upstream = await observeUpstream(auth.service, () => forward(upstreamCall, context.upstreams));
    } catch (error) {
      throw body.failure() ?? error;
    }
    outcome.upstreamStatus = upstream.statusCode;
    outcome.awsRequestId = firstHeader(upstream.headers, 'x-amz-request-id') ?? firstHeader(upstream.headers, 'x-amzn-requestid');
    const answer = await sendAnswer(upstream, response, { ...answerPlan, range: ranged.range, refetch: refetcher(upstreamCall, context.upstreams) });
    outcome.bytesOut = answer.bytesOut;
    outcome.masked = answer.masked;
    outcome.unmasked = answer.unmasked;
  } catch (thrown) {
    const error = toAirlockError(thrown);
    outcome.errorCode = error.code;
    if (error.code === 'Internal' || error.code === 'DependencyUnavailable' || error.code === 'UpstreamUnreachable') {
      deps.logger.warn({ requestId, code: error.code, err: error.cause ?? error }, error.message);
    }
    if (response.headersSent) {
      response.destroy();
    } else {
      // The client still holds a body it was never asked for, or its body was cut off unread: end the connection
      // after the answer rather than wait for (or misread) the rest.
      if ((expectsContinue && !continued) || (request.destroyed && !request.complete)) response.setHeader('connection', 'close');
      const rendered = renderError(error, protocol, requestId, { method: request.method, xmlNamespace });
      sendText(response, rendered.status, rendered.headers, rendered.body);
    }
    // The client must not keep sending a body nobody will read.
    if (!request.readableEnded) request.resume();
  } finally {
    releaseSlot();
    countCall({ awsService: outcome.call?.service, operation: outcome.call?.operation, decision: outcome.decision?.decision, errorCode: outcome.errorCode, upstreamStatus: outcome.upstreamStatus, startedAt });
    record(outcome, Math.round(performance.now() - startedAt), requestId, deps);
  }
}

/** An unsigned request's parameters: its query, and its small form body for a form POST (the STS facade's). */
async function unsignedParameters(request: IncomingMessage, rawQuery: string): Promise<Record<string, string>> {
  const query = Object.fromEntries(new URLSearchParams(rawQuery));
  const isForm = (firstHeader(request.headers, 'content-type') ?? '').startsWith('application/x-www-form-urlencoded');
  return request.method === 'POST' && isForm ? { ...query, ...formBodyParameters(await readBounded(request, unsignedBodyLimit)) } : query;
}

async function answerUnsigned(params: Record<string, string>, response: ServerResponse, requestId: string, context: PipelineContext, signal: AbortSignal): Promise<void> {
  if (params.Action !== 'AssumeRoleWithWebIdentity') {
    throw new AirlockError(
      'MissingAuthentication',
      'The request is not signed, and Airlock answers no anonymous request. Sign it with the credentials Airlock issues through AssumeRoleWithWebIdentity.',
    );
  }
  const xml = await assumeRoleWithWebIdentity(params, requestId, context.deps, signal);
  sendText(response, 200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }, xml);
}

interface TakenBody {
  buffer?: Buffer;
  stream?: Readable;
  /** Signed chunks: the body re-signed chunk by chunk for the forwarded request, once its signature is known. */
  reframe?: (outgoing: ChunkSigningContext) => Readable;
  parameters?: Record<string, string>;
  payloadHash: string;
  /** The body's own failure (a digest mismatch), which explains a failed forward better than the transport error. */
  failure(): AirlockError | undefined;
}

/**
 * Verifies the signature and prepares the body. Bodies signed by digest in a header (S3) stream through a digest
 * check; signed chunks stream through a verifier that re-signs them; small API bodies without that header are read
 * whole, because their digest is part of the signature and their parameters decide the call. A presigned S3 URL
 * declares UNSIGNED-PAYLOAD (or its own X-Amz-Content-Sha256) and is handled like the header form.
 */
async function takeBody(
  request: IncomingMessage,
  head: IncomingRequestHead,
  auth: ParsedAuthorization,
  service: ServiceInfo,
  secret: string,
  context: PipelineContext,
  outcome: Outcome,
  continueBody: () => void,
): Promise<TakenBody> {
  const verify = (parsed: ParsedAuthorization) =>
    verifySignature(head, parsed, secret, { now: context.deps.now(), maxSkewMs: context.deps.settings.clockSkewSeconds * 1000 });
  const declaredHash = auth.payloadHashFromHeader ? auth.payloadHash : undefined;
  if (declaredHash === undefined || service.protocol !== 'rest-xml') {
    continueBody();
    const buffer = await readBounded(request, smallBodyLimit);
    outcome.bytesIn = buffer.length;
    const payloadHash = sha256Hex(buffer);
    verify({ ...auth, payloadHash });
    if (declaredHash !== undefined && declaredHash !== payloadHash && declaredHash !== 'UNSIGNED-PAYLOAD') {
      throw new AirlockError('PayloadHashMismatch', 'The body does not match the x-amz-content-sha256 the request was signed with.');
    }
    return { buffer, parameters: bodyParameters(service.protocol, firstHeader(request.headers, 'content-type'), buffer), payloadHash, failure: () => undefined };
  }
  verify(auth);
  const mode = payloadMode(declaredHash);
  if (mode === 'signed-chunks' && declaredHash !== STREAMING_SIGNED_PAYLOAD && declaredHash !== STREAMING_SIGNED_PAYLOAD_TRAILER) {
    throw new AirlockError('UnsupportedPayload', `${declaredHash} (SigV4a) uploads are not supported; use the SDK's default checksum mode or ${STREAMING_SIGNED_PAYLOAD}.`);
  }
  let failure: AirlockError | undefined;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      outcome.bytesIn += chunk.length;
      callback(null, chunk);
    },
  });
  // The request is piped, not put in the pipeline: a pipeline that fails destroys its streams, and a server request
  // destroyed mid-body leaves its socket unread, so the connection could neither carry the error answer reliably nor
  // the client's next request. Piped, it is merely unpiped on failure and drained by the error path.
  const streamed = (...stages: Transform[]): Readable => {
    request.once('error', (error) => counter.destroy(error));
    request.pipe(counter);
    if (stages.length === 0) return counter;
    return (pipeline as (...streams: unknown[]) => Readable)(counter, ...stages, (error: unknown) => {
      if (error instanceof AirlockError) failure = error;
    });
  };
  if (mode === 'signed-chunks') {
    const decoded = firstHeader(request.headers, 'x-amz-decoded-content-length');
    if (decoded === undefined || !/^\d{1,15}$/.test(decoded)) {
      throw new AirlockError('InvalidRequest', `A ${declaredHash} upload needs x-amz-decoded-content-length: the size of the object in bytes.`);
    }
    if (!hasBody(request)) throw new AirlockError('InvalidRequest', `A ${declaredHash} upload has an aws-chunked body; this request has none.`);
    // Verified against the client's chain (seeded by its request signature, keyed by its Airlock session secret),
    // re-signed for the chain of the forwarded request.
    const incoming = chunkSigningContext(secret, auth, auth.amzDate, auth.signature);
    const trailer = declaredHash === STREAMING_SIGNED_PAYLOAD_TRAILER;
    return {
      reframe: (outgoing) => streamed(reframeSignedChunks({ incoming, outgoing, trailer, decodedContentLength: Number(decoded) })),
      payloadHash: declaredHash,
      failure: () => failure,
    };
  }
  if (!hasBody(request)) return { payloadHash: declaredHash, failure: () => undefined };
  const stream = mode === 'hashed' ? streamed(verifyingStream(declaredHash)) : streamed();
  return { stream, payloadHash: declaredHash, failure: () => failure };
}


function hasBody(request: IncomingMessage): boolean {
  return request.headers['transfer-encoding'] !== undefined || contentLengthOf(request) !== 0;
}

function contentLengthOf(request: IncomingMessage): number | undefined {
  const value = firstHeader(request.headers, 'content-length');
  return value === undefined ? undefined : Number(value);
}

/** SQS and a few other JSON services still accept query-protocol (form) bodies, so the content type decides. */
function bodyParameters(protocol: Protocol, contentType: string | undefined, body: Buffer): Record<string, string> | undefined {
  if (protocol === 'query' || protocol === 'ec2' || contentType?.startsWith('application/x-www-form-urlencoded')) return formBodyParameters(body);
  if (protocol === 'json') return jsonBodyParameters(body);
  return undefined;
}

function toAwsCall(service: ServiceInfo, description: CallDescription, region: string, roleArn: string): AwsCall {
  return {
    service: service.signingName,
    operation: description.operation,
    action: description.action,
    resources: description.resources,
    region,
    roleArn,
    parameters: description.parameters,
  };
}

/**
 * Asks for (or finds) the approval that binds this requester to this exact call (its fingerprint), then holds the
 * call up to edge.approvalWaitSeconds for the decision (approval-wait.ts). An approved grant in force, of this
 * requester for this request, lets the call through; a denial refuses it with the denier's reason; anything else
 * answers ApprovalPending, naming the approval and how to approve it, and the retry after approval goes through.
 * The approval as it ended up is kept in the outcome, so its votes and voters are part of the session record.
 */
async function requireApproval(principal: Principal, call: AwsCall, decision: DecideResponse, context: PipelineContext, outcome: Outcome, signal: AbortSignal): Promise<string> {
  const { deps } = context;
  const fingerprint = fingerprintOf(call);
  const requested = await deps.approval.requestApproval(
    { requester: principal, call, fingerprint, requirement: decision.approval, policyId: decision.policyIds[0] ?? '', reason: decision.reason },
    { signal, timeoutMs: deps.settings.dependencyTimeoutMs },
  );
  if (!requested.approval) throw new AirlockError('Internal', 'The approval service returned no approval.');
  outcome.approvalId = requested.approval.id;
  outcome.approval = requested.approval;
  const waitSeconds = deps.settings.approvalWaitSeconds ?? defaultApprovalWaitSeconds;
  const approval = grantInForce(requested.approval, deps.now().getTime())
    ? requested.approval
    : await observeApprovalWait(() => holdUnlessDrained(signal, context.drainEnded, requested.approval!.id, (held) =>
        waitForDecision(requested.approval!, {
          approval: deps.approval,
          bus: deps.bus,
          waitMs: waitSeconds * 1000,
          timeoutMs: deps.settings.dependencyTimeoutMs,
          signal: held,
          now: () => deps.now().getTime(),
        }),
      ));
  outcome.approval = approval;
  const details = { approvalId: approval.id };
  // The approval service keys approvals by requester and fingerprint; checked again here, because using a grant for
  // anyone else or any other request would break the promise an approver made.
  const requester = approval.requester;
  if (!requester || requester.issuer !== principal.issuer || requester.subject !== principal.subject || approval.fingerprint !== fingerprint) {
    throw new AirlockError('AccessDenied', `Approval ${approval.id} does not name this requester and request.`, { details });
  }
  switch (approval.status) {
    case ApprovalStatus.APPROVAL_STATUS_APPROVED:
      if (grantInForce(approval, deps.now().getTime())) return approval.id;
      throw new AirlockError('AccessDenied', `Approval ${approval.id} for ${call.action} was granted, but its window has closed; retry to ask again.`, { details });
    case ApprovalStatus.APPROVAL_STATUS_DENIED: {
      const denial = [...approval.votes].reverse().find((cast) => !cast.approve);
      const by = denial?.voter ? ` by ${denial.voter.name || denial.voter.subject}` : '';
      const reason = denial?.reason || approval.reason;
      throw new AirlockError('AccessDenied', `Approval ${approval.id} for ${call.action} was denied${by}${reason ? `: ${reason}` : '.'}`, { details });
    }
    case ApprovalStatus.APPROVAL_STATUS_EXPIRED:
      throw new AirlockError('AccessDenied', `Approval ${approval.id} for ${call.action} expired without a decision; retry to ask again.`, { details });
    default:
      throw new AirlockError('ApprovalPending', pendingMessage(approval, call, waitSeconds), { details });
  }
}

function grantInForce(approval: Approval, nowMs: number): boolean {
  return approval.status === ApprovalStatus.APPROVAL_STATUS_APPROVED && approval.grantExpiresAtMs > nowMs;
}

/** What the agent, and the person reading its output, need: what waits, for whom, its id, and how to approve it. */
function pendingMessage(approval: Approval, call: AwsCall, waitSeconds: number): string {
  const groups = approval.requirement?.approverGroups.join(' or ') || 'an approver';
  const quorum = approval.requirement?.quorum ?? 1;
  const approvals = approval.votes.filter((cast) => cast.approve).length;
  const needs = quorum > 1 ? `${quorum} approvals (${approvals} so far) from members of ${groups}` : `approval by a member of ${groups}`;
  const resource = call.resources.length > 0 ? ` on ${call.resources.join(', ')}` : '';
  const until = approval.expiresAtMs > 0 ? ` It stays pending until ${new Date(approval.expiresAtMs).toISOString()}.` : '';
  const held = waitSeconds > 0 ? ` Airlock held the call ${waitSeconds} s.` : '';
  return `${call.action}${resource} needs ${needs}: approval ${approval.id} is pending.${held}${until} Approve with "airlock approvals approve ${approval.id}" (or deny with "airlock approvals deny ${approval.id} --reason ..."), then retry the same call.`;
}

/** Binds an approval to the operation, its resources and its canonical parameters. */
function fingerprintOf(call: AwsCall): string {
  const parameters = Object.keys(call.parameters)
    .sort()
    .map((name) => [name, call.parameters[name]]);
  return createHash('sha256')
    .update(JSON.stringify([call.action, call.region, call.roleArn, [...call.resources].sort(), parameters]))
    .digest('hex');
}

function record(outcome: Outcome, durationMs: number, requestId: string, deps: EdgeDependencies): void {
  if (!outcome.sessionId) return;
  const value: CallRecorded = {
    principal: outcome.principal,
    call: outcome.call,
    decision: outcome.decision?.decision ?? Decision.DECISION_UNSPECIFIED,
    policyIds: outcome.decision?.policyIds ?? [],
    reason: outcome.decision?.reason ?? '',
    approvalId: outcome.approvalId ?? '',
    upstreamStatus: outcome.upstreamStatus ?? 0,
    awsRequestId: outcome.awsRequestId ?? '',
    errorCode: outcome.errorCode ?? '',
    durationMs,
    bytesIn: outcome.bytesIn,
    bytesOut: outcome.bytesOut,
    masked: outcome.masked,
    requestId,
    // The call is this event's own; the votes, voters and reasons are what the record adds.
    approval: outcome.approval ? { ...outcome.approval, call: undefined } : undefined,
    unmaskedReason: outcome.unmasked ?? '',
  };
  deps.events.record(outcome.sessionId, { $case: 'call', value }).catch((error: unknown) => {
    deps.logger.error({ err: error, sessionId: outcome.sessionId, requestId }, 'session event could not be recorded');
  });
}

