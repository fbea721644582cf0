import { AirlockError, type AirlockErrorCode } from '@airlock/errors';

/** How an attempt ended: the AirlockError's code and message, or 'none' when it succeeded. Other errors propagate. */
export async function codeOf(attempt: Promise<unknown>): Promise<{ code: AirlockErrorCode | 'none'; message: string }> {
  try {
    await attempt;
    return { code: 'none', message: '' };
  } catch (error) {
    if (error instanceof AirlockError) return { code: error.code, message: error.message };
    throw error;
  }
}
