import { mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { liveConfigSchema } from './fields.js';
import { differences, LiveConfig } from './live-config.js';
import { ConfigError } from './load-config.js';

const schema = z.strictObject({
  ...liveConfigSchema.shape,
  limits: z.strictObject({ search_per_second: z.number().int().positive().default(10) }).default({ search_per_second: 10 }),
});

/**
 * A folder laid out as Kubernetes mounts a ConfigMap: `config.yaml` links to `..data/config.yaml`,
 * `..data` links to a timestamped folder, and an update swaps `..data` in one rename.
 */
class ConfigMapVolume {
  private generation = 0;
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = path.join(dir, 'config.yaml');
  }

  write(text: string): void {
    const version = path.join(this.dir, `..2026_${++this.generation}`);
    mkdirSync(version);
    writeFileSync(path.join(version, 'config.yaml'), text);
    symlinkSync(path.basename(version), path.join(this.dir, '..data_tmp'));
    renameSync(path.join(this.dir, '..data_tmp'), path.join(this.dir, '..data'));
    if (this.generation === 1) symlinkSync(path.join('..data', 'config.yaml'), this.file);
  }
}

describe('live config', () => {
  let dir: string;
  let volume: ConfigMapVolume;
  let live: LiveConfig<typeof schema> | undefined;
  const logger = { log: vi.fn(), warn: vi.fn() };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'live-config-'));
    volume = new ConfigMapVolume(dir);
    logger.log.mockReset();
    logger.warn.mockReset();
  });

  afterEach(() => {
    live?.close();
    live = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts from the file, filling what it leaves out with the defaults', () => {
    volume.write('log:\n  level: debug\nflags:\n  radio: true\n');
    live = LiveConfig.start({ schema, file: volume.file, logger });
    expect(live.current).toMatchObject({
      version: 1,
      values: { log: { level: 'debug' }, flags: { radio: true }, limits: { search_per_second: 10 } },
    });
    expect(live.current.sha).toMatch(/^[0-9a-f]{12}$/);
    expect(logger.log).toHaveBeenCalledWith(expect.stringContaining(`live config v1 from ${volume.file}`), 'LiveConfig');
  });

  it('uses the defaults without a file, and reloading changes nothing', () => {
    live = LiveConfig.start({ schema, file: undefined, logger });
    expect(live.current).toEqual({
      version: 1,
      sha: 'defaults',
      values: { log: {}, tracing: {}, flags: {}, limits: { search_per_second: 10 } },
    });
    expect(live.reload('signal')).toBe('unchanged');
  });

  it('refuses to start on an invalid or unreadable file, naming every problem', () => {
    volume.write('log:\n  level: loud\nlimits:\n  search_per_second: -1\n  serach: 3\n');
    const start = () => LiveConfig.start({ schema, file: volume.file, logger });
    expect(start).toThrow(ConfigError);
    expect(start).toThrow(/log\.level[\s\S]*limits\.search_per_second[\s\S]*serach/);
    expect(() => LiveConfig.start({ schema, file: path.join(dir, 'missing.yaml'), logger })).toThrow(/cannot be read \(ENOENT\)/);
  });

  it('applies a ConfigMap update on its own, as one new version, telling listeners what changed', async () => {
    volume.write('limits:\n  search_per_second: 10\n');
    live = LiveConfig.start({ schema, file: volume.file, logger });
    const seen: { version: number; changes: readonly string[]; previous: number }[] = [];
    live.onChange((next, previous, changes) =>
      seen.push({ version: next.version, previous: previous.values.limits.search_per_second, changes }),
    );

    volume.write('limits:\n  search_per_second: 25\nflags:\n  radio: true\n');
    await vi.waitFor(() => expect(live?.current.version).toBe(2), { timeout: 5_000, interval: 20 });
    expect(live.current.values.limits.search_per_second).toBe(25);
    expect(seen).toEqual([{ version: 2, previous: 10, changes: ['flags.radio: unset → true', 'limits.search_per_second: 10 → 25'] }]);
    expect(logger.log).toHaveBeenLastCalledWith(
      expect.stringMatching(
        /^live config v2 applied \(file, [0-9a-f]{12}\): flags\.radio: unset → true, limits\.search_per_second: 10 → 25$/,
      ),
      'LiveConfig',
    );
  });

  it('keeps the last good version when a change is invalid, says why, and takes the next valid one', () => {
    volume.write('limits:\n  search_per_second: 10\n');
    live = LiveConfig.start({ schema, file: volume.file, logger });
    const results: string[] = [];
    live.onReload((result) => results.push(result));

    volume.write('limits:\n  search_per_second: ten\n');
    expect(live.reload('signal')).toBe('rejected');
    volume.write('limits: [unclosed\n');
    expect(live.reload('signal')).toBe('rejected');
    expect(live.current).toMatchObject({ version: 1, values: { limits: { search_per_second: 10 } } });
    expect(live.stats).toMatchObject({ version: 1, inUse: false, reloads: { applied: 0, rejected: 2 } });
    expect(logger.warn.mock.calls.map(([message]) => message as string)).toEqual([
      expect.stringMatching(/refused \(signal\), still on v1: limits\.search_per_second: .*number/),
      expect.stringMatching(/refused \(signal\), still on v1: is not valid YAML or JSON/),
    ]);

    volume.write('{"limits": {"search_per_second": 40}}');
    expect(live.reload('poll')).toBe('applied');
    expect(live.reload('poll')).toBe('unchanged');
    expect(live.current).toMatchObject({ version: 2, values: { limits: { search_per_second: 40 } } });
    expect(live.stats).toMatchObject({ version: 2, inUse: true, reloads: { applied: 1, unchanged: 1, rejected: 2 } });
    expect(results).toEqual(['rejected', 'rejected', 'applied', 'unchanged']);
  });

  it('reloads on SIGHUP, and no longer once closed', () => {
    volume.write('flags:\n  radio: false\n');
    live = LiveConfig.start({ schema, file: volume.file, logger });
    volume.write('flags:\n  radio: true\n');
    process.emit('SIGHUP', 'SIGHUP');
    expect(live.current).toMatchObject({ version: 2, values: { flags: { radio: true } } });
    live.close();
    volume.write('flags:\n  radio: false\n');
    process.emit('SIGHUP', 'SIGHUP');
    expect(live.current.version).toBe(2);
  });

  it('ends up on the last of a burst of updates', async () => {
    volume.write('limits:\n  search_per_second: 1\n');
    live = LiveConfig.start({ schema, file: volume.file, logger, pollMs: 1_000 });
    for (let n = 2; n <= 30; n++) volume.write(`limits:\n  search_per_second: ${n}\n`);
    await vi.waitFor(() => expect(live?.current.values.limits.search_per_second).toBe(30), { timeout: 5_000, interval: 20 });
    expect(live.stats.reloads.rejected).toBe(0);
  });
});

describe("the services' live config files in the Kubernetes base", () => {
  it.each(['auth', 'metadata', 'playback-queue', 'recommendation'])('%s: valid', (app) => {
    const file = fileURLToPath(new URL(`../../../deploy/k8s/base/${app}/live.yaml`, import.meta.url));
    const live = LiveConfig.start({ schema: liveConfigSchema, file, logger: { log: () => undefined, warn: () => undefined } });
    expect(live.current.values).toEqual({ log: {}, tracing: {}, flags: {} });
    live.close();
  });
});

describe('differences', () => {
  it('lists each changed leaf once, by dotted path', () => {
    expect(differences({ a: { b: 1, c: [1, 2] }, d: 'x' }, { a: { b: 2, c: [1, 2] }, e: true })).toEqual([
      'a.b: 1 → 2',
      'd: "x" → unset',
      'e: unset → true',
    ]);
  });
});
