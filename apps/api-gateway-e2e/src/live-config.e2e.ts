import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startSuite, type RunningSuite } from './suite-fixture.js';

/** The value of an unlabelled sample in Prometheus text, or undefined. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('live config: a mounted file changes a running gateway without a restart', () => {
  let running: RunningSuite;
  let dir: string;
  let generation = 0;

  // Written as the kubelet updates a ConfigMap volume: a new folder, then one rename of `..data`.
  const publish = (text: string): void => {
    const version = path.join(dir, `..v${++generation}`);
    mkdirSync(version);
    writeFileSync(path.join(version, 'gateway.yaml'), text);
    symlinkSync(path.basename(version), path.join(dir, '..data_tmp'));
    renameSync(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
    if (generation === 1) symlinkSync('..data/gateway.yaml', path.join(dir, 'gateway.yaml'));
  };
  const metrics = async (): Promise<string> => (await fetch(running.suite.metricsUrl('api-gateway'))).text();
  const accessLines = (): number =>
    running.output.filter((line) => line.startsWith('[api-gateway]') && line.includes('"context":"Access"')).length;
  const requests = async (count: number): Promise<void> => {
    for (let i = 0; i < count; i++) expect((await fetch(`${running.baseUrl}/health/live`)).status).toBe(200);
  };

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'overture-live-'));
    publish('log:\n  level: info\naccess_log:\n  sample_ratio: 0\n');
    running = await startSuite(inject('postgresServerUrl'), {
      demoTracks: 50,
      extraEnv: { 'api-gateway': { LIVE_CONFIG_FILE: path.join(dir, 'gateway.yaml'), LIVE_CONFIG_POLL_MS: '60000', LOG_LEVEL: 'info' } },
    });
  });

  afterAll(async () => {
    await running?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a valid change as the next version, refuses an invalid one while staying ready, and reloads on SIGHUP', async () => {
    expect(sample(await metrics(), 'overture_live_config_version')).toBe(1);
    const before = accessLines();
    await requests(20);
    expect(accessLines()).toBe(before);

    // Every access line from now on: the sampling ratio changed in the running process.
    publish('log:\n  level: info\naccess_log:\n  sample_ratio: 1\n');
    await vi.waitFor(async () => expect(sample(await metrics(), 'overture_live_config_version')).toBe(2), {
      timeout: 10_000,
      interval: 100,
    });
    expect(
      running.output.some((line) => line.includes('live config v2 applied (file') && line.includes('access_log.sample_ratio: 0 → 1')),
    ).toBe(true);
    const sampled = accessLines();
    await requests(5);
    await vi.waitFor(() => expect(accessLines()).toBe(sampled + 5), { timeout: 5_000, interval: 50 });

    // A typo is refused: the old version stays in use, readiness is untouched.
    publish('log:\n  levle: warn\naccess_log:\n  sample_ratio: 1\n');
    await vi.waitFor(async () => expect(sample(await metrics(), 'overture_live_config_file_in_use')).toBe(0), {
      timeout: 10_000,
      interval: 100,
    });
    const text = await metrics();
    expect(sample(text, 'overture_live_config_version')).toBe(2);
    expect(sample(text, 'overture_live_config_reloads_total', '{result="rejected"}')).toBeGreaterThanOrEqual(1);
    expect(running.output.some((line) => line.includes('live config change refused') && line.includes('levle'))).toBe(true);
    expect((await fetch(`${running.baseUrl}/health/ready`)).status).toBe(200);

    // SIGHUP re-reads the file: here a valid one that raises the log level above info.
    const file = path.join(dir, '..data', 'gateway.yaml');
    writeFileSync(`${file}.new`, 'log:\n  level: warn\naccess_log:\n  sample_ratio: 1\n');
    renameSync(`${file}.new`, file);
    running.suite.processes.get('api-gateway')?.kill('SIGHUP');
    await vi.waitFor(async () => expect(sample(await metrics(), 'overture_live_config_version')).toBe(3), {
      timeout: 10_000,
      interval: 100,
    });
    expect(sample(await metrics(), 'overture_live_config_file_in_use')).toBe(1);
    const quiet = accessLines();
    await requests(10);
    expect(accessLines()).toBe(quiet);
    expect(running.suite.processes.has('api-gateway')).toBe(true);
  });
});
