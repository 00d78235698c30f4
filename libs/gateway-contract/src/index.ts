// The gateway's public shapes: what clients send and receive over REST and the WebSocket. The
// gateway validates and documents with these schemas; the e2e suite and the tools read them too.
export * from './admin.schemas.js';
export * from './auth.schemas.js';
export * from './catalogue.schemas.js';
export * from './error-body.schema.js';
export * from './idempotency.schemas.js';
export * from './player.schemas.js';
export * from './realtime.protocol.js';
export * from './recommendations.schemas.js';
export * from './sessions.schemas.js';
export * from './track.schema.js';
