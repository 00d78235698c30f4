export { freePort, startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
export { madeByEachFactory } from './error-factories.js';
export { migrate, quietLogger, startGrpcTestService, type GrpcTestService } from './grpc-test-service.js';
export { createTestDatabase, type TestDatabase } from './test-database.js';
export { testTlsEnv, testTransport, testTransportSettings } from './test-transport.js';
