import { liveConfigSchema } from '@overture/config';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './json-logger.js';
import { followLiveConfig } from './live-telemetry.js';
import type { TracingHandle } from './start-tracing.js';

describe('followLiveConfig', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'live-telemetry-'));
  const file = path.join(dir, 'live.yaml');
  const write = (text: string): void => {
    writeFileSync(`${file}.new`, text);
    renameSync(`${file}.new`, file);
  };

  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('applies the file’s log level and sampling ratio at start and on each change, else the variables', () => {
    write('log:\n  level: debug\n');
    const logger = createLogger({ service: 'spec', level: 'info' });
    const levels = vi.spyOn(logger, 'setLevel');
    const ratios: number[] = [];
    const tracing: TracingHandle = {
      setSampleRatio: (ratio) => ratios.push(ratio),
      flush: () => Promise.resolve(),
      shutdown: () => Promise.resolve(),
    };
    const settings = { LIVE_CONFIG_FILE: file, LIVE_CONFIG_POLL_MS: 60_000, LOG_LEVEL: 'warn' as const, OTEL_TRACES_SAMPLER_RATIO: 0.01 };
    const live = followLiveConfig('spec', liveConfigSchema, settings, logger, tracing);
    expect(levels.mock.calls).toEqual([['debug']]);
    expect(ratios).toEqual([0.01]);

    write('tracing:\n  sample_ratio: 0.5\n');
    expect(live.reload('signal')).toBe('applied');
    // log.level left out: back to LOG_LEVEL.
    expect(levels.mock.calls.at(-1)).toEqual(['warn']);
    expect(ratios.at(-1)).toBe(0.5);

    write('tracing:\n  sample_ratio: 5\n');
    expect(live.reload('signal')).toBe('rejected');
    expect(ratios.at(-1)).toBe(0.5);
    live.close();
    rmSync(dir, { recursive: true, force: true });
  });
});
