import { experimental, Metadata, status, type ChannelOptions, type connectivityState } from '@grpc/grpc-js';
import { counter, gauge } from '@overture/metrics';
import { isServiceFailure } from '@overture/resilience';

/** The load-balancing policy name a client's service config selects (see `endpointHealthServiceConfig`). */
export const ENDPOINT_HEALTH_POLICY = 'overture_endpoint_health';

export interface EndpointHealthOptions {
  /** The service the endpoints serve (`metadata`, …): the metrics label, never an address. */
  readonly service: string;
  /**
   * An endpoint with a call outstanding this long and no answer to any call for as long is
   * stalled (a stopped process, a blocked event loop) and ejected. 0 turns stall detection off,
   * for clients that hold long-lived streams (those never answer until they end).
   */
  readonly stallMs: number;
  /** Service failures in a row (UNAVAILABLE, DEADLINE_EXCEEDED, overload) that eject an endpoint. */
  readonly failuresToEject: number;
  /** The first ejection's length; each further one without a healthy spell between doubles it. */
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
}

export const DEFAULT_ENDPOINT_HEALTH: Omit<EndpointHealthOptions, 'service'> = {
  stallMs: 500,
  failuresToEject: 3,
  baseEjectionMs: 1_000,
  maxEjectionMs: 10_000,
};

/** How recent an endpoint's last success must be for it to count as a healthy alternative. */
const HEALTHY_WITHIN_MS = 10_000;

/**
 * One call attempt's route, shared between its caller and the picker: the endpoint to stay away
 * from (the one a previous attempt failed on), and the endpoint the picker chose. `ownDeadline`
 * false says the attempt's deadline is the end client's, so missing it says nothing of the endpoint.
 */
export interface AttemptRoute {
  readonly avoid?: string;
  readonly ownDeadline: boolean;
  endpoint?: string;
}

// grpc-js clones a call's metadata on its way to the picker, but every clone shares the options
// object: that object, fresh per attempt, is the key from the metadata the caller sent to its route.
const routes = new WeakMap<object, AttemptRoute>();

/** Marks `metadata` (one attempt's, not reused) as carrying `route`, for the picker to read and fill. */
export function routeAttempt(metadata: Metadata, route: AttemptRoute): void {
  const options = { ...metadata.getOptions() };
  metadata.setOptions(options);
  routes.set(options, route);
}

const endpointMetrics = {
  ejections: counter({
    name: 'overture_grpc_endpoint_ejections_total',
    help: 'Replicas a client stopped sending calls to for a while, by service and cause (stall, failures).',
    labelNames: ['service', 'cause'],
  }),
  ejected: gauge({
    name: 'overture_grpc_endpoints_ejected',
    help: 'Replicas of a service ejected right now, summed over the clients of the process.',
    labelNames: ['service'],
    collect() {
      this.reset();
      const now = Date.now();
      for (const tracker of trackers.values()) this.inc({ service: tracker.options.service }, tracker.ejectedCount(now));
    },
  }),
};

interface OutstandingCall {
  startedAt: number;
}

class EndpointState {
  /** Calls started and not ended, oldest first (a Set keeps insertion order). */
  readonly outstanding = new Set<OutstandingCall>();
  lastAnsweredAt = 0;
  lastSuccessAt = 0;
  consecutiveFailures = 0;
  ejectedUntil = 0;
  /** Ejections since the endpoint last stayed healthy for `maxEjectionMs`; doubles the next one. */
  ejections = 0;
  lastEjectedAt = 0;

  stalled(now: number, stallMs: number): boolean {
    if (stallMs <= 0) return false;
    const oldest = this.outstanding.values().next().value;
    return oldest !== undefined && now - oldest.startedAt >= stallMs && now - this.lastAnsweredAt >= stallMs;
  }
}

/**
 * Per-endpoint health of one client channel: which replicas answer, which stall or fail, and for
 * how long each one is ejected. The `overture_endpoint_health` policy feeds it every call's outcome
 * and asks it before each pick; callers ask it whether a failure was one replica's or the service's.
 */
export class EndpointHealth {
  private readonly endpoints = new Map<string, EndpointState>();

  constructor(
    readonly options: EndpointHealthOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps only the endpoints the resolver lists now. */
  setAddresses(addresses: readonly string[]): void {
    for (const address of addresses) if (!this.endpoints.has(address)) this.endpoints.set(address, new EndpointState());
    for (const address of this.endpoints.keys()) if (!addresses.includes(address)) this.endpoints.delete(address);
  }

  /**
   * Whether a call may go to `address`. A stalled endpoint is ejected here, when the next call
   * would otherwise go to it, unless every other endpoint is ejected already.
   */
  usable(address: string): boolean {
    const state = this.endpoints.get(address);
    if (!state) return true;
    const now = this.now();
    if (state.ejectedUntil > now) return false;
    if (!state.stalled(now, this.options.stallMs)) return true;
    return !this.eject(state, now, 'stall');
  }

  /** A call to `address` started: it is outstanding until `ended` is called with its status. */
  started(address: string): OutstandingCall | undefined {
    const state = this.endpoints.get(address);
    if (!state) return undefined;
    const call = { startedAt: this.now() };
    state.outstanding.add(call);
    return call;
  }

  ended(address: string, call: OutstandingCall | undefined, code: status, trailers: Metadata, ownDeadline: boolean): void {
    const state = this.endpoints.get(address);
    if (!state) return;
    if (call) state.outstanding.delete(call);
    const now = this.now();
    // A cancelled call, or a deadline the end client chose, says nothing about the endpoint.
    if (code === status.CANCELLED || (code === status.DEADLINE_EXCEEDED && !ownDeadline)) return;
    if (code !== status.DEADLINE_EXCEEDED) state.lastAnsweredAt = now;
    if (!isServiceFailure({ code, metadata: trailers })) {
      state.consecutiveFailures = 0;
      state.lastSuccessAt = now;
      if (state.ejections > 0 && now - state.lastEjectedAt > this.options.maxEjectionMs) state.ejections = 0;
      return;
    }
    state.consecutiveFailures++;
    // Back from an ejection, one failure sends it out again.
    const probing = state.ejections > 0 && state.consecutiveFailures === 1 && now - state.ejectedUntil < this.options.maxEjectionMs;
    if (state.ejectedUntil <= now && (probing || state.consecutiveFailures >= this.options.failuresToEject)) {
      this.eject(state, now, 'failures');
    }
  }

  /**
   * Whether some endpoint other than `address` is serving well right now (not ejected, not stalled,
   * its last call a success within the last few seconds): then a failure on `address` is that
   * replica's, not the service's.
   */
  hasHealthyAlternative(address: string | undefined): boolean {
    const now = this.now();
    for (const [other, state] of this.endpoints) {
      if (other === address) continue;
      if (state.ejectedUntil > now || state.stalled(now, this.options.stallMs)) continue;
      if (state.consecutiveFailures === 0 && now - state.lastSuccessAt <= HEALTHY_WITHIN_MS) return true;
    }
    return false;
  }

  ejectedCount(now = this.now()): number {
    let count = 0;
    for (const state of this.endpoints.values()) if (state.ejectedUntil > now) count++;
    return count;
  }

  get size(): number {
    return this.endpoints.size;
  }

  /** Ejects `state` unless that would leave no endpoint to call; says whether it did. */
  private eject(state: EndpointState, now: number, cause: 'stall' | 'failures'): boolean {
    if (this.ejectedCount(now) + 1 >= this.endpoints.size) return false;
    state.ejectedUntil = now + Math.min(this.options.baseEjectionMs * 2 ** state.ejections, this.options.maxEjectionMs);
    state.ejections++;
    state.lastEjectedAt = now;
    state.consecutiveFailures = 0;
    endpointMetrics.ejections.inc({ service: this.options.service, cause });
    return true;
  }
}

// Every live tracker by id: the service config names its tracker, and the policy looks it up.
const trackers = new Map<string, EndpointHealth>();
let nextTrackerId = 1;

/** Registers `health` and returns the service config of a channel that balances by it, and its release. */
export function endpointHealthServiceConfig(health: EndpointHealth): { serviceConfig: string; release: () => void } {
  const id = String(nextTrackerId++);
  trackers.set(id, health);
  registerEndpointHealthPolicy();
  const serviceConfig = JSON.stringify({
    loadBalancingConfig: [{ [ENDPOINT_HEALTH_POLICY]: { tracker: id, child_policy: [{ round_robin: {} }] } }],
  });
  return { serviceConfig, release: () => trackers.delete(id) };
}

class EndpointHealthConfig implements experimental.TypedLoadBalancingConfig {
  constructor(
    readonly tracker: string,
    readonly child: experimental.TypedLoadBalancingConfig,
  ) {}

  getLoadBalancerName(): string {
    return ENDPOINT_HEALTH_POLICY;
  }

  toJsonObject(): object {
    return { [ENDPOINT_HEALTH_POLICY]: { tracker: this.tracker, child_policy: [this.child.toJsonObject()] } };
  }

  static createFromJson(obj: { tracker?: unknown; child_policy?: unknown }): EndpointHealthConfig {
    if (typeof obj.tracker !== 'string') throw new Error(`${ENDPOINT_HEALTH_POLICY}: tracker must be a string`);
    const child = Array.isArray(obj.child_policy) ? experimental.selectLbConfigFromList(obj.child_policy) : null;
    if (!child) throw new Error(`${ENDPOINT_HEALTH_POLICY}: child_policy names no known policy`);
    return new EndpointHealthConfig(obj.tracker, child);
  }
}

/** Wraps the child policy's picker: skips unusable endpoints and reports every call's outcome. */
class EndpointHealthPicker implements experimental.Picker {
  constructor(
    private readonly child: experimental.Picker,
    private readonly health: EndpointHealth,
  ) {}

  pick(args: experimental.PickArgs): experimental.PickResult {
    const route = routes.get(args.metadata.getOptions());
    const first = this.child.pick(args);
    let chosen = first;
    // Round robin moves on at every pick: as many more picks as there are endpoints visit them all.
    for (let i = 0; i < this.health.size && !this.fits(chosen, route); i++) {
      const next = this.child.pick(args);
      if (next.pickResultType !== experimental.PickResultType.COMPLETE) break;
      chosen = next;
    }
    if (!this.fits(chosen, route)) chosen = first;
    const subchannel = chosen.subchannel;
    if (chosen.pickResultType !== experimental.PickResultType.COMPLETE || !subchannel) return chosen;
    const address = subchannel.getAddress();
    if (route) route.endpoint = address;
    const health = this.health;
    const ownDeadline = route?.ownDeadline ?? true;
    let call: OutstandingCall | undefined;
    const { onCallStarted, onCallEnded } = chosen;
    return {
      ...chosen,
      onCallStarted: () => {
        call = health.started(address);
        onCallStarted?.();
      },
      onCallEnded: (code, details, trailers) => {
        health.ended(address, call, code, trailers, ownDeadline);
        onCallEnded?.(code, details, trailers);
      },
    };
  }

  private fits(result: experimental.PickResult, route: AttemptRoute | undefined): boolean {
    if (result.pickResultType !== experimental.PickResultType.COMPLETE || !result.subchannel) return true;
    const address = result.subchannel.getAddress();
    return address !== route?.avoid && this.health.usable(address);
  }
}

/**
 * Round robin (the child policy) that leaves out ejected endpoints: those that stalled or failed
 * several calls in a row, for a time that doubles while they keep failing, and one failure sends
 * an endpoint just back out again. It never ejects the last endpoint, and when every endpoint is
 * unusable it picks as round robin would. grpc-js's own `outlier_detection` judges endpoints only
 * every `interval` against each other (at least two hosts with request volume, in separate
 * buckets), counts every non-OK status (NOT_FOUND too) as a failure and cannot see a stall before
 * the calls' deadlines pass; this one acts on the next pick.
 */
class EndpointHealthBalancer implements experimental.LoadBalancer {
  private readonly child: experimental.ChildLoadBalancerHandler;
  private health: EndpointHealth | undefined;

  constructor(helper: experimental.ChannelControlHelper) {
    this.child = new experimental.ChildLoadBalancerHandler(
      experimental.createChildChannelControlHelper(helper, {
        updateState: (state: connectivityState, picker: experimental.Picker, errorMessage: string | null) => {
          helper.updateState(state, this.health ? new EndpointHealthPicker(picker, this.health) : picker, errorMessage);
        },
      }),
    );
  }

  updateAddressList(
    endpoints: experimental.StatusOr<experimental.Endpoint[]>,
    config: experimental.TypedLoadBalancingConfig,
    options: ChannelOptions,
    resolutionNote: string,
  ): boolean {
    if (!(config instanceof EndpointHealthConfig)) return false;
    this.health = trackers.get(config.tracker);
    if (endpoints.ok) {
      this.health?.setAddresses(
        endpoints.value.flatMap((endpoint) => endpoint.addresses.map((a) => experimental.subchannelAddressToString(a))),
      );
    }
    return this.child.updateAddressList(endpoints, config.child, options, resolutionNote);
  }

  exitIdle(): void {
    this.child.exitIdle();
  }

  resetBackoff(): void {
    this.child.resetBackoff();
  }

  destroy(): void {
    this.child.destroy();
  }

  getTypeName(): string {
    return ENDPOINT_HEALTH_POLICY;
  }
}

let registered = false;

/** Registers the `overture_endpoint_health` policy with grpc-js, once per process. */
export function registerEndpointHealthPolicy(): void {
  if (registered) return;
  registered = true;
  experimental.registerLoadBalancerType(ENDPOINT_HEALTH_POLICY, EndpointHealthBalancer, EndpointHealthConfig);
}
