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
export type { AuthErrorCode, AuthErrorReason } from './errors.js';
export type { JWTHeader, JWTPayload, DecodedJWT, AuthResult, AuthSource } from './types.js';
