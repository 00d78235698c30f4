import { startLiveConfigOrExit, type LiveConfig } from '@overture/config';
import type { z } from 'zod';
import type { JsonLogger, LogLevel } from './json-logger.js';
import type { TracingHandle } from './start-tracing.js';

/** What every live config schema holds for telemetry (commonLiveConfig). */
export type TelemetryLiveValues = { log: { level?: LogLevel | undefined }; tracing: { sample_ratio?: number | undefined } };

export interface LiveTelemetrySettings {
  readonly LIVE_CONFIG_FILE?: string | undefined;
  readonly LIVE_CONFIG_POLL_MS: number;
  readonly LOG_LEVEL: LogLevel;
  readonly OTEL_TRACES_SAMPLER_RATIO: number;
}

/**
 * Starts an app's live config (exiting on an invalid file, as for invalid environment) and applies
 * its log level and trace sampling ratio now and on every change; a setting the file leaves out
 * falls back to LOG_LEVEL or OTEL_TRACES_SAMPLER_RATIO.
 */
export function followLiveConfig<S extends z.ZodType<TelemetryLiveValues>>(
  appName: string,
  schema: S,
  settings: LiveTelemetrySettings,
  logger: JsonLogger,
  tracing: TracingHandle | undefined,
): LiveConfig<S> {
  const live = startLiveConfigOrExit({ schema, file: settings.LIVE_CONFIG_FILE, pollMs: settings.LIVE_CONFIG_POLL_MS, logger }, appName);
  const apply = (values: TelemetryLiveValues): void => {
    logger.setLevel(values.log.level ?? settings.LOG_LEVEL);
    tracing?.setSampleRatio(values.tracing.sample_ratio ?? settings.OTEL_TRACES_SAMPLER_RATIO);
  };
  apply(live.current.values);
  live.onChange((next) => apply(next.values));
  return live;
}
