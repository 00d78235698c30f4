export { HttpServerSpan } from './http-server-span.js';
export { followLiveConfig, type LiveTelemetrySettings, type TelemetryLiveValues } from './live-telemetry.js';
export { createLogger, type JsonLogger, type LoggerOptions, type LogLevel } from './json-logger.js';
export { Redactor, type RedactionOptions } from './redaction.js';
export {
  acceptRequestId,
  newRequestId,
  outsideRequest,
  remainingBudgetMs,
  REQUEST_ID_HEADER,
  requestContext,
  type RequestContext,
} from './request-context.js';
export { startTracing, type TracingHandle, type TracingOptions } from './start-tracing.js';
export { clientRpcTrace, RpcServerSpan, serverRpcTrace, TRACEPARENT_HEADER, type RpcClientTrace } from './rpc-trace.js';
export { activeTraceContext, currentTraceparent, formatTraceparent, inLinkedSpan, spanContextOf } from './trace-context.js';
export { currentTraceId } from './trace-id.js';
