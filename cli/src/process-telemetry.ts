import type { AirlockConfig } from '@airlock/config';
import type { Logger } from '@airlock/logging';
import { startMetricsServer, startTracing, type RunningMetricsServer } from '@airlock/telemetry';
import {
  mutualTlsChannelCredentials,
  mutualTlsServerCredentials,
  watchTlsFiles,
  type ChannelCredentials,
  type ServerCredentials,
  type WatchedTlsFiles,
} from '@airlock/transport';

/** What every Airlock process sets up around its services: tracing, its metrics endpoint, and its mTLS identity. */
export interface ProcessTelemetry {
  /** Options to spread into gRPC servers and clients: mTLS from `mtls` (reloaded as its files change), or none (plaintext). */
  readonly grpc: { server: { credentials?: ServerCredentials }; channel: { credentials?: ChannelCredentials } };
  /** Flushes traces and stops watching and serving. */
  close(): Promise<void>;
}

export async function startProcessTelemetry(
  config: AirlockConfig,
  processName: string,
  logger: Logger,
  options: { metricsListen?: string | undefined } = {},
): Promise<ProcessTelemetry> {
  const tracing = await startTracing({ serviceName: `airlock-${processName}`, otlpEndpoint: config.tracing.otlpEndpoint, sampleRatio: config.tracing.sampleRatio });
  let tlsFiles: WatchedTlsFiles | undefined;
  let metricsServer: RunningMetricsServer | undefined;
  try {
    if (config.mtls) {
      tlsFiles = watchTlsFiles(config.mtls, (error) =>
        logger.warn({ err: error }, 'mTLS files changed but do not load; the previous certificates stay in force'),
      );
      tlsFiles.onChange(() => logger.info({ certFile: config.mtls?.certFile }, 'mTLS certificates reloaded'));
    }
    if (options.metricsListen) {
      metricsServer = await startMetricsServer(options.metricsListen);
      logger.info({ listen: options.metricsListen, port: metricsServer.port }, 'metrics served at /metrics');
    }
  } catch (error) {
    tlsFiles?.close();
    await tracing.shutdown();
    throw error;
  }
  return {
    grpc: tlsFiles
      ? { server: { credentials: mutualTlsServerCredentials(tlsFiles) }, channel: { credentials: mutualTlsChannelCredentials(tlsFiles) } }
      : { server: {}, channel: {} },
    async close() {
      tlsFiles?.close();
      await metricsServer?.close();
      await tracing.shutdown().catch((error: unknown) => logger.warn({ err: error }, 'traces could not be flushed'));
    },
  };
}
