import { Metadata } from '@grpc/grpc-js';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { PLAYBACK_V1, playbackV1 } from '@overture/contracts';
import { createGrpcClient, transportSecurity, type GrpcClientHandle } from '@overture/grpc';
import { Backoff } from '@overture/resilience';
import { Subject, Subscription, type Observable } from 'rxjs';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config.js';

// Services end every connection after ~5 minutes and cut its streams 30 s later (max connection
// age and its grace, so clients spread over new replicas). Replacing the stream more often than
// that grace, with an overlap, means no stream is ever cut under us and no change is missed.
export const ROTATE_INTERVAL_MS = 20_000;

const { PLAYBACK_EVENT_KIND_RESYNC } = playbackV1.PlaybackEventKind;

interface OpenStream {
  subscription: Subscription;
  /** Whether its opening RESYNC arrived: from then on it carries every change. */
  live: boolean;
  /** Whether its opening RESYNC is passed on to clients (false for a replacement brought up in overlap). */
  announce: boolean;
}

/**
 * Every user's playback changes, from a WatchEvents stream this gateway replica holds to one
 * playback-queue replica. Each playback-queue replica LISTENs to the changes committed by all of
 * them, so one stream per gateway carries every user's changes, whichever replica made them.
 *
 * The stream is replaced every ROTATE_INTERVAL_MS make-before-break: the new one is opened, and the
 * old one closed once the new one is live; changes seen on both during the overlap are passed on
 * once. A stream that fails is re-opened with capped, jittered backoff, and its RESYNC is passed on:
 * changes may have been missed meanwhile.
 */
@Injectable()
export class PlaybackEventStream implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PlaybackEventStream.name);
  private readonly subject = new Subject<playbackV1.PlaybackEvent>();
  private readonly client: GrpcClientHandle<playbackV1.PlaybackServiceClient> | undefined;
  private current: OpenStream | undefined;
  private next: OpenStream | undefined;
  /** Changes passed on while two streams overlap, to pass each on once. */
  private readonly overlapSeen = new Set<string>();
  private retryTimer: NodeJS.Timeout | undefined;
  private rotateTimer: NodeJS.Timeout | undefined;
  private readonly retry = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: true });
  private started = false;
  private stopped = false;

  constructor(@Inject(GATEWAY_CONFIG) config: GatewayConfig | undefined) {
    // A channel of its own: the long-lived stream should not share a breaker or deadline with unary calls.
    this.client =
      config &&
      createGrpcClient({
        contract: PLAYBACK_V1,
        serviceName: playbackV1.PLAYBACK_SERVICE_NAME,
        url: config.PLAYBACK_GRPC_URL,
        transport: transportSecurity(config, 'api-gateway'),
        streams: true,
      });
  }

  get events(): Observable<playbackV1.PlaybackEvent> {
    return this.subject.asObservable();
  }

  onApplicationBootstrap(): void {
    if (this.started) return;
    this.started = true;
    this.current = this.open(true);
    this.rotateTimer = setInterval(() => this.rotate(), ROTATE_INTERVAL_MS);
    this.rotateTimer.unref();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.rotateTimer);
    this.current?.subscription.unsubscribe();
    this.next?.subscription.unsubscribe();
    this.subject.complete();
    this.client?.close();
  }

  /** The WatchEvents call; no deadline, the stream lasts as long as both ends do. */
  protected watch(): Observable<playbackV1.WatchEventsResponse> {
    if (!this.client) throw new Error('no playback client');
    return this.client.service.watchEvents({}, new Metadata());
  }

  private open(announce: boolean): OpenStream {
    const stream: OpenStream = { subscription: Subscription.EMPTY, live: false, announce };
    stream.subscription = this.watch().subscribe({
      next: (response) => this.receive(stream, response.event),
      error: (error: unknown) => this.ended(stream, error),
      complete: () => this.ended(stream, new Error('the stream ended')),
    });
    return stream;
  }

  private receive(stream: OpenStream, event: playbackV1.PlaybackEvent | undefined): void {
    if (!event || this.stopped) return;
    if (event.kind === PLAYBACK_EVENT_KIND_RESYNC && !stream.live) {
      stream.live = true;
      if (this.retry.failures > 0) this.logger.log(`receiving playback events again after ${this.retry.failures} failed attempts`);
      this.retry.reset();
      if (stream === this.next) return this.takeOver(stream);
      if (stream.announce) this.subject.next(event);
      return;
    }
    if (stream !== this.current && stream !== this.next) return;
    if (this.next) {
      // Two streams carry the same changes for a moment: pass each on once.
      const key = `${event.kind}:${event.userId}:${event.version}`;
      if (this.overlapSeen.has(key)) return;
      this.overlapSeen.add(key);
    }
    this.subject.next(event);
  }

  private rotate(): void {
    if (this.stopped || this.next || !this.current?.live) return;
    this.next = this.open(false);
  }

  private takeOver(stream: OpenStream): void {
    const old = this.current;
    this.current = stream;
    this.next = undefined;
    old?.subscription.unsubscribe();
    this.overlapSeen.clear();
  }

  private ended(stream: OpenStream, error: unknown): void {
    if (this.stopped) return;
    if (stream === this.next) {
      // The replacement failed; the current stream carries on, and the next rotation tries again.
      this.next = undefined;
      this.overlapSeen.clear();
      return;
    }
    if (stream !== this.current) return;
    if (this.next) {
      // The current stream died during an overlap: the replacement takes over at once. Changes
      // made before it was live may be lost, so its RESYNC is passed on.
      this.current = this.next;
      this.current.announce = true;
      this.next = undefined;
      this.overlapSeen.clear();
      return;
    }
    this.current = undefined;
    const delay = this.retry.next();
    if (this.retry.failures === 1)
      this.logger.warn(`playback event stream lost, reopening: ${error instanceof Error ? error.message : String(error)}`);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped) this.current = this.open(true);
    }, delay);
    this.retryTimer.unref();
  }
}
