import type { Server } from '@grpc/grpc-js';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { ReadinessMonitor } from './readiness-monitor.js';

/** The `grpc.health.v1` service name that reports liveness (the process is up and serving calls). */
export const LIVENESS_SERVICE = 'liveness';

export { healthProtoPath };

/**
 * Serves the standard `grpc.health.v1` protocol. The overall status (service name "") and each
 * named service follow the readiness monitor, so Kubernetes gRPC readiness probes and
 * `grpc_health_probe` see NOT_SERVING while the database is unreachable or the process is draining;
 * `liveness` stays SERVING as long as the server answers at all.
 */
export class GrpcHealth {
  private readonly implementation: HealthImplementation;

  constructor(
    private readonly serviceNames: readonly string[],
    readiness: ReadinessMonitor,
  ) {
    this.implementation = new HealthImplementation({ '': 'NOT_SERVING', [LIVENESS_SERVICE]: 'SERVING' });
    this.apply(readiness.isReady);
    readiness.onChange((ready) => this.apply(ready));
  }

  addToServer(server: Server): void {
    this.implementation.addToServer(server);
  }

  private apply(ready: boolean): void {
    const status = ready ? 'SERVING' : 'NOT_SERVING';
    this.implementation.setStatus('', status);
    for (const name of this.serviceNames) this.implementation.setStatus(name, status);
  }
}
