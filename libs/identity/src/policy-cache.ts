import type { LoggerService } from '@nestjs/common';
import { type authV1, CommonReason } from '@overture/contracts';
import { Backoff } from '@overture/resilience';
import type { Observable, Subscription } from 'rxjs';
import type { Principal } from './principal.js';

// Before the first snapshot every check answers UNAVAILABLE, so reconnects stay frequent meanwhile.
const BACKOFF_BEFORE_READY_MAX_MS = 1_000;
// Expired entries are dropped this often; they are harmless meanwhile (their tokens have expired too).
const PRUNE_INTERVAL_MS = 30_000;

export interface PolicyCacheOptions {
  /** Opens auth's WatchPolicy stream: a snapshot first, then every change. */
  watch: () => Observable<authV1.WatchPolicyResponse>;
  logger: Pick<LoggerService, 'log' | 'warn'>;
}

/** Why a token that verified is still refused: the reason its refusal carries. */
export type Staleness = typeof CommonReason.SESSION_REVOKED | typeof CommonReason.ROLES_CHANGED;

/**
 * The live access policy, held in memory: permissions per role, revoked sessions and users whose
 * roles changed. Fed by auth's WatchPolicy stream; when the stream ends or fails it reconnects with
 * exponential back-off (100 ms … 5 s) and replaces everything with the new stream's snapshot, so a
 * change made while it was disconnected is caught up. Until the first snapshot it is not `ready`.
 */
export class PolicyCache {
  private permissionsByRole = new Map<string, ReadonlySet<string>>();
  private revokedSessions = new Map<string, number>();
  private rolesChanged = new Map<string, { rolesVersion: number; expiresAtMs: number }>();
  private currentVersion = -1;
  private subscription: Subscription | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  // Jitter spreads the reconnects of many replicas after an auth restart.
  private readonly reconnect = new Backoff({ initialMs: 100, maxMs: 5_000, jitter: true });
  private stopped = false;
  private readonly listeners = new Set<(version: number) => void>();

  constructor(private readonly options?: PolicyCacheOptions) {}

  get ready(): boolean {
    return this.currentVersion >= 0;
  }

  /** The version of the last change applied; -1 before the first snapshot. */
  get version(): number {
    return this.currentVersion;
  }

  start(): void {
    this.connect();
    this.pruneTimer = setInterval(() => this.prune(Date.now()), PRUNE_INTERVAL_MS);
    this.pruneTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.subscription?.unsubscribe();
    clearTimeout(this.retryTimer);
    clearInterval(this.pruneTimer);
  }

  /** Calls `listener` with the version after every applied event; returns the unsubscribe function. */
  onChange(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Whether any of `roles` grants `permission`. */
  allows(roles: readonly string[], permission: string): boolean {
    return roles.some((role) => this.permissionsByRole.get(role)?.has(permission) ?? false);
  }

  permissionsOf(role: string): readonly string[] {
    return [...(this.permissionsByRole.get(role) ?? [])];
  }

  /** Why this verified token must still be refused, or undefined when it may be used. */
  staleness(principal: Principal, now = Date.now()): Staleness | undefined {
    const revokedUntil = this.revokedSessions.get(principal.sessionId);
    if (revokedUntil !== undefined && revokedUntil > now) return CommonReason.SESSION_REVOKED;
    const changed = this.rolesChanged.get(principal.userId);
    if (changed && changed.expiresAtMs > now && principal.rolesVersion < changed.rolesVersion) return CommonReason.ROLES_CHANGED;
    return undefined;
  }

  /** Applies one event of the stream. */
  apply(event: authV1.WatchPolicyResponse): void {
    if (event.snapshot) {
      this.permissionsByRole = toRoleMap(event.snapshot.roles);
      this.revokedSessions = new Map(event.snapshot.revokedSessions.map((s) => [s.sessionId, s.expiresAtMs]));
      this.rolesChanged = new Map(
        event.snapshot.usersRolesChanged.map((u) => [u.userId, { rolesVersion: u.rolesVersion, expiresAtMs: u.expiresAtMs }]),
      );
    } else if (event.roles) {
      this.permissionsByRole = toRoleMap(event.roles.roles);
    } else if (event.sessionRevoked) {
      this.revokedSessions.set(event.sessionRevoked.sessionId, event.sessionRevoked.expiresAtMs);
    } else if (event.userRolesChanged) {
      const { userId, rolesVersion, expiresAtMs } = event.userRolesChanged;
      this.rolesChanged.set(userId, { rolesVersion, expiresAtMs });
    }
    this.currentVersion = event.version;
    for (const listener of this.listeners) listener(event.version);
  }

  prune(now: number): void {
    for (const [sessionId, until] of this.revokedSessions) if (until <= now) this.revokedSessions.delete(sessionId);
    for (const [userId, changed] of this.rolesChanged) if (changed.expiresAtMs <= now) this.rolesChanged.delete(userId);
  }

  private connect(): void {
    if (this.stopped || !this.options) return;
    const { watch, logger } = this.options;
    let received = false;
    this.subscription = watch().subscribe({
      next: (event) => {
        if (!received && !event.snapshot) {
          logger.warn({ msg: 'policy stream did not start with a snapshot; reconnecting' });
          this.subscription?.unsubscribe();
          this.scheduleReconnect();
          return;
        }
        if (!received) {
          received = true;
          this.reconnect.reset();
          logger.log(`policy snapshot loaded (version ${event.version})`);
        }
        this.apply(event);
      },
      error: (error: unknown) => this.scheduleReconnect(error),
      complete: () => this.scheduleReconnect(),
    });
  }

  private scheduleReconnect(failure?: unknown): void {
    if (this.stopped) return;
    const delay = this.ready ? this.reconnect.next() : this.reconnect.next(BACKOFF_BEFORE_READY_MAX_MS);
    if (failure !== undefined)
      this.options?.logger.warn({ msg: `policy stream failed; reconnecting in ${delay} ms`, error: String(failure) });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
    this.retryTimer.unref();
  }
}

function toRoleMap(roles: authV1.RolePermissions[]): Map<string, ReadonlySet<string>> {
  return new Map(roles.map((r) => [r.role, new Set(r.permissions)]));
}
