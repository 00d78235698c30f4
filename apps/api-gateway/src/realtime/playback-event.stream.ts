import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PLAYBACK_V1, playbackV1 } from '@overture/contracts';
import { createGrpcClient, routeAttempt, transportSecurity, type AttemptRoute, type GrpcClientHandle } from '@overture/grpc';
import { Backoff } from '@overture/resilience';
import { Subject, Subscription, type Observable } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';
import { eventStreamHandovers, eventStreamResyncs } from './realtime.metrics.js';

// Once a replacement is live, the old stream is kept until one change shows on both (from then on
// the replacement carries everything) or for this long: a change committed just before the
// replacement's replica started streaming may still be on its way on the old one.
export const HANDOVER_SETTLE_MS = 1_000;

const { PLAYBACK_EVENT_KIND_RESYNC: RESYNC, PLAYBACK_EVENT_KIND_DRAINING: DRAINING } = playbackV1.PlaybackEventKind;

interface OpenStream {
  subscription: Subscription;
  /** Whether its opening RESYNC arrived: from then on it carries every change. */
  live: boolean;
  /** Whether its opening RESYNC is passed on to clients (false for a replacement brought up in overlap). */
  announce: boolean;
  /** Its replica said it is shutting down: replace it now. */
  draining: boolean;
  /** The call's route: the load balancer names the replica it picked, and a replacement avoids it. */
  readonly route: AttemptRoute;
}

const keyOf = (event: playbackV1.PlaybackEvent): string => `${event.kind}:${event.userId}:${event.version}`;

/**
 * Every user's playback changes, from a WatchEvents stream this gateway replica holds to one
 * playback-queue replica. Each playback-queue replica LISTENs to the changes committed by all of
 * them, so one stream per gateway carries every user's changes, whichever replica made them.
 *
 * The stream is replaced make-before-break every PLAYBACK_STREAM_ROTATE_MS, and at once when its
 * replica says it is draining (shutting down): a new one is opened (away from a draining replica,
 * retried quickly while refused), and takes over once it is live and overlaps the old one. Until
 * then the old one's changes are passed on and the new one's held, so each change goes out once
 * and in commit order. Only when the old stream ends before a replacement is live, or a stream
 * fails, does a RESYNC reach clients: changes may have been missed. A failed stream is re-opened
 * with capped, jittered backoff.
 */
@Injectable()
export class PlaybackEventStream implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PlaybackEventStream.name);
  private readonly subject = new Subject<playbackV1.PlaybackEvent>();
  private client: GrpcClientHandle<playbackV1.PlaybackServiceClient> | undefined;
  private current: OpenStream | undefined;
  private next: OpenStream | undefined;
  /** While a replacement is open: keys of the changes passed on from the current stream. */
  private readonly passed = new Set<string>();
  /** While a replacement is live: its changes not yet passed on, in its order, until it takes over. */
  private held: playbackV1.PlaybackEvent[] = [];
  private readonly heldKeys = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private handoverTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private readonly retry = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: true });
  // A refused replacement is tried again soon: the draining stream lasts only a few seconds.
  private readonly handoverRetry = new Backoff({ initialMs: 50, maxMs: 1_000, jitter: true });
  private started = false;
  private stopped = false;

  constructor(@Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig) {}

  get events(): Observable<playbackV1.PlaybackEvent> {
    return this.subject.asObservable();
  }

  onApplicationBootstrap(): void {
    if (this.started) return;
    this.started = true;
    this.current = this.open(true);
    this.rotateTimer = setInterval(() => this.rotate(), this.config.PLAYBACK_STREAM_ROTATE_MS);
    this.rotateTimer.unref();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    for (const timer of [this.retryTimer, this.handoverTimer, this.settleTimer]) clearTimeout(timer);
    clearInterval(this.rotateTimer);
    this.current?.subscription.unsubscribe();
    this.next?.subscription.unsubscribe();
    this.subject.complete();
    this.client?.close();
  }

  /** The WatchEvents call; no deadline, the stream lasts as long as both ends do. */
  protected watch(metadata: Metadata): Observable<playbackV1.WatchEventsResponse> {
    // A channel of its own: the long-lived stream should not share a breaker or deadline with unary calls.
    this.client ??= createGrpcClient({
      contract: PLAYBACK_V1,
      serviceName: playbackV1.PLAYBACK_SERVICE_NAME,
      url: this.config.PLAYBACK_GRPC_URL,
      transport: transportSecurity(this.config, 'api-gateway'),
      streams: true,
    });
    return this.client.service.watchEvents({}, metadata);
  }

  /** Opens a stream; `avoid`: a replica not to open it on, unless no other is usable. */
  private open(announce: boolean, avoid?: string): OpenStream {
    const route: AttemptRoute = { avoid, ownDeadline: true };
    const metadata = new Metadata();
    routeAttempt(metadata, route);
    const stream: OpenStream = { subscription: Subscription.EMPTY, live: false, announce, draining: false, route };
    stream.subscription = this.watch(metadata).subscribe({
      next: (response) => this.receive(stream, response.event),
      error: (error: unknown) => this.ended(stream, error),
      complete: () => this.ended(stream, undefined),
    });
    return stream;
  }

  private receive(stream: OpenStream, event: playbackV1.PlaybackEvent | undefined): void {
    if (!event || this.stopped || (stream !== this.current && stream !== this.next)) return;
    if (event.kind === RESYNC) return this.resynced(stream, event);
    if (event.kind === DRAINING) return this.draining(stream);
    if (!this.next) {
      this.subject.next(event);
      return;
    }
    const key = keyOf(event);
    if (stream === this.current) {
      this.passed.add(key);
      this.subject.next(event);
      // The replacement carried this one too: it carries everything after it.
      if (this.heldKeys.has(key)) this.takeOver();
      return;
    }
    if (!stream.live) return;
    // The old stream passed this one on already: the replacement carries everything after it.
    if (this.passed.has(key)) return this.takeOver();
    this.held.push(event);
    this.heldKeys.add(key);
  }

  private resynced(stream: OpenStream, event: playbackV1.PlaybackEvent): void {
    if (stream.live) {
      // Its replica lost its listener for a moment and may have missed changes.
      if (stream === this.current) return this.passResync(event);
      // A replacement that missed changes is no replacement: the next rotation or handover tries again.
      this.dropNext();
      if (this.current?.draining) this.retryHandover();
      return;
    }
    stream.live = true;
    if (this.retry.failures > 0) this.logger.log(`receiving playback events again after ${this.retry.failures} failed attempts`);
    this.retry.reset();
    if (stream === this.next) {
      this.settleTimer = setTimeout(() => this.takeOver(), HANDOVER_SETTLE_MS);
      this.settleTimer.unref();
      return;
    }
    if (stream.announce) this.passResync(event);
  }

  /** A DRAINING event: the stream's replica is shutting down and will end it in a few seconds. */
  private draining(stream: OpenStream): void {
    stream.draining = true;
    if (stream === this.next) this.dropNext();
    this.handOver();
  }

  /** Opens a replacement for a draining current stream, on another replica if one is usable. */
  private handOver(): void {
    clearTimeout(this.handoverTimer);
    if (this.stopped || this.next || !this.current?.draining) return;
    this.next = this.open(false, this.current.route.endpoint);
  }

  private retryHandover(): void {
    clearTimeout(this.handoverTimer);
    this.handoverTimer = setTimeout(() => this.handOver(), this.handoverRetry.next());
    this.handoverTimer.unref();
  }

  private rotate(): void {
    if (this.stopped || this.next || !this.current?.live || this.current.draining) return;
    this.next = this.open(false);
  }

  /** The live replacement becomes the current stream; `resync`: changes may have been missed meanwhile. */
  private takeOver(resync = false): void {
    const old = this.current;
    const stream = this.next;
    if (!stream) return;
    this.current = stream;
    this.next = undefined;
    old?.subscription.unsubscribe();
    clearTimeout(this.handoverTimer);
    this.handoverRetry.reset();
    for (const event of this.held) if (!this.passed.has(keyOf(event))) this.subject.next(event);
    this.clearOverlap();
    // An old stream that never went live never passed on the RESYNC it owed its clients.
    if (resync || (old && !old.live && old.announce)) {
      this.passResync({ kind: RESYNC, userId: '', version: 0, change: '', deviceId: '', changedAtMs: 0 });
    } else {
      eventStreamHandovers.inc({ cause: old?.draining ? 'draining' : 'rotation' });
    }
  }

  private dropNext(): void {
    this.next?.subscription.unsubscribe();
    this.next = undefined;
    this.clearOverlap();
  }

  private clearOverlap(): void {
    clearTimeout(this.settleTimer);
    this.passed.clear();
    this.held = [];
    this.heldKeys.clear();
  }

  private passResync(event: playbackV1.PlaybackEvent): void {
    eventStreamResyncs.inc();
    this.subject.next(event);
  }

  /** `error` undefined: the server ended the stream cleanly, after every change it carried. */
  private ended(stream: OpenStream, error: unknown): void {
    if (this.stopped) return;
    if (stream === this.next) {
      // The replacement failed or was refused; the current stream carries on. A draining one is
      // replaced again soon; otherwise the next rotation tries again.
      this.dropNext();
      if (this.current?.draining) this.retryHandover();
      return;
    }
    if (stream !== this.current) return;
    clearTimeout(this.handoverTimer);
    this.handoverRetry.reset();
    // The old stream ended after its replacement was live. Ended cleanly, it passed on every
    // change before the replacement's start; cut, it may not have.
    if (this.next?.live) return this.takeOver(error !== undefined);
    if (this.next) {
      // It ended before its replacement was live: that one takes over at once, and since changes
      // made before it was live may be lost, its RESYNC is passed on.
      this.current = this.next;
      this.current.announce = true;
      this.next = undefined;
      this.clearOverlap();
      return;
    }
    this.current = undefined;
    const delay = this.retry.next();
    if (this.retry.failures === 1) {
      const why = error === undefined ? 'the stream ended' : error instanceof Error ? error.message : String(error);
      this.logger.warn(`playback event stream lost, reopening: ${why}`);
    }
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.current = this.open(true);
    }, delay);
    this.retryTimer.unref();
  }
}
