import { describe, expect, it } from 'vitest';
import { SaturationMonitor } from './saturation-monitor.js';

const LIMITS = { eventLoopDelayMs: 200, eventLoopWindowMs: 1_000, poolExhaustedMs: 2_000 };

describe('SaturationMonitor', () => {
  it('turns not ready when the event loop stays late for the whole window, and ready again once it is on time', async () => {
    const monitor = new SaturationMonitor(LIMITS);
    // A simulated stall: from t=0 on, every sample comes 300 ms late.
    let now = 0;
    for (let i = 0; i < 3; i++) monitor.sample((now += 300), 300);
    expect(monitor.problem()).toBeUndefined();
    monitor.sample((now += 300), 300);
    expect(monitor.problem()).toMatch(/event loop delayed over 200 ms/);
    await expect(monitor.check()).rejects.toThrow(/event loop/);
    monitor.sample((now += 250), 2);
    expect(monitor.problem()).toBeUndefined();
    await expect(monitor.check()).resolves.toBeUndefined();
  });

  it('a short delay spike, however large its samples, is not a stall', () => {
    const monitor = new SaturationMonitor(LIMITS);
    monitor.sample(1_000, 400);
    monitor.sample(1_250, 3);
    monitor.sample(1_500, 450);
    expect(monitor.problem()).toBeUndefined();
  });

  it('one block longer than the window counts from when the sample was due', () => {
    const monitor = new SaturationMonitor(LIMITS);
    monitor.sample(5_000, 1_500);
    expect(monitor.problem()).toMatch(/event loop delayed/);
  });

  it('turns not ready when the pool has had waiters and no idle connection for the threshold, and recovers', () => {
    const pool = { idleCount: 0, waitingCount: 3 };
    const monitor = new SaturationMonitor(LIMITS, pool);
    monitor.sample(0, 0);
    monitor.sample(1_500, 0);
    expect(monitor.problem()).toBeUndefined();
    monitor.sample(2_000, 0);
    expect(monitor.problem()).toMatch(/database pool exhausted/);
    pool.waitingCount = 0;
    monitor.sample(2_250, 0);
    expect(monitor.problem()).toBeUndefined();
  });

  it('a busy pool with no one waiting is not exhausted', () => {
    const monitor = new SaturationMonitor(LIMITS, { idleCount: 0, waitingCount: 0 });
    monitor.sample(0, 0);
    monitor.sample(10_000, 0);
    expect(monitor.problem()).toBeUndefined();
  });
});
