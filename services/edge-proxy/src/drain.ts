import { AirlockError } from '@airlock/errors';

/**
 * Holds a call for its approval unless the edge's drain grace runs out first. Then the call is answered with a
 * retryable ServiceUnavailable: the SDK retries, another edge takes the retry, and since an approval is bound to its
 * requester and request the retry waits for the very same approval. A client that goes away still ends the wait as
 * `hold` decides.
 */
export async function holdUnlessDrained<T>(
  clientSignal: AbortSignal,
  drainEnded: AbortSignal | undefined,
  approvalId: string,
  hold: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  if (!drainEnded) return hold(clientSignal);
  try {
    return await hold(AbortSignal.any([clientSignal, drainEnded]));
  } catch (error) {
    if (drainEnded.aborted && !clientSignal.aborted) {
      throw new AirlockError(
        'DependencyUnavailable',
        `This Airlock edge is shutting down while approval ${approvalId} is still pending. Retry the same call: it waits for the same approval.`,
        { details: { approvalId } },
      );
    }
    throw error;
  }
}
