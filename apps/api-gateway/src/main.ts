import 'reflect-metadata';
import { loadConfigOrExit } from '@overture/config';
import { createLogger, followLiveConfig, startTracing } from '@overture/tracing';
import { gatewayConfigSchema, gatewayLiveConfigSchema } from './gateway.config.js';

const USAGE = 'usage: main.js [serve]';

async function main(): Promise<void> {
  const [command = 'serve'] = process.argv.slice(2);
  if (command !== 'serve') throw new Error(`unknown command ${JSON.stringify(command)}; ${USAGE}`);
  const config = loadConfigOrExit(gatewayConfigSchema, 'api-gateway');
  const logger = createLogger({ service: 'api-gateway', level: config.LOG_LEVEL, redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS });
  const tracing = startTracing({
    serviceName: 'api-gateway',
    disabled: config.OTEL_SDK_DISABLED,
    otlpEndpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
    samplerRatio: config.OTEL_TRACES_SAMPLER_RATIO,
    keepSlowServerSpansMs: config.TRACE_KEEP_ERRORS_AND_SLOW ? config.SLOW_REQUEST_MS : undefined,
    legacyTraceHeader: config.TRACE_LEGACY_HEADER,
    redactClientAddress: config.LOG_REDACT_CLIENT_ADDRESS,
  });
  const live = followLiveConfig('api-gateway', gatewayLiveConfigSchema, config, logger, tracing);
  // Loaded after tracing has started, as in every app: instrumentations patch modules only as they load.
  const { startGateway } = await import('./gateway.app.js');
  const { exitOnSignals } = await import('@overture/grpc');
  const { liveConfigMetrics } = await import('@overture/metrics');
  const gateway = await startGateway(config, logger, live);
  liveConfigMetrics(live);
  logger.log(`HTTP listening on ${gateway.url}; ops (metrics) on ${gateway.opsUrl}`, 'Bootstrap');
  exitOnSignals(async (signal) => {
    live.close();
    await gateway.shutdown(signal);
    await tracing.shutdown();
  }, logger);
}

main().catch((error: unknown) => {
  process.stderr.write(`api-gateway: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
