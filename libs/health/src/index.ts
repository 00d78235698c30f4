export { GrpcHealth, LIVENESS_SERVICE, healthProtoPath } from './grpc-health.js';
export { ReadinessMonitor, type ReadinessCheck } from './readiness-monitor.js';
