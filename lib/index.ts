/**
 * bearer-guard: bearer-token verification for Express.
 * @module bearer-guard
 */
import './express.js';

export { verifyToken } from './middleware.js';
export { createVerifier } from './verifier.js';
export type { Verifier } from './verifier.js';
export type { VerifyTokenOptions, IssuerOptions, JWKSCacheOptions, SupportedAlgorithm } from './options.js';
export type { IntrospectionOptions, UserinfoOptions, TokenFormat } from './opaque-options.js';
export type { ClientAuthMethod } from './introspection.js';
export type { MetadataDocument } from './discovery.js';
export { requireScopes, requireAnyScope, parseScopes } from './scopes.js';
export { extractBearerToken } from './extract-token.js';
export type { TokenLocationOptions, TokenRequest } from './extract-token.js';
export { createJWKSClient } from './jwks-client.js';
export type { JWKSClient, JWKSClientOptions, VerificationKey } from './jwks-client.js';
export { createRevocationList } from './revocation.js';
export type { RevocationList, RevocationListOptions, StalePolicy } from './revocation.js';
export { StoreUnavailableError } from './store-guard.js';
export type { SharedStore, StoreLogger, StoreSubscription, ExpiringMember } from './store.js';
export { decodeJWT, MAX_TOKEN_LENGTH } from './decode.js';
export type { DecodeJWTOptions } from './decode.js';
export {
  AuthError,
  UnauthorizedError,
  InvalidRequestError,
  InvalidTokenError,
  InsufficientScopeError,
  KeySourceError,
  ConfigError,
  isAuthError,
} from './errors.js';
export type { AuthErrorInit } from './errors.js';
export type { AuthErrorCode, AuthErrorReason } from './auth-error-reason.js';
export type { AuditHooks, VerifiedEvent, RejectedEvent, AuditClaims } from './audit.js';
export type { JWTHeader, JWTPayload, DecodedJWT, AuthResult, AuthSource } from './types.js';
