import { AirlockError } from '@airlock/errors';
import { answerMetrics, startOpsServer, type RunningOpsServer } from '@airlock/telemetry';
import type { Lifecycle } from '@airlock/transport';
import { answerProbe } from './probes.js';

/** Where Prometheus scrapes the edge (in embedded mode: every service of the process). */
export const metricsPath = '/_airlock/metrics';

/**
 * The edge's operations listener (edge.opsListen): liveness, readiness with the state and the failing dependencies,
 * and, with edge.metrics, Prometheus metrics: for kubelets, Prometheus and operators, not for agents, which are given
 * the public port. Plain HTTP, no Host check, no TLS: bind it to loopback or a network only operators reach.
 */
export async function startOpsListener(listen: string, lifecycle: Lifecycle, options: { metrics: boolean }): Promise<RunningOpsServer> {
  try {
    return await startOpsServer(listen, (request, response) => answerProbe(request, response, lifecycle, 'reasons') || (options.metrics && answerMetrics(request, response, metricsPath)));
  } catch (error) {
    // Its default address is fixed, so a second edge on one machine meets the first one's: name the setting to change.
    const reason = (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    throw new AirlockError('InvalidConfiguration', `edge.opsListen ${listen} cannot be bound (${reason}); give each edge on this machine its own.`, { cause: error });
  }
}
