/**
 * The two ways a people command ends badly. The command line maps them to exit codes: a usage error (the command was
 * called wrongly) exits 2, a failure (the command was right, the world said no) exits 1. Messages are one line, meant
 * for a person, and never carry a token or a secret.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export class Failure extends Error {
  override readonly name = 'Failure';
}

/**
 * The reason a request failed, as a person needs it: the system error's code (ECONNREFUSED, ENOTFOUND…), which `fetch`
 * hides in `cause`, or "no answer in time".
 */
export function networkReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'no answer in time';
  const cause = (error as { cause?: unknown }).cause;
  const failed = cause instanceof Error ? cause : error;
  return (failed as { code?: string }).code ?? failed.message;
}
