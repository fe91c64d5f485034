/**
 * `bearer-guard/testing`: a loopback identity provider and token minting for the tests of apps
 * that use bearer-guard. Node built-ins only; no test framework or global is required.
 * @packageDocumentation
 * @module bearer-guard/testing
 */
export { createTestIssuer } from './test-issuer.js';
export type { TestIssuer } from './test-issuer.js';
export type { TestIssuerOptions } from './test-issuer-options.js';
export type { TestSignOptions, OpaqueTokenOptions, TokenLifetimeOptions } from './mint-claims.js';
export type { IntrospectionClient } from './oauth-endpoints.js';
export type { RequestCounts } from './issuer-routes.js';
export { TEST_ENDPOINTS } from './test-faults.js';
export type { TestEndpoint, OutageMode, TestFault } from './test-faults.js';
export { BAD_TOKEN_KINDS, BAD_TOKEN_REASONS } from './bad-tokens.js';
export type { BadTokenKind } from './bad-tokens.js';
export { createTestKey } from './test-key.js';
export type { TestKey, TestKeyAlgorithm, CreateTestKeyOptions } from './test-key.js';
export { signJWT } from './sign-jwt.js';
