/** How a stock SDK call was refused: the error's name, message and HTTP status. Fails if the call succeeded. */
export async function refusalOf(call: Promise<unknown>): Promise<{ name: string; message: string; status?: number }> {
  const error = (await call.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
  if (!error) throw new Error('the call was not refused');
  return { name: error.name, message: error.message, ...(error.$metadata?.httpStatusCode === undefined ? {} : { status: error.$metadata.httpStatusCode }) };
}
