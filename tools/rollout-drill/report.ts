// The drill's figures per phase, and the Markdown table of them.
import { percentile } from '../suite/stats.ts';
import type { AckedWrite, RequestRecord } from './load.ts';
import type { PushWatcher } from './push-watcher.ts';

/** A moment something was done to a process: requests in flight then may fail (the allowance). */
export interface Fault {
  at: number;
  what: string;
  /** Requests started and not yet answered at that moment. */
  inFlight: number;
}

export interface PhaseWindow {
  name: string;
  description: string;
  startedAt: number;
  endedAt: number;
  faults: Fault[];
  /** os.loadavg() when the phase ended: 1, 5 and 15 minutes. */
  loadAverage: number[];
}

export interface PhaseReport {
  phase: string;
  description: string;
  seconds: number;
  requests: number;
  ok: number;
  /** Requests with no 2xx after the client's retries. */
  failed: number;
  /** Of those, requests that were in flight at a fault (kill -9, SIGSTOP): the allowance. */
  failedInFlightAtFault: number;
  failedBeyondInFlight: number;
  /** Requests in flight at the phase's faults, summed: the bound on `failedInFlightAtFault`. */
  inFlightAtFaults: number;
  /** After retries, by "status reason" (status 0: no answer). */
  failures: Record<string, number>;
  /** Every failed attempt, retried or not, by "status reason". */
  rawFailures: Record<string, number>;
  /** Requests that needed more than one attempt. */
  retried: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  throughput: number;
  pushes: { expected: number; byPush: number; byResume: number; missed: number };
  writes: { acknowledged: number; lost: number };
  loadAverage: number[];
}

export interface LostWrite {
  write: AckedWrite;
  why: string;
}

export interface MissedPush {
  write: AckedWrite;
}

function count(into: Record<string, number>, key: string): void {
  into[key] = (into[key] ?? 0) + 1;
}

function label(status: number, reason: string): string {
  return `${status}${reason ? ` ${reason}` : ''}`;
}

/** Whether a failed request overlapped a fault: its first attempt began before it and it ended after. */
function inFlightAt(record: RequestRecord, faults: readonly Fault[]): boolean {
  const first = record.attempts[0]?.startedAt ?? record.dueAt;
  return faults.some((fault) => first <= fault.at && record.endedAt >= fault.at);
}

export function phaseReports(
  windows: readonly PhaseWindow[],
  records: readonly RequestRecord[],
  acked: readonly AckedWrite[],
  watchers: ReadonlyMap<string, PushWatcher>,
  lost: readonly LostWrite[],
): PhaseReport[] {
  const allFaults = windows.flatMap((w) => w.faults);
  return windows.map((window) => {
    const mine = records.filter((r) => r.phase === window.name);
    const failures: Record<string, number> = {};
    const rawFailures: Record<string, number> = {};
    let failedInFlightAtFault = 0;
    for (const record of mine) {
      for (const attempt of record.attempts)
        if (attempt.status < 200 || attempt.status >= 300) count(rawFailures, label(attempt.status, attempt.reason));
      if (record.ok) continue;
      count(failures, label(record.status, record.reason));
      if (inFlightAt(record, allFaults)) failedInFlightAtFault++;
    }
    const failed = mine.filter((r) => !r.ok).length;
    const latencies = mine.map((r) => r.endedAt - r.dueAt).sort((a, b) => a - b);
    const pushes = { expected: 0, byPush: 0, byResume: 0, missed: 0 };
    for (const write of acked) {
      if (write.phase !== window.name || !write.version || (write.kind !== 'queue-add' && write.kind !== 'next')) continue;
      pushes.expected++;
      const delivery = watchers.get(write.userId)?.delivery(write.version.kind, write.version.value);
      if (delivery === 'push') pushes.byPush++;
      else if (delivery === 'resume') pushes.byResume++;
      else pushes.missed++;
    }
    const seconds = (window.endedAt - window.startedAt) / 1_000;
    return {
      phase: window.name,
      description: window.description,
      seconds,
      requests: mine.length,
      ok: mine.length - failed,
      failed,
      failedInFlightAtFault,
      failedBeyondInFlight: failed - failedInFlightAtFault,
      inFlightAtFaults: window.faults.reduce((sum, f) => sum + f.inFlight, 0),
      failures,
      rawFailures,
      retried: mine.filter((r) => r.attempts.length > 1).length,
      latencyMs: {
        p50: percentile(latencies, 50),
        p95: percentile(latencies, 95),
        p99: percentile(latencies, 99),
        max: latencies.at(-1) ?? Number.NaN,
      },
      throughput: mine.length / seconds,
      pushes,
      writes: {
        acknowledged: acked.filter((w) => w.phase === window.name).length,
        lost: lost.filter((l) => l.write.phase === window.name).length,
      },
      loadAverage: window.loadAverage,
    };
  });
}

const ms = (v: number) => (Number.isFinite(v) ? v.toFixed(v < 100 ? 1 : 0) : '–');
const reasons = (map: Record<string, number>) =>
  Object.entries(map)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ×${n}`)
    .join(', ') || '–';

/** One row per phase; failures after retries, then every failed attempt, by status and reason. */
export function markdownTable(reports: readonly PhaseReport[]): string {
  const lines = [
    '| phase | s | requests | failed (beyond in flight / in flight at a fault ≤ bound) | p50 | p95 | p99 | max ms | req/s | pushes: expected / by resume / missed | writes: acked / lost | load 1m |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of reports) {
    lines.push(
      `| ${r.phase} | ${r.seconds.toFixed(0)} | ${r.requests} | ${r.failed} (${r.failedBeyondInFlight} / ${r.failedInFlightAtFault} ≤ ${r.inFlightAtFaults}) | ${ms(r.latencyMs.p50)} | ${ms(r.latencyMs.p95)} | ${ms(r.latencyMs.p99)} | ${ms(r.latencyMs.max)} | ${r.throughput.toFixed(0)} | ${r.pushes.expected} / ${r.pushes.byResume} / ${r.pushes.missed} | ${r.writes.acknowledged} / ${r.writes.lost} | ${(r.loadAverage[0] ?? Number.NaN).toFixed(2)} |`,
    );
  }
  lines.push(
    '',
    '| phase | what happened | failed after retries, by status and reason | failed attempts (retried), by status and reason |',
    '|---|---|---|---|',
  );
  for (const r of reports) lines.push(`| ${r.phase} | ${r.description} | ${reasons(r.failures)} | ${reasons(r.rawFailures)} |`);
  return lines.join('\n');
}
