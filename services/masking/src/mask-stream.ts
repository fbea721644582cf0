import type { MaskRequest, MaskResponse } from '@airlock/contracts';
import { AirlockError } from '@airlock/errors';
import type { Logger } from '@airlock/logging';
import { metrics } from '@airlock/telemetry';
import type { CallContext } from '@airlock/transport';
import { createAnswerMasker, MalformedAnswerError, pseudonymKey, type StreamMasker } from './engine/index.js';
import { profileFor } from './profiles.js';

/**
 * The Mask call: a header, then body chunks in; masked chunks out as soon as they are decided, and a last message
 * with the rest and the counts of what was masked. Memory stays bounded by the engine's window, whatever the body size.
 */
export async function* maskStream(requests: AsyncIterable<MaskRequest>, context: CallContext, logger: Logger): AsyncIterable<MaskResponse> {
  let masker: StreamMasker | undefined;
  let header: { profile: string; service: string; operation: string } | undefined;
  for await (const request of requests) {
    context.signal.throwIfAborted();
    const part = request.part;
    if (!masker) {
      if (part?.$case !== 'header') throw new AirlockError('InvalidRequest', 'The first Mask message must carry the header.');
      const profile = profileFor(part.value.profile);
      const { service, operation, contentType, ranged } = part.value;
      header = { profile: profile.name, service, operation };
      masker = createAnswerMasker(profile, { service, operation, contentType, ranged }, pseudonymKey());
      continue;
    }
    if (part?.$case === 'header') throw new AirlockError('InvalidRequest', 'Only the first Mask message may carry a header.');
    if (part?.$case !== 'data') continue;
    metrics.maskedBytes.inc(part.value.length);
    const data = refuseMalformed(() => masker!.push(part.value));
    if (data.length > 0) yield { data, masked: [] };
  }
  if (!masker) throw new AirlockError('InvalidRequest', 'The Mask stream ended before its header.');
  const data = refuseMalformed(() => masker.end());
  const masked = masker.masked();
  if (masked.length > 0) logger.debug({ ...header, masked }, 'masked values in an answer');
  for (const value of masked) metrics.masks.inc({ kind: value.kind }, value.count);
  yield { data, masked };
}

/** An answer field rules cannot be applied to fails the stream with its reason (byte position), which the edge logs. */
function refuseMalformed<T>(step: () => T): T {
  try {
    return step();
  } catch (error) {
    if (error instanceof MalformedAnswerError) throw new AirlockError('Internal', error.message, { cause: error });
    throw error;
  }
}
