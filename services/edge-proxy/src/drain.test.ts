import { describe, expect, it } from 'vitest';
import { errorRegistry, toAirlockError } from '@airlock/errors';
import { holdUnlessDrained } from './drain.js';

/** A hold that waits until its signal is aborted, then fails as the approval wait does when its client goes away. */
const holdUntilAborted = (signal: AbortSignal) =>
  new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(new Error('wait ended')), { once: true }));

describe('holdUnlessDrained', () => {
  it('answers a call still held when the drain grace ends with a retryable ServiceUnavailable naming the approval', async () => {
    const client = new AbortController();
    const drainEnded = new AbortController();
    const held = holdUnlessDrained(client.signal, drainEnded.signal, 'appr-1', holdUntilAborted);
    drainEnded.abort();
    const error = toAirlockError(await held.catch((thrown: unknown) => thrown));
    expect(error.code).toBe('DependencyUnavailable');
    expect(errorRegistry[error.code]).toMatchObject({ awsCode: 'ServiceUnavailable', status: 503, retryable: true });
    expect(error.message).toMatch(/shutting down while approval appr-1 is still pending\. Retry the same call/);
    expect(error.details).toEqual({ approvalId: 'appr-1' });
  });

  it('lets the hold answer as usual when it ends before the grace, and when the client went away first', async () => {
    const drainEnded = new AbortController();
    await expect(holdUnlessDrained(new AbortController().signal, drainEnded.signal, 'appr-1', async () => 'approved')).resolves.toBe('approved');
    const client = new AbortController();
    const held = holdUnlessDrained(client.signal, drainEnded.signal, 'appr-1', holdUntilAborted);
    client.abort();
    drainEnded.abort();
    await expect(held).rejects.toThrow('wait ended');
  });

  it('holds on the client signal alone when the edge has no drain', async () => {
    const client = new AbortController();
    const held = holdUnlessDrained(client.signal, undefined, 'appr-1', holdUntilAborted);
    client.abort();
    await expect(held).rejects.toThrow('wait ended');
  });
});
