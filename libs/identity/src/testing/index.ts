export { actingAsRequestUser } from './acting-as-request-user.js';
export { FAKE_AUTH_AUDIENCE, FAKE_AUTH_ISSUER, LISTENER_PERMISSIONS, startFakeAuthServer, type FakeAuthServer } from './fake-auth.server.js';
export { createTestSigner, TEST_AUDIENCE, TEST_ISSUER, type TestSigner, type TokenOptions } from './test-tokens.js';
