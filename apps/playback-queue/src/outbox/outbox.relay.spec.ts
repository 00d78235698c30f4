import { Logger } from '@nestjs/common';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DELIVERED_RETENTION_MS, MAX_BACKOFF_MS, OutboxRelay, PURGE_INTERVAL_MS, PURGE_LIMIT } from './outbox.relay.js';
import type { OutboxEntry, OutboxLease } from './outbox.repository.js';
import type { PlayEventPayload } from './play-event-payload.js';
import { type OutgoingPlayEvent, PlayEventSink, PlayEventsRefused } from './play-event-sink.js';

const POLL_MS = 500;

// Runs the timers due in the next few milliseconds, and those they schedule in turn, with the
// promise callbacks in between.
const settle = () => vi.advanceTimersByTimeAsync(5);

function payload(n: number): PlayEventPayload {
  return {
    event_id: `event-${n}`,
    user_id: 'user',
    track_id: `track-${n}`,
    kind: 'play',
    played_ms: 30_000,
    occurred_at: '2026-05-01T12:00:00.000Z',
  };
}

/** An in-memory outbox behind the relay lock; `leader` says whether this replica may take the lock. */
class FakeOutbox {
  leader = true;
  leads = 0;
  releases = 0;
  failNextQuery = false;
  /** Each purge the relay asked for: [olderThanMs, limit]. */
  readonly purges: [number, number][] = [];
  readonly entries: (OutboxEntry & { delivered: boolean; refused?: string })[] = [];

  add(count: number): void {
    for (let i = 0; i < count; i++) {
      const seq = this.entries.length + 1;
      this.entries.push({
        seq,
        payload: payload(seq),
        traceparent: `00-${'a'.repeat(24)}${String(seq).padStart(8, '0')}-${'b'.repeat(16)}-01`,
        delivered: false,
      });
    }
  }

  get undelivered(): number {
    return this.entries.filter((e) => !e.delivered).length;
  }

  async tryLead(): Promise<OutboxLease | undefined> {
    this.leads++;
    if (!this.leader) return undefined;
    return {
      pending: async (limit) => {
        this.throwIfFailing();
        return this.entries
          .filter((e) => !e.delivered)
          .slice(0, limit)
          .map(({ seq, payload, traceparent }) => ({ seq, payload, traceparent }));
      },
      markDelivered: async (seqs) => {
        this.throwIfFailing();
        for (const e of this.entries) if (seqs.includes(e.seq)) e.delivered = true;
      },
      markRefused: async (seq, reason) => {
        this.throwIfFailing();
        for (const e of this.entries) if (e.seq === seq) Object.assign(e, { delivered: true, refused: reason });
      },
      purgeDelivered: async (olderThanMs, limit) => {
        this.throwIfFailing();
        this.purges.push([olderThanMs, limit]);
        return 0;
      },
      release: async () => {
        this.releases++;
      },
    };
  }

  private throwIfFailing(): void {
    if (!this.failNextQuery) return;
    this.failNextQuery = false;
    throw new Error('connection terminated');
  }
}

class FakeSink extends PlayEventSink {
  readonly batches: string[][] = [];
  readonly traceparents: (string | undefined)[] = [];
  attempts = 0;
  failures = 0;
  /** When set, deliveries wait for it. */
  gate: Promise<void> | undefined;
  /** Event ids refused as invalid, as recommendation would refuse a malformed event. */
  readonly refuse = new Set<string>();

  async deliver(outgoing: readonly OutgoingPlayEvent[]): Promise<void> {
    this.attempts++;
    await this.gate;
    const events = outgoing.map((e) => e.payload);
    const refused = events.find((e) => this.refuse.has(e.event_id));
    if (refused) throw new PlayEventsRefused(`events[0].trackId: ${refused.track_id} is not a track id`);
    if (this.failures > 0) {
      this.failures--;
      throw Object.assign(new Error('14 UNAVAILABLE: No connection established'), { code: 14 });
    }
    this.batches.push(events.map((e) => e.event_id));
    this.traceparents.push(...outgoing.map((e) => e.traceparent));
  }
}

describe('OutboxRelay', () => {
  let outbox: FakeOutbox;
  let sink: FakeSink;
  let relay: OutboxRelay;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    outbox = new FakeOutbox();
    sink = new FakeSink();
    relay = new OutboxRelay(outbox, sink, { OUTBOX_POLL_INTERVAL_MS: POLL_MS, OUTBOX_BATCH_SIZE: 2 });
  });

  afterEach(async () => {
    await relay.beforeApplicationShutdown();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('delivers pending events in seq order, batch after batch, and marks them delivered', async () => {
    outbox.add(5);
    relay.onApplicationBootstrap();
    await settle();
    expect(sink.batches).toEqual([['event-1', 'event-2'], ['event-3', 'event-4'], ['event-5']]);
    expect(outbox.undelivered).toBe(0);
  });

  it('sends each event with the trace context stored with it', async () => {
    outbox.add(2);
    relay.onApplicationBootstrap();
    await settle();
    expect(sink.traceparents).toEqual(outbox.entries.map((e) => e.traceparent));
    expect(sink.traceparents[1]).toMatch(/^00-a{24}00000002-b{16}-01$/);
  });

  it('polls for new events every interval, and runs at once when woken after a commit', async () => {
    relay.onApplicationBootstrap();
    await settle();
    outbox.add(1);
    await vi.advanceTimersByTimeAsync(POLL_MS - 10);
    expect(sink.batches).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(sink.batches).toEqual([['event-1']]);

    outbox.add(1);
    relay.wake();
    await settle();
    expect(sink.batches).toEqual([['event-1'], ['event-2']]);
  });

  it('keeps events while delivery fails, backing off, then delivers each once', async () => {
    outbox.add(2);
    sink.failures = 4;
    relay.onApplicationBootstrap();
    await settle();
    expect(sink.attempts).toBe(1);
    expect(outbox.undelivered).toBe(2);

    // A wake while backing off does not bypass the backoff.
    relay.wake();
    await settle();
    expect(sink.attempts).toBe(1);

    await vi.advanceTimersByTimeAsync(10 * MAX_BACKOFF_MS);
    expect(sink.attempts).toBe(5);
    expect(sink.batches).toEqual([['event-1', 'event-2']]);
    expect(outbox.undelivered).toBe(0);
    // Delivery trouble is not database trouble: the lease was kept throughout.
    expect(outbox.leads).toBe(1);
  });

  it('sets aside an event recommendation refuses as invalid and goes on with the ones after it, in order', async () => {
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    outbox.add(5);
    sink.refuse.add('event-2');
    relay.onApplicationBootstrap();
    await settle();
    // The refused batch went again event by event: event-1 was delivered, event-2 set aside.
    expect(sink.batches).toEqual([['event-1'], ['event-3', 'event-4'], ['event-5']]);
    expect(outbox.entries.map((e) => [e.delivered, e.refused])).toEqual([
      [true, undefined],
      [true, 'events[0].trackId: track-2 is not a track id'],
      [true, undefined],
      [true, undefined],
      [true, undefined],
    ]);
    expect(Logger.prototype.error).toHaveBeenCalledWith(expect.stringContaining('event-2'));
  });

  it('purges events delivered more than a day ago, once a minute', async () => {
    relay.onApplicationBootstrap();
    await settle();
    expect(outbox.purges).toEqual([[DELIVERED_RETENTION_MS, PURGE_LIMIT]]);
    await vi.advanceTimersByTimeAsync(PURGE_INTERVAL_MS - POLL_MS);
    expect(outbox.purges).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(outbox.purges).toHaveLength(2);
  });

  it('stays on standby while another replica holds the relay lock', async () => {
    outbox.add(1);
    outbox.leader = false;
    relay.onApplicationBootstrap();
    await vi.advanceTimersByTimeAsync(3 * POLL_MS);
    expect(outbox.leads).toBe(4);
    expect(sink.attempts).toBe(0);

    outbox.leader = true;
    await vi.advanceTimersByTimeAsync(POLL_MS);
    expect(sink.batches).toEqual([['event-1']]);
  });

  it('gives up the lease when a query on it fails and takes it again', async () => {
    outbox.add(1);
    outbox.failNextQuery = true;
    relay.onApplicationBootstrap();
    await settle();
    expect(outbox.releases).toBe(1);
    expect(sink.attempts).toBe(0);

    await vi.advanceTimersByTimeAsync(MAX_BACKOFF_MS);
    expect(outbox.leads).toBe(2);
    expect(sink.batches).toEqual([['event-1']]);
  });

  it('finishes the delivery in flight on shutdown, then releases the lease and does no more work', async () => {
    outbox.add(3);
    let open: () => void = () => undefined;
    sink.gate = new Promise((resolve) => (open = resolve));
    relay.onApplicationBootstrap();
    await settle();
    expect(sink.attempts).toBe(1);

    let stopped = false;
    const stopping = relay.beforeApplicationShutdown().then(() => (stopped = true));
    await settle();
    expect(stopped).toBe(false);
    open();
    await stopping;
    expect(outbox.entries.map((e) => e.delivered)).toEqual([true, true, false]);
    expect(outbox.releases).toBe(1);

    relay.wake();
    await vi.advanceTimersByTimeAsync(10 * MAX_BACKOFF_MS);
    expect(sink.attempts).toBe(1);
    expect(outbox.leads).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});
