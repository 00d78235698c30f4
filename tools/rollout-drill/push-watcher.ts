// A listener's second device on /v1/ws, as a player app keeps it: it reconnects (to a gateway in
// service) when its connection closes, and after a reconnect or a `resync` sends `resume` with the
// versions it has, so that it ends up knowing every change. Which changes it knows, and how, is what
// the drill counts pushes by.
import { BEARER_PROTOCOL_PREFIX, WS_PATH, WS_SUBPROTOCOL, type ServerMessage } from '@overture/gateway-contract';
import WebSocket from 'ws';

export type ChangeKind = 'queue' | 'state';

export interface WatcherStats {
  connects: number;
  closes: Map<number, number>;
  resyncs: number;
  resumes: number;
  /** Answers `error` to a `resume` (the playback service unavailable, or the message rate), each resent. */
  resumeErrors: number;
}

export class PushWatcher {
  /** Versions pushed to this device, with when each arrived (performance.now()). */
  readonly seen: Record<ChangeKind, Map<number, number>> = { queue: new Map(), state: new Map() };
  /** The highest versions an answer to `resume` brought: every change up to them is known. */
  readonly resumed: Record<ChangeKind, number> = { queue: -1, state: -1 };
  readonly stats: WatcherStats = { connects: 0, closes: new Map(), resyncs: 0, resumes: 0, resumeErrors: 0 };
  private last: Record<ChangeKind, number | null> = { queue: null, state: null };
  private ws: WebSocket | undefined;
  private stopped = false;
  /** A `resume` sent and not answered `resumed` yet. */
  private resumePending = false;
  private resumeTimer: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];

  readonly userId: string;
  private readonly token: string;
  private readonly pickGateway: () => string;

  constructor(userId: string, token: string, pickGateway: () => string) {
    this.userId = userId;
    this.token = token;
    this.pickGateway = pickGateway;
  }

  /** Connects and resumes from nothing; resolves once the first `resumed` arrived. */
  async start(): Promise<void> {
    const resumed = new Promise<void>((resolve) => this.readyWaiters.push(resolve));
    this.connect();
    await resumed;
  }

  /** Whether the change `kind` at `version` reached this device, and how. */
  delivery(kind: ChangeKind, version: number): 'push' | 'resume' | undefined {
    if (this.seen[kind].has(version)) return 'push';
    if (this.resumed[kind] >= version) return 'resume';
    return undefined;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.resumeTimer);
    this.ws?.terminate();
  }

  private connect(): void {
    if (this.stopped) return;
    let url: string;
    try {
      url = this.pickGateway();
    } catch {
      setTimeout(() => this.connect(), 200);
      return;
    }
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}${WS_PATH}`, [WS_SUBPROTOCOL, `${BEARER_PROTOCOL_PREFIX}${this.token}`]);
    this.ws = ws;
    ws.on('message', (data) => this.receive(JSON.parse(String(data)) as ServerMessage));
    ws.on('error', () => undefined);
    ws.on('close', (code) => {
      this.stats.closes.set(code, (this.stats.closes.get(code) ?? 0) + 1);
      if (this.ws !== ws || this.stopped) return;
      // A little jitter, as clients spread their reconnects.
      setTimeout(() => this.connect(), 50 + Math.random() * 200);
    });
  }

  private send(message: unknown): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  private resume(): void {
    clearTimeout(this.resumeTimer);
    this.resumePending = true;
    this.stats.resumes++;
    this.send({ type: 'resume', queue_version: this.last.queue, state_version: this.last.state });
  }

  private know(kind: ChangeKind, version: number): void {
    this.last[kind] = Math.max(this.last[kind] ?? -1, version);
  }

  private receive(message: ServerMessage): void {
    switch (message.type) {
      case 'ready':
        this.stats.connects++;
        this.resume();
        return;
      case 'resync':
        this.stats.resyncs++;
        this.resume();
        return;
      case 'resumed':
        this.resumePending = false;
        this.resumed.queue = Math.max(this.resumed.queue, message.queue_version);
        this.know('queue', message.queue_version);
        if (message.state_version !== null) {
          this.resumed.state = Math.max(this.resumed.state, message.state_version);
          this.know('state', message.state_version);
        }
        for (const resolve of this.readyWaiters.splice(0)) resolve();
        return;
      case 'queue.changed':
        if (message.change !== 'resume') this.seen.queue.set(message.version, performance.now());
        this.know('queue', message.version);
        return;
      case 'player.state_changed':
        this.seen.state.set(message.version, performance.now());
        this.know('state', message.version);
        return;
      case 'error':
        // "Send resume again shortly": a client that gave up here would never learn what it missed.
        if (this.resumePending) {
          this.stats.resumeErrors++;
          this.resumeTimer = setTimeout(() => this.resume(), message.retry_after_ms ?? 1_000);
        }
        return;
      case 'pong':
        return;
    }
  }
}
