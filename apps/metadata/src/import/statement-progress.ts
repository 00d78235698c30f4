import type { ClientBase } from 'pg';
import { formatSeconds } from './progress-bar.js';

/** What PostgreSQL reports of a maintenance statement while it runs: its phase and, where the phase has a measure, how far it is. */
export interface StatementProgress {
  phase: string;
  /** 0…1; absent in phases PostgreSQL gives no measure for (sorting, say). */
  fraction?: number;
}

/**
 * The progress of an index build, vacuum or analyze run by the backend `$1`, from PostgreSQL's
 * progress views (a backend runs one at a time). A parallel build reports through its leader.
 */
const PROGRESS_SQL = `
  SELECT phase,
         CASE WHEN phase LIKE '%scanning table%' THEN blocks_done::float8 / nullif(blocks_total, 0)
              WHEN phase LIKE '%loading tuples%' THEN tuples_done::float8 / nullif(tuples_total, 0) END AS fraction
    FROM pg_stat_progress_create_index WHERE pid = $1
  UNION ALL
  SELECT phase,
         CASE WHEN phase = 'scanning heap' THEN heap_blks_scanned::float8 / nullif(heap_blks_total, 0)
              WHEN phase = 'vacuuming heap' THEN heap_blks_vacuumed::float8 / nullif(heap_blks_total, 0) END
    FROM pg_stat_progress_vacuum WHERE pid = $1
  UNION ALL
  SELECT 'analyzing: ' || phase, sample_blks_scanned::float8 / nullif(sample_blks_total, 0)
    FROM pg_stat_progress_analyze WHERE pid = $1`;

/** What PostgreSQL reports of the statement backend `pid` runs; undefined when it runs none it reports on. */
export async function statementProgress(monitor: ClientBase, pid: number): Promise<StatementProgress | undefined> {
  const row = (await monitor.query<{ phase: string; fraction: number | null }>(PROGRESS_SQL, [pid])).rows[0];
  return row && { phase: row.phase, ...(row.fraction === null ? {} : { fraction: row.fraction }) };
}

/** `tracks: scanning heap 42%`. */
export function describeProgress(label: string, progress: StatementProgress): string {
  const share = progress.fraction === undefined ? '' : ` ${Math.floor(Math.min(1, Math.max(0, progress.fraction)) * 100)}%`;
  return `${label}: ${progress.phase}${share}`;
}

/**
 * The end of a bulk load, shown while it runs: a line as each step starts and ends, and meanwhile
 * what PostgreSQL reports of the step's statement (phase, share done, time so far), redrawn in
 * place on a terminal and written as a line every 5 s otherwise, like the loading's progress bar.
 * At 10M tracks these steps take minutes (the postings' index alone 4–6) after the bar has finished.
 */
export class StepDisplay {
  private running: { pid: number; label: string; started: number } | undefined;
  private inPlace = false;
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly poll: (pid: number) => Promise<StatementProgress | undefined>,
    private readonly interval = out.isTTY ? 1_000 : 5_000,
  ) {}

  /** A whole line, below the progress line (which is cleared first on a terminal). */
  say(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** Runs `work`, a statement of backend `pid`, showing its progress under `label` while it lasts; one at a time. */
  async during<T>(pid: number, label: string, work: () => Promise<T>): Promise<T> {
    const step = { pid, label, started: Date.now() };
    this.running = step;
    this.timer ??= setInterval(() => void this.draw(), this.interval);
    try {
      return await work();
    } finally {
      if (this.running === step) this.stop();
    }
  }

  stop(): void {
    this.running = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
    this.clear();
  }

  private async draw(): Promise<void> {
    const step = this.running;
    if (this.polling || !step) return;
    this.polling = true;
    try {
      const progress = await this.poll(step.pid);
      // The step may have ended while PostgreSQL was asked.
      if (this.running !== step) return;
      const line = `  ${progress ? describeProgress(step.label, progress) : step.label} (${formatSeconds((Date.now() - step.started) / 1000)})`;
      if (this.out.isTTY) {
        this.out.write(`\r${line}\x1b[K`);
        this.inPlace = true;
      } else {
        this.out.write(`${line}\n`);
      }
    } catch {
      // Progress is a courtesy: a failed poll (the monitor connection gone) leaves the steps alone.
    } finally {
      this.polling = false;
    }
  }

  private clear(): void {
    if (!this.inPlace) return;
    this.out.write('\r\x1b[K');
    this.inPlace = false;
  }
}
