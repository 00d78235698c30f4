import type { LiveConfigStats, ReloadResult } from '@overture/config';
import { counter, gauge } from './registry.js';

/** What liveConfigMetrics reads of a LiveConfig. */
export interface LiveConfigSource {
  readonly stats: LiveConfigStats;
  onReload(listener: (result: ReloadResult) => void): void;
}

/**
 * Exports a process's live config: the version in use, reloads by result (applied, unchanged,
 * rejected), whether the file on disk is the one in use (0 after a refused change) and when a
 * reload last succeeded.
 */
export function liveConfigMetrics(live: LiveConfigSource): void {
  gauge({
    name: 'overture_live_config_version',
    help: 'Version of the live config in use: 1 as read at start, one more for each change applied.',
    collect() {
      this.set(live.stats.version);
    },
  });
  gauge({
    name: 'overture_live_config_file_in_use',
    help: 'Whether the live config file on disk is the one in use (0: its last change was refused).',
    collect() {
      this.set(live.stats.inUse ? 1 : 0);
    },
  });
  gauge({
    name: 'overture_live_config_last_success_timestamp_seconds',
    help: 'When the live config file was last read and found valid (Unix time).',
    collect() {
      this.set(live.stats.lastSuccessAt / 1_000);
    },
  });
  const reloads = counter({
    name: 'overture_live_config_reloads_total',
    help: 'Live config reloads (file events, SIGHUP, polls), by result: applied, unchanged or rejected.',
    labelNames: ['result'],
  });
  for (const result of ['applied', 'unchanged', 'rejected'] as const) reloads.inc({ result }, 0);
  live.onReload((result) => reloads.inc({ result }));
}
