/** What the registry needs to know of a connection. */
export interface Registered {
  /** The client address (behind trusted proxies, the one they forwarded). */
  readonly address: string;
}

export interface ConnectionCaps {
  readonly perUser: number;
  readonly perAddress: number;
}

/**
 * The open connections of one gateway replica, by user and by client address, with a cap on each:
 * a user's connections (devices, tabs) and an address's connections, authenticated or not, so that
 * one account or one host cannot hold the replica's sockets and memory.
 */
export class ConnectionRegistry<C extends Registered> {
  private readonly connections = new Set<C>();
  private readonly byUser = new Map<string, Set<C>>();
  private readonly userOf = new Map<C, string>();
  private readonly perAddress = new Map<string, number>();

  constructor(private readonly caps: ConnectionCaps) {}

  get size(): number {
    return this.connections.size;
  }

  all(): IterableIterator<C> {
    return this.connections.values();
  }

  /** The user's connections on this replica (none: an empty iterable). */
  ofUser(userId: string): ReadonlySet<C> {
    return this.byUser.get(userId) ?? EMPTY;
  }

  addressFull(address: string): boolean {
    return (this.perAddress.get(address) ?? 0) >= this.caps.perAddress;
  }

  userFull(userId: string): boolean {
    return (this.byUser.get(userId)?.size ?? 0) >= this.caps.perUser;
  }

  /** Counts a new connection against its address; false (not added) when the address is at its cap. */
  add(connection: C): boolean {
    if (this.connections.has(connection)) return true;
    if (this.addressFull(connection.address)) return false;
    this.connections.add(connection);
    this.perAddress.set(connection.address, (this.perAddress.get(connection.address) ?? 0) + 1);
    return true;
  }

  /** Files an added connection under its user; false when the user is at the cap. Idempotent per user. */
  bindUser(connection: C, userId: string): boolean {
    if (!this.connections.has(connection)) return false;
    if (this.userOf.get(connection) === userId) return true;
    if (this.userFull(userId)) return false;
    this.unbindUser(connection);
    let set = this.byUser.get(userId);
    if (!set) this.byUser.set(userId, (set = new Set()));
    set.add(connection);
    this.userOf.set(connection, userId);
    return true;
  }

  remove(connection: C): void {
    if (!this.connections.delete(connection)) return;
    this.unbindUser(connection);
    const left = (this.perAddress.get(connection.address) ?? 1) - 1;
    if (left > 0) this.perAddress.set(connection.address, left);
    else this.perAddress.delete(connection.address);
  }

  private unbindUser(connection: C): void {
    const userId = this.userOf.get(connection);
    if (userId === undefined) return;
    this.userOf.delete(connection);
    const set = this.byUser.get(userId);
    set?.delete(connection);
    if (set?.size === 0) this.byUser.delete(userId);
  }
}

const EMPTY: ReadonlySet<never> = new Set();
