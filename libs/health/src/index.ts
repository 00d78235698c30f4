export { GrpcHealth, LIVENESS_SERVICE, healthProtoPath } from './grpc-health.js';
export { ReadinessMonitor, type ReadinessCheck } from './readiness-monitor.js';
export { SATURATION_SAMPLE_MS, SaturationMonitor, type PoolSaturation, type SaturationLimits } from './saturation-monitor.js';
