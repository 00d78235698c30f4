import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { authV1 } from '@overture/contracts';
import { Backoff } from '@overture/resilience';
import pg from 'pg';
import { Observable, Subject, type Subscriber } from 'rxjs';
import { AUTH_CONFIG, type AuthConfig } from '../auth.config.js';
import { policyStreamInterrupted, policyStreamUnavailable } from '../auth.errors.js';
import { POLICY_CHANNEL, PolicyRepository } from './policy.repository.js';

const PRUNE_INTERVAL_MS = 60_000;

/**
 * The WatchPolicy streams of this replica. One dedicated PostgreSQL connection LISTENs on the
 * policy channel, so every committed change, whichever replica made it, reaches every stream. A new
 * stream gets a snapshot first and then the changes newer than it (changes that arrive while the
 * snapshot is read are buffered, so none falls in between). When the LISTEN connection is lost,
 * every open stream is ended with UNAVAILABLE: subscribers reconnect and get a fresh snapshot,
 * rather than silently missing what was notified while the connection was down.
 */
@Injectable()
export class PolicyStream implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PolicyStream.name);
  private readonly events = new Subject<authV1.WatchPolicyResponse>();
  private readonly streams = new Set<Subscriber<authV1.WatchPolicyResponse>>();
  private client: pg.Client | undefined;
  private listening = false;
  private closed = false;
  private readonly reconnect = new Backoff({ initialMs: 200, maxMs: 5_000 });
  private reconnectTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(AUTH_CONFIG) private readonly config: AuthConfig,
    @Inject(PolicyRepository) private readonly policy: PolicyRepository,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.listen();
    this.pruneTimer = setInterval(() => {
      this.policy
        .pruneExpired()
        .catch((error: unknown) => this.logger.warn({ msg: 'could not prune expired revocations', error: String(error) }));
    }, PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  onModuleDestroy(): Promise<void> {
    return this.close();
  }

  /** Ends every stream (subscribers reconnect, to another replica when this one is going away). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pruneTimer);
    for (const stream of this.streams) stream.complete();
    this.streams.clear();
    const client = this.client;
    this.client = undefined;
    this.listening = false;
    await client?.end().catch(() => undefined);
  }

  watch(): Observable<authV1.WatchPolicyResponse> {
    return new Observable<authV1.WatchPolicyResponse>((subscriber) => {
      if (this.closed || !this.listening) {
        subscriber.error(policyStreamUnavailable());
        return undefined;
      }
      const buffered: authV1.WatchPolicyResponse[] = [];
      let snapshotVersion: number | undefined;
      const changes = this.events.subscribe((event) => {
        if (snapshotVersion === undefined) buffered.push(event);
        else if (event.version > snapshotVersion) subscriber.next(event);
      });
      this.streams.add(subscriber);
      this.policy.snapshot().then(
        (snapshot) => {
          subscriber.next(snapshot);
          snapshotVersion = snapshot.version;
          for (const event of buffered) if (event.version > snapshot.version) subscriber.next(event);
          buffered.length = 0;
        },
        (error: unknown) => {
          this.logger.warn({ msg: 'could not read the policy snapshot', error: String(error) });
          subscriber.error(policyStreamUnavailable('the policy could not be read'));
        },
      );
      return () => {
        changes.unsubscribe();
        this.streams.delete(subscriber);
      };
    });
  }

  private async listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.config.DATABASE_URL, application_name: 'overture-auth-policy' });
    client.on('notification', (message) => {
      if (message.channel !== POLICY_CHANNEL || !message.payload) return;
      this.events.next(JSON.parse(message.payload) as authV1.WatchPolicyResponse);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    await client.connect();
    await client.query(`LISTEN ${POLICY_CHANNEL}`);
    this.client = client;
    this.listening = true;
    this.reconnect.reset();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.closed) return;
    this.logger.warn({ msg: `policy LISTEN connection lost; ending ${this.streams.size} streams and reconnecting`, error: error.message });
    this.client = undefined;
    this.listening = false;
    client.end().catch(() => undefined);
    for (const stream of this.streams) {
      stream.error(policyStreamInterrupted());
    }
    this.streams.clear();
    this.scheduleReconnect();
  }

  private scheduleReconnect(failure?: unknown): void {
    if (this.closed) return;
    const delay = this.reconnect.next();
    if (failure !== undefined) this.logger.warn({ msg: `policy LISTEN reconnect failed; retrying in ${delay} ms`, error: String(failure) });
    this.reconnectTimer = setTimeout(() => {
      this.listen().catch((error: unknown) => this.scheduleReconnect(error));
    }, delay);
    this.reconnectTimer.unref();
  }
}
