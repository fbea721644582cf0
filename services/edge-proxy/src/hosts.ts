import { AirlockError } from '@airlock/errors';

/**
 * The Host header must name this edge. A proxy that forwarded by Host could be pointed anywhere; Airlock derives the
 * upstream itself, and refusing foreign hosts makes a confused client fail loudly instead of silently.
 */
export function createHostCheck(configured: readonly string[], listenHost: string, port: number): (host: string | undefined) => void {
  const allowed = new Set(
    (configured.length > 0 ? configured : [listenHost, 'localhost', '127.0.0.1', '[::1]']).flatMap((name) => {
      const lower = name.toLowerCase();
      return /:\d+$/.test(lower) ? [lower] : [lower, `${lower}:${port}`];
    }),
  );
  return (host) => {
    if (!host || !allowed.has(host.toLowerCase())) {
      throw new AirlockError('EndpointNotAllowed', `Host "${(host ?? '').slice(0, 100)}" is not served by this Airlock edge; point the client's endpoint at Airlock itself.`);
    }
  };
}
