export { callSignal, type CancellableCall } from './call-signal.js';
export { DomainError, ErrorCategory } from './domain-error.js';
export { CLIENT_CHANNEL_OPTIONS, createGrpcClient, unary, withDeadline, type GrpcClientHandle } from './grpc-client.js';
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
