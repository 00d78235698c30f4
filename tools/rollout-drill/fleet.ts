// The drill's replicas, placed as Kubernetes places pods: each on an address of its own
// (127.77.<app>.<n>), every replica of an app on the same ports, one DNS name per app listing the
// ready ones (a headless Service). Readiness is probed as the kubelet does, and a rolling update
// follows the Deployments' strategy (maxSurge 1, maxUnavailable 0).
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { once } from 'node:events';
import { freeLocalPort, type AppName, type Replica, type ServiceName, type Suite } from '../suite/suite.ts';
import type { LoopbackDns } from './loopback-dns.ts';

/** The third octet of each app's pod addresses. */
const APP_SUBNET: Record<AppName, number> = { auth: 1, metadata: 2, recommendation: 3, 'playback-queue': 4, 'api-gateway': 5 };

/** The name each app's replicas are found under (a headless Service's, in a cluster). */
export function serviceName(app: AppName): string {
  return `${app}.drill.test`;
}

// As in deploy/k8s/base/*/deployment.yaml: readiness every 5 s, 2 s timeout, out after 2 failures.
export const READINESS = { periodMs: 5_000, timeoutMs: 2_000, failureThreshold: 2 } as const;
// As in deploy/k8s/base/*/config.env, inside terminationGracePeriodSeconds (30).
export const SHUTDOWN = { delayMs: 5_000, graceMs: 20_000, terminationGraceMs: 30_000 } as const;

type HealthClient = grpc.Client & {
  Check(
    request: { service: string },
    options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
  ): void;
};
const healthPackage = grpc.loadPackageDefinition(
  loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true }),
) as unknown as {
  grpc: { health: { v1: { Health: new (address: string, credentials: grpc.ChannelCredentials) => HealthClient } } };
};

export interface Pod {
  readonly app: AppName;
  /** `<app>-<n>`, n counting every pod the app ever had. */
  readonly name: string;
  readonly address: string;
  replica: Replica;
  /** In the app's DNS name (a Service's endpoints): ready and not terminating. */
  inService: boolean;
  terminating: boolean;
  consecutiveProbeFailures: number;
  health?: HealthClient;
}

export interface FleetEvent {
  at: number;
  what: string;
}

export interface FleetOptions {
  suite: Suite;
  dns: LoopbackDns;
  /** `host:port` of the DNS server, the authority of every gRPC target. */
  dnsAuthority: string;
  replicas: number;
  /** Extra environment of every pod of an app (e.g. shorter WebSocket timers). */
  extraEnv?: Partial<Record<AppName, Record<string, string>>>;
}

export class Fleet {
  readonly pods: Pod[] = [];
  readonly events: FleetEvent[] = [];
  private readonly ports = new Map<AppName, { main: number; ops: number; health: number }>();
  private readonly counters = new Map<AppName, number>();
  private replicaIndex = 1;
  private prober: NodeJS.Timeout | undefined;

  private readonly options: FleetOptions;

  constructor(options: FleetOptions) {
    this.options = options;
  }

  /** A gRPC target for `service` through the drill's DNS. */
  target(service: ServiceName): string {
    return `dns://${this.options.dnsAuthority}/${serviceName(service)}:${this.portsOf(service).main}`;
  }

  /** The gateways in service, as `http://address:port`: what an Ingress would send requests to. */
  gatewayUrls(): string[] {
    return this.pods.filter((p) => p.app === 'api-gateway' && p.inService).map((p) => p.replica.url);
  }

  podsOf(app: AppName): Pod[] {
    return this.pods.filter((p) => p.app === app && !p.terminating);
  }

  async allocatePorts(apps: readonly AppName[]): Promise<void> {
    for (const app of apps) this.ports.set(app, { main: await freeLocalPort(), ops: await freeLocalPort(), health: await freeLocalPort() });
  }

  /** Starts each group of apps with their replicas in turn, e.g. auth before the apps that load its keys. */
  async startAll(groups: readonly (readonly AppName[])[]): Promise<void> {
    for (const apps of groups) {
      await Promise.all(apps.flatMap((app) => Array.from({ length: this.options.replicas }, () => this.startPod(app))));
    }
    this.prober = setInterval(() => void this.probeAll(), READINESS.periodMs);
  }

  /**
   * A new pod of `app` on a new address; resolves once it is ready (and in DNS). `address` reuses
   * a pod's address, as the kubelet restarts a crashed container in the same pod.
   */
  async startPod(app: AppName, address?: string, name?: string): Promise<Pod> {
    const n = (this.counters.get(app) ?? 0) + 1;
    if (!address) this.counters.set(app, n);
    const podAddress = address ?? `127.77.${APP_SUBNET[app]}.${n}`;
    const ports = this.portsOf(app);
    const index = ++this.replicaIndex;
    const replica = await this.options.suite.startReplica(app, index, {
      host: podAddress,
      port: ports.main,
      opsPort: ports.ops,
      env: this.envOf(app, podAddress),
    });
    const pod: Pod = {
      app,
      name: name ?? `${app}-${n}`,
      address: podAddress,
      replica,
      inService: false,
      terminating: false,
      consecutiveProbeFailures: 0,
    };
    this.pods.push(pod);
    // Ready when the probe first passes (the kubelet's startup, then readiness probe).
    const deadline = Date.now() + 60_000;
    while ((await this.probe(pod)) !== undefined) {
      if (Date.now() > deadline) throw new Error(`${pod.name} was not ready within 60 s`);
      if (replica.child.exitCode !== null || replica.child.signalCode !== null) throw new Error(`${pod.name} exited before it was ready`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    this.setInService(pod, true);
    this.note(`${pod.name} (${pod.address}) ready`);
    return pod;
  }

  /**
   * Deletes a pod as Kubernetes does: out of the Service's endpoints and SIGTERM at once, SIGKILL
   * if it has not exited within the termination grace period. Resolves when it has exited.
   */
  async terminate(pod: Pod): Promise<number | null> {
    pod.terminating = true;
    this.setInService(pod, false);
    this.note(`${pod.name} SIGTERM`);
    const child = pod.replica.child;
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    const exited = once(child, 'exit') as Promise<[number | null]>;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN.terminationGraceMs);
    const [code] = await exited;
    clearTimeout(timer);
    this.forget(pod);
    this.note(`${pod.name} exited (${code})`);
    return code;
  }

  /**
   * `kubectl rollout restart`: for each old pod, start a new one, wait until it is ready, then
   * delete an old one without waiting for it to exit (maxSurge 1, maxUnavailable 0). Resolves once
   * every old pod has exited.
   */
  async roll(app: AppName): Promise<void> {
    const old = this.podsOf(app);
    const exits: Promise<number | null>[] = [];
    for (const pod of old) {
      await this.startPod(app);
      exits.push(this.terminate(pod));
    }
    const codes = await Promise.all(exits);
    if (codes.some((code) => code !== 0)) this.note(`${app}: old pods exited with ${codes.join(', ')}`);
  }

  /**
   * kill -9 of a pod's process; the kubelet restarts the container in the same pod (same address)
   * at once. The endpoint stays listed until readiness fails, as in a cluster. Resolves when the
   * restarted container is ready.
   */
  async killAndRestart(pod: Pod): Promise<Pod> {
    const child = pod.replica.child;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    this.note(`${pod.name} SIGKILL`);
    await exited;
    this.forget(pod);
    return this.startPod(pod.app, pod.address, pod.name);
  }

  stall(pod: Pod): void {
    pod.replica.child.kill('SIGSTOP');
    this.note(`${pod.name} SIGSTOP`);
  }

  resume(pod: Pod): void {
    pod.replica.child.kill('SIGCONT');
    this.note(`${pod.name} SIGCONT`);
  }

  async stopAll(): Promise<void> {
    clearInterval(this.prober);
    for (const pod of this.pods) pod.replica.child.kill('SIGCONT');
    // Gateways first (no new requests), then the services.
    await Promise.all(this.pods.filter((p) => p.app === 'api-gateway').map((p) => this.terminate(p)));
    await Promise.all([...this.pods].map((p) => this.terminate(p)));
  }

  /** The endpoints controller: a pod leaves DNS after `failureThreshold` failed probes, and comes back on a pass. */
  private async probeAll(): Promise<void> {
    await Promise.all(
      this.pods
        .filter((p) => !p.terminating)
        .map(async (pod) => {
          const failure = await this.probe(pod);
          pod.consecutiveProbeFailures = failure === undefined ? 0 : pod.consecutiveProbeFailures + 1;
          if (failure === undefined && !pod.inService) {
            this.setInService(pod, true);
            this.note(`${pod.name} ready again`);
          } else if (failure !== undefined && pod.inService && pod.consecutiveProbeFailures >= READINESS.failureThreshold) {
            this.setInService(pod, false);
            this.note(`${pod.name} not ready (${failure}): out of ${serviceName(pod.app)}`);
          }
        }),
    );
  }

  /**
   * One readiness probe: gRPC health `""` on the plaintext health port, or a gateway's /health/ready.
   * Resolves with why it failed (the gateway's answer names its failing checks), undefined on a pass.
   */
  private async probe(pod: Pod): Promise<string | undefined> {
    if (pod.app === 'api-gateway') {
      try {
        const response = await fetch(`${pod.replica.url}/health/ready`, { signal: AbortSignal.timeout(READINESS.timeoutMs) });
        const body = await response.text();
        return response.ok ? undefined : `${response.status} ${body.slice(0, 300)}`;
      } catch (error) {
        return (error as Error).name === 'TimeoutError' ? 'probe timed out' : (error as Error).message;
      }
    }
    pod.health ??= new healthPackage.grpc.health.v1.Health(
      `${pod.address}:${this.portsOf(pod.app).health}`,
      grpc.credentials.createInsecure(),
    );
    const client = pod.health;
    return new Promise<string | undefined>((resolve) => {
      client.Check({ service: '' }, { deadline: Date.now() + READINESS.timeoutMs }, (error, response) => {
        if (error) resolve(error.code === grpc.status.DEADLINE_EXCEEDED ? 'probe timed out' : error.details);
        else resolve(response?.status === 'SERVING' ? undefined : response?.status);
      });
    });
  }

  private setInService(pod: Pod, inService: boolean): void {
    pod.inService = inService;
    if (pod.app === 'api-gateway') return;
    this.options.dns.set(
      serviceName(pod.app),
      this.pods.filter((p) => p.app === pod.app && p.inService).map((p) => p.address),
    );
  }

  private forget(pod: Pod): void {
    pod.health?.close();
    const at = this.pods.indexOf(pod);
    if (at >= 0) this.pods.splice(at, 1);
  }

  /** Adds to the timeline of the run (`events`). */
  note(what: string): void {
    this.events.push({ at: Date.now(), what });
  }

  private portsOf(app: AppName): { main: number; ops: number; health: number } {
    const ports = this.ports.get(app);
    if (!ports) throw new Error(`no ports allocated for ${app}`);
    return ports;
  }

  private envOf(app: AppName, address: string): Record<string, string> {
    const env: Record<string, string> = {
      // grpc-js asks the DNS server a target names only with its "alternative" (c-ares) resolver.
      GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true',
      SHUTDOWN_DELAY_MS: String(SHUTDOWN.delayMs),
      SHUTDOWN_GRACE_MS: String(SHUTDOWN.graceMs),
      ...this.options.extraEnv?.[app],
    };
    if (app !== 'api-gateway') env.GRPC_HEALTH_LISTEN = `${address}:${this.portsOf(app).health}`;
    if (app !== 'auth') env.AUTH_GRPC_URL = this.target('auth');
    if (app === 'api-gateway' || app === 'recommendation' || app === 'playback-queue') env.METADATA_GRPC_URL = this.target('metadata');
    if (app === 'api-gateway' || app === 'playback-queue') env.RECOMMENDATION_GRPC_URL = this.target('recommendation');
    if (app === 'api-gateway') env.PLAYBACK_GRPC_URL = this.target('playback-queue');
    return env;
  }
}
