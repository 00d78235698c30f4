// A constant-rate mixed load, open model: request i is due at start + i/rate whatever the earlier
// ones are doing, and its latency counts from when it was due, so a stall shows as latency instead
// of as fewer requests (no coordinated omission).
import { randomUUID } from 'node:crypto';
import type { Answer, Attempt, DrillClient, RequestSpec } from './client.ts';
import type { ChangeKind, PushWatcher } from './push-watcher.ts';

export type OpKind = 'track' | 'search' | 'recommendations' | 'queue-add' | 'next' | 'progress';

/** Shares of the mix, out of 100: catalogue reads, recommendations, queue and player writes, heartbeats. */
export const MIX: Readonly<Record<OpKind, number>> = {
  track: 30,
  search: 15,
  recommendations: 10,
  'queue-add': 15,
  next: 10,
  progress: 20,
};

export interface Track {
  id: string;
  duration_ms: number;
}

/** A listener with a WebSocket device ("speaker"), whose queue and player the load changes from "phone". */
export interface WatchedListener {
  userId: string;
  token: string;
  watcher: PushWatcher;
}

/** A listener playing on "car" who sends progress heartbeats. */
export interface PlayingListener {
  userId: string;
  token: string;
  queueItemId: string;
  durationMs: number;
  since: number;
}

/** A write the gateway answered 2xx: what must be in the databases at the end. */
/** A write as the load sends it: the writer's token and a new Idempotency-Key are added. */
type WriteSpec = Omit<RequestSpec, 'token' | 'idempotencyKey'>;

export interface AckedWrite {
  phase: string;
  kind: OpKind;
  userId: string;
  idempotencyKey: string;
  /** A queue item the write created. */
  queueItemId?: string;
  /** The queue's or the player's version after the write. */
  version?: { kind: ChangeKind; value: number };
  /** When the answer came (performance.now()). */
  ackedAt: number;
}

export interface RequestRecord {
  phase: string;
  kind: OpKind;
  dueAt: number;
  endedAt: number;
  ok: boolean;
  status: number;
  reason: string;
  attempts: Attempt[];
}

/** Where the load goes and who it acts for. */
export interface LoadTargets {
  client: DrillClient;
  tracks: readonly Track[];
  searchWords: readonly string[];
  watched: readonly WatchedListener[];
  playing: readonly PlayingListener[];
}

interface QueueAnswer {
  version: number;
  items: { queue_item_id: string }[];
}
interface StateAnswer {
  version: number;
}
interface ProgressAnswer {
  applied: boolean;
  version: number;
}

/** The kinds in a fixed order that gives each its share over every 100 requests (smooth weighted round robin). */
function schedule(): OpKind[] {
  const kinds = Object.keys(MIX) as OpKind[];
  const current = new Map<OpKind, number>(kinds.map((k) => [k, 0]));
  const order: OpKind[] = [];
  for (let i = 0; i < 100; i++) {
    for (const k of kinds) current.set(k, (current.get(k) ?? 0) + MIX[k]);
    const pick = kinds.reduce((best, k) => ((current.get(k) ?? 0) > (current.get(best) ?? 0) ? k : best));
    current.set(pick, (current.get(pick) ?? 0) - 100);
    order.push(pick);
  }
  return order;
}

export class OpenLoad {
  readonly records: RequestRecord[] = [];
  readonly acked: AckedWrite[] = [];
  /** Requests started and not finished (answered or given up): the in-flight count at a fault. */
  inFlight = 0;
  phase = 'setup';
  private readonly order = schedule();
  private readonly turns = new Map<OpKind, number>();
  private stopped = false;
  private readonly pending = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;

  private readonly targets: LoadTargets;
  private readonly rate: number;

  constructor(targets: LoadTargets, rate: number) {
    this.targets = targets;
    this.rate = rate;
  }

  start(): void {
    const startAt = performance.now() + 20;
    this.loop = (async () => {
      for (let i = 0; !this.stopped; i++) {
        const dueAt = startAt + (i * 1_000) / this.rate;
        const wait = dueAt - performance.now();
        if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
        if (this.stopped) break;
        const kind = this.order[i % this.order.length] as OpKind;
        const request = this.run(kind, i, dueAt).finally(() => this.pending.delete(request));
        this.pending.add(request);
      }
    })();
  }

  /** Stops scheduling and waits for every request to be answered or given up. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await Promise.all([...this.pending]);
  }

  private async run(kind: OpKind, i: number, dueAt: number): Promise<void> {
    const phase = this.phase;
    this.inFlight++;
    try {
      const answer = await this.send(kind, i, dueAt, phase);
      this.records.push({
        phase,
        kind,
        dueAt,
        endedAt: performance.now(),
        ok: answer.ok,
        status: answer.status,
        reason: answer.reason,
        attempts: answer.attempts,
      });
    } finally {
      this.inFlight--;
    }
  }

  /**
   * The how-manieth request of `kind` this is: writes go round robin over the listeners per kind,
   * so every listener gets adds and skips in the mix's ratio and no queue runs out of tracks.
   */
  private turn(kind: OpKind): number {
    const n = this.turns.get(kind) ?? 0;
    this.turns.set(kind, n + 1);
    return n;
  }

  private pick<T>(list: readonly T[], i: number): T {
    return list[i % list.length] as T;
  }

  /** Sends a write under a new Idempotency-Key and, when it is acknowledged, records it for the durability check. */
  private async write<T>(
    kind: OpKind,
    phase: string,
    user: { token: string; userId: string },
    request: WriteSpec,
    dueAt: number,
    written: (body: T) => Pick<AckedWrite, 'queueItemId' | 'version'>,
  ): Promise<Answer<T>> {
    const idempotencyKey = randomUUID();
    const answer = await this.targets.client.send<T>({ ...request, token: user.token, idempotencyKey }, dueAt);
    if (answer.ok) {
      this.acked.push({ phase, kind, userId: user.userId, idempotencyKey, ...written(answer.body), ackedAt: performance.now() });
    }
    return answer;
  }

  private async send(kind: OpKind, i: number, dueAt: number, phase: string): Promise<Answer<unknown>> {
    const { client, tracks, watched, playing, searchWords } = this.targets;
    const track = this.pick(tracks, i * 7);
    switch (kind) {
      case 'track':
        return client.send({ method: 'GET', path: `/v1/tracks/${track.id}`, token: this.pick(playing, i).token }, dueAt);
      case 'search':
        return client.send(
          {
            method: 'GET',
            path: `/v1/search?q=${encodeURIComponent(this.pick(searchWords, i))}&limit=10`,
            token: this.pick(playing, i).token,
          },
          dueAt,
        );
      case 'recommendations':
        return client.send({ method: 'GET', path: '/v1/recommendations?limit=10', token: this.pick(playing, i).token }, dueAt);
      case 'queue-add': {
        const user = this.pick(watched, this.turn(kind));
        const request: WriteSpec = {
          method: 'POST',
          path: '/v1/me/player/queue',
          body: { track_ids: [track.id] },
          headers: { 'x-device-id': 'phone' },
        };
        // Added at the end, and the answer is the queue as the write left it.
        return this.write<QueueAnswer>(kind, phase, user, request, dueAt, (body) => ({
          queueItemId: body.items.at(-1)?.queue_item_id,
          version: { kind: 'queue', value: body.version },
        }));
      }
      case 'next': {
        const user = this.pick(watched, this.turn(kind));
        const request: WriteSpec = { method: 'POST', path: '/v1/me/player/next', body: { device_id: 'phone' } };
        return this.write<StateAnswer>(kind, phase, user, request, dueAt, (body) => ({ version: { kind: 'state', value: body.version } }));
      }
      case 'progress': {
        const user = this.pick(playing, this.turn(kind));
        const now = Date.now();
        // Somewhere in the track, moving on with time; a late report is answered as stale, not refused.
        const position = (now - user.since) % Math.max(1_000, user.durationMs - 5_000);
        const body = {
          device_id: 'car',
          queue_item_id: user.queueItemId,
          position_ms: position,
          is_playing: true,
          client_timestamp_ms: now,
        };
        const request: WriteSpec = { method: 'POST', path: '/v1/me/player/progress', body };
        return this.write<ProgressAnswer>(kind, phase, user, request, dueAt, (answer) => ({
          version: answer.applied ? { kind: 'state', value: answer.version } : undefined,
        }));
      }
    }
  }
}
