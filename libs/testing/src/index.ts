export { freePort, startEmbeddedPostgres, type EmbeddedServer } from '@overture/database/embedded';
export { madeByEachFactory } from './error-factories.js';
export { migrate, quietLogger, startGrpcTestService, type GrpcTestService } from './grpc-test-service.js';
export { createTestDatabase, type TestDatabase } from './test-database.js';
export { testTlsEnv, testTransport, testTransportSettings } from './test-transport.js';
export { actingAsRequestUser } from './acting-as-request-user.js';
export {
  FAKE_AUTH_AUDIENCE,
  FAKE_AUTH_ISSUER,
  LISTENER_PERMISSIONS,
  startFakeAuthServer,
  type FakeAuthServer,
} from './fake-auth.server.js';
export { createTestSigner, TEST_AUDIENCE, TEST_ISSUER, type TestSigner, type TokenOptions } from './test-tokens.js';
