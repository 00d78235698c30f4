export { callSignal, type CancellableCall } from './call-signal.js';
export { DomainError, ErrorCategory } from './domain-error.js';
export { EndpointHealth, routeAttempt, type AttemptRoute, type EndpointHealthOptions } from './endpoint-health.js';
export {
  callMetadata,
  CLIENT_CHANNEL_OPTIONS,
  createGrpcClient,
  serverOf,
  unary,
  withDeadline,
  type GrpcClientHandle,
} from './grpc-client.js';
export { GrpcExceptionFilter } from './grpc-exception.filter.js';
export {
  ERROR_REASON_KEY,
  grpcStatusOf,
  isGrpcCallError,
  readGrpcError,
  toGrpcError,
  type GrpcCallError,
  type GrpcErrorResponse,
} from './grpc-status.js';
export { parseRequest } from './parse-request.js';
export { releaseFinishedCalls } from './release-finished-calls.js';
export {
  exitOnSignals,
  runGrpcService,
  serveGrpcService,
  SERVER_CHANNEL_OPTIONS,
  type GrpcServiceOptions,
  type GrpcServiceSettings,
  type RunningGrpcService,
} from './run-grpc-service.js';
export { runServiceMain, serviceCommand, type CommandCall, type ServiceCommand, type ServiceMainOptions } from './run-service-main.js';
export {
  callerOf,
  identityOfCertificate,
  SERVICE_IDENTITIES,
  spiffeIdOf,
  type AuthenticatedCall,
  type CallerProof,
  type ServiceIdentity,
} from './service-identity.js';
export {
  TLS_FILES,
  TransportConfigError,
  transportSecurity,
  type TransportSecurity,
  type TransportSettings,
} from './transport-security.js';
