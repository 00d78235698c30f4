const t = await import('/work/main/libs/tracing/dist/index.js');
const { trace } = await import('@opentelemetry/api');
const h = t.startTracing({ serviceName: 'svc', samplerRatio: 0 });
console.log('same handle', h === t.startTracing({ serviceName: 'other', samplerRatio: 1 }));
const logger = t.createLogger({ service: 'svc', level: 'debug' });
trace.getTracer('x').startActiveSpan('op', (span) => {
  console.log('traceId', t.currentTraceId(), span.isRecording());
  t.requestContext.run({ requestId: t.acceptRequestId('abc-1') }, () => {
    logger.log('hello', { userId: 1n }, 'Ctx');
    logger.error('failed', new Error('boom', { cause: new Error('inner') }).stack, 'Ctx');
    const o = { a: 1 }; o.self = o;
    logger.warn(o);
    logger.error(Object.assign(new Error('grpc'), { code: 14 }));
  });
  span.end();
});
console.log('outside', t.currentTraceId());
await h.shutdown(); await h.shutdown();
console.log('done');
