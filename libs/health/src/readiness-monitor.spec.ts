import { describe, expect, it } from 'vitest';
import { ReadinessMonitor } from './readiness-monitor.js';

describe('ReadinessMonitor', () => {
  it('follows the check and tells listeners of each change', async () => {
    let healthy = true;
    const monitor = new ReadinessMonitor(async () => {
      if (!healthy) throw new Error('connection refused');
    });
    const changes: boolean[] = [];
    monitor.onChange((ready) => changes.push(ready));

    expect(await monitor.runCheck()).toBe(true);
    healthy = false;
    expect(await monitor.runCheck()).toBe(false);
    expect(monitor.reason).toBe('connection refused');
    healthy = true;
    expect(await monitor.runCheck()).toBe(true);
    expect(changes).toEqual([true, false, true]);
  });

  it('treats a check that hangs as not ready', async () => {
    const monitor = new ReadinessMonitor(() => new Promise<void>(() => undefined), 1_000, 20);
    expect(await monitor.runCheck()).toBe(false);
    expect(monitor.reason).toMatch(/timed out/);
  });

  it('stays not ready once draining, whatever the check says', async () => {
    const monitor = new ReadinessMonitor(async () => undefined);
    await monitor.runCheck();
    monitor.markDraining();
    expect(await monitor.runCheck()).toBe(false);
    expect(monitor.reason).toBe('shutting down');
  });
});
