import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from './load-config.js';

/** One applied version of the live config. */
export interface LiveSnapshot<T> {
  /** 1 for the config read at start, then one more for each change applied. */
  readonly version: number;
  /** The first 12 hex digits of the file's SHA-256 ("defaults" without a file). */
  readonly sha: string;
  readonly values: T;
}

export type ReloadTrigger = 'start' | 'file' | 'signal' | 'poll';
export type ReloadResult = 'applied' | 'unchanged' | 'rejected';

/** What reloads did so far, for metrics. */
export interface LiveConfigStats {
  readonly version: number;
  readonly reloads: Readonly<Record<ReloadResult, number>>;
  /** When a reload last applied or confirmed the file (ms since the epoch); 0 before any. */
  readonly lastSuccessAt: number;
  /** Whether the file on disk is the one in use (false after a rejected change). */
  readonly inUse: boolean;
}

export interface LiveConfigLogger {
  log(message: string, context?: string): void;
  warn(message: string, context?: string): void;
}

export interface LiveConfigOptions<S extends z.ZodType> {
  /** Validates the whole file; its defaults fill what the file leaves out. */
  schema: S;
  /** A YAML or JSON file (e.g. a key of a ConfigMap volume); unset, the schema's defaults apply for good. */
  file: string | undefined;
  logger: LiveConfigLogger;
  /** Re-read the file this often too, in case a change raised no file event (0: never). */
  pollMs?: number;
}

type Listener<T> = (next: LiveSnapshot<T>, previous: LiveSnapshot<T>, changes: readonly string[]) => void;

// A ConfigMap volume swaps a `..data` symlink when it changes, so the file's own inode never
// changes; events of the folder are gathered for this long before the file is read once.
const SETTLE_MS = 100;

/**
 * Settings a process takes while it runs (limits, weights, flags, log level, sampling), from a
 * mounted file: read and validated at start (an invalid file stops the start, as invalid
 * environment does), then re-read when the file's folder changes (a ConfigMap volume's atomic
 * symlink swap included), on SIGHUP and every `pollMs`. A valid change replaces the snapshot in
 * one assignment, so a reader sees all of one version or all of the next, is logged with its
 * version and what changed, and is passed to listeners. An invalid change is logged with every
 * problem and refused: the last good snapshot stays, and readiness is not touched.
 */
export class LiveConfig<S extends z.ZodType> {
  private snapshot: LiveSnapshot<z.output<S>>;
  private readonly listeners = new Set<Listener<z.output<S>>>();
  private readonly reloadListeners = new Set<(result: ReloadResult) => void>();
  private readonly counts: Record<ReloadResult, number> = { applied: 0, unchanged: 0, rejected: 0 };
  private lastSuccessAt = 0;
  private inUse = true;
  private watcher: FSWatcher | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private readonly onSignal = (): void => void this.reload('signal');

  private constructor(private readonly options: LiveConfigOptions<S>) {
    const first = this.read();
    if (!first.ok) throw new ConfigError(first.problems.map((problem) => `${options.file ?? 'live config'}: ${problem}`));
    this.snapshot = { version: 1, sha: first.sha, values: first.values };
    this.lastSuccessAt = Date.now();
  }

  /**
   * Reads the file (throwing ConfigError when it is unreadable or invalid) and starts following it.
   * Without a file, the schema's defaults apply and nothing is followed.
   */
  static start<S extends z.ZodType>(options: LiveConfigOptions<S>): LiveConfig<S> {
    const live = new LiveConfig(options);
    live.follow();
    const source = options.file ? `from ${options.file} (${live.snapshot.sha})` : '(defaults: LIVE_CONFIG_FILE is not set)';
    options.logger.log(`live config v1 ${source}`, 'LiveConfig');
    return live;
  }

  get current(): LiveSnapshot<z.output<S>> {
    return this.snapshot;
  }

  get stats(): LiveConfigStats {
    return { version: this.snapshot.version, reloads: { ...this.counts }, lastSuccessAt: this.lastSuccessAt, inUse: this.inUse };
  }

  /** Calls `listener` after each change applied; returns a function that stops it. */
  onChange(listener: Listener<z.output<S>>): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with the result of every reload (for metrics). */
  onReload(listener: (result: ReloadResult) => void): void {
    this.reloadListeners.add(listener);
  }

  /** Reads the file again now; what the file events, SIGHUP and the poll call. */
  reload(trigger: Exclude<ReloadTrigger, 'start'>): ReloadResult {
    const result = this.reloadNow(trigger);
    for (const listener of this.reloadListeners) listener(result);
    return result;
  }

  private reloadNow(trigger: Exclude<ReloadTrigger, 'start'>): ReloadResult {
    if (!this.options.file) return 'unchanged';
    const read = this.read();
    if (!read.ok) {
      this.counts.rejected++;
      this.inUse = false;
      this.options.logger.warn(
        `live config change refused (${trigger}), still on v${this.snapshot.version}: ${read.problems.join('; ')}`,
        'LiveConfig',
      );
      return 'rejected';
    }
    this.lastSuccessAt = Date.now();
    this.inUse = true;
    if (read.sha === this.snapshot.sha) {
      this.counts.unchanged++;
      return 'unchanged';
    }
    const previous = this.snapshot;
    const next = { version: previous.version + 1, sha: read.sha, values: read.values };
    const changes = differences(previous.values, next.values);
    this.snapshot = next;
    this.counts.applied++;
    this.options.logger.log(
      `live config v${next.version} applied (${trigger}, ${next.sha}): ${changes.length > 0 ? changes.join(', ') : 'no setting changed'}`,
      'LiveConfig',
    );
    for (const listener of this.listeners) {
      try {
        listener(next, previous, changes);
      } catch (error) {
        this.options.logger.warn(`a live config listener failed: ${error instanceof Error ? error.message : String(error)}`, 'LiveConfig');
      }
    }
    return 'applied';
  }

  /** Stops following the file and SIGHUP. */
  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.settleTimer);
    clearInterval(this.pollTimer);
    process.off('SIGHUP', this.onSignal);
  }

  private follow(): void {
    const file = this.options.file;
    if (!file) return;
    process.on('SIGHUP', this.onSignal);
    try {
      this.watcher = watch(path.dirname(file), () => {
        clearTimeout(this.settleTimer);
        this.settleTimer = setTimeout(() => void this.reload('file'), SETTLE_MS);
        this.settleTimer.unref();
      });
      this.watcher.on('error', () => this.watcher?.close());
      this.watcher.unref();
    } catch {
      // No file events here (some volume types): the poll still picks changes up.
    }
    const pollMs = this.options.pollMs ?? 0;
    if (pollMs > 0) {
      this.pollTimer = setInterval(() => void this.reload('poll'), pollMs);
      this.pollTimer.unref();
    }
  }

  private read(): { ok: true; sha: string; values: z.output<S> } | { ok: false; problems: string[] } {
    const file = this.options.file;
    let text = '';
    if (file) {
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        return { ok: false, problems: [`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`] };
      }
    }
    let raw: unknown;
    try {
      raw = text.trim() === '' ? {} : (parseYaml(text) as unknown);
    } catch (error) {
      return { ok: false, problems: [`is not valid YAML or JSON: ${(error as Error).message.split('\n')[0]}`] };
    }
    const result = this.options.schema.safeParse(raw ?? {});
    if (!result.success) {
      return { ok: false, problems: result.error.issues.map((issue) => `${issue.path.join('.') || '(file)'}: ${issue.message}`) };
    }
    const sha = file ? createHash('sha256').update(text).digest('hex').slice(0, 12) : 'defaults';
    return { ok: true, sha, values: result.data };
  }
}

/** `path: before → after` for every leaf that differs, dotted paths in a stable order. */
export function differences(before: unknown, after: unknown): string[] {
  const left = leaves(before);
  const right = leaves(after);
  const keys = [...new Set([...left.keys(), ...right.keys()])].sort();
  return keys
    .filter((key) => left.get(key) !== right.get(key))
    .map((key) => `${key}: ${left.get(key) ?? 'unset'} → ${right.get(key) ?? 'unset'}`);
}

function leaves(value: unknown, prefix = '', into = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) leaves(child, prefix ? `${prefix}.${key}` : key, into);
  } else if (prefix) {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

/**
 * LiveConfig.start for a process entry point: an unreadable or invalid file at start prints every
 * problem and exits with status 78 (EX_CONFIG), as invalid environment does.
 */
export function startLiveConfigOrExit<S extends z.ZodType>(options: LiveConfigOptions<S>, appName: string): LiveConfig<S> {
  try {
    return LiveConfig.start(options);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${appName}: ${error.message}\n`);
      process.exit(78);
    }
    throw error;
  }
}
