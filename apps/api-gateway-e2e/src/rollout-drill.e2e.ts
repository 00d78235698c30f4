import { rm } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../../../tools/suite/suite.ts';
import { runDrill, SHORT_LOAD } from '../../../tools/rollout-drill/drill.ts';

describe('the rollout drill, short mode', () => {
  // Two replicas of every app behind DNS names, a small constant load with WebSocket listeners;
  // each app rolled once, one playback-queue pod killed -9, one metadata pod stalled.
  it('fails no request beyond those in flight at a kill or stall, loses no acknowledged write, misses no push', async () => {
    const lines: string[] = [];
    const outDir = path.join(ROOT, '.data', `e2e-rollout-drill-${process.pid}`);
    const result = await runDrill({
      mode: 'short',
      replicas: 2,
      ...SHORT_LOAD,
      tlsRoot: inject('grpcTlsRoot'),
      outDir,
      log: (line) => lines.push(line),
    });
    console.info(`${result.markdown}\nWebSocket: ${JSON.stringify(result.websocket)}`);
    const context = `${JSON.stringify({ lost: result.lost, missed: result.missed, faults: result.faults }, null, 1)}\n${lines.join('\n')}\nreport and app output: ${outDir}`;

    expect(result.phases.map((p) => p.phase)).toEqual([
      'baseline',
      'roll auth',
      'roll metadata',
      'roll recommendation',
      'roll playback-queue',
      'roll api-gateway',
      'kill playback-queue',
      'stall metadata',
    ]);
    for (const phase of result.phases) {
      expect(phase.requests, phase.phase).toBeGreaterThan(0);
      // A request counts as in flight at a fault when its first attempt began before the kill or
      // SIGSTOP and its last ended after it; only those may fail, at most as many as were in flight.
      expect(phase.failedBeyondInFlight, `${phase.phase}: ${JSON.stringify(phase.failures)}; ${outDir}`).toBe(0);
      expect(phase.failedInFlightAtFault, phase.phase).toBeLessThanOrEqual(phase.inFlightAtFaults);
    }
    expect(result.lost, context).toEqual([]);
    expect(result.missed, context).toEqual([]);
    // Kept when an assertion fails, for the timeline and the apps' output.
    await rm(outDir, { recursive: true, force: true });
  }, 300_000);
});
