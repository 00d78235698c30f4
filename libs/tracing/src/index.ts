export { createLogger, type JsonLogger, type LoggerOptions, type LogLevel } from './json-logger.js';
export { acceptRequestId, newRequestId, REQUEST_ID_HEADER, requestContext, type RequestContext } from './request-context.js';
export { startTracing, type TracingHandle, type TracingOptions } from './start-tracing.js';
export { currentTraceId } from './trace-id.js';
