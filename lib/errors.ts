import type { AuthErrorCode, AuthErrorReason } from './auth-error-reason.js';
import { buildChallenge } from './challenge.js';

/** Default realm of the `WWW-Authenticate` challenge; `verifyToken({ realm })` overrides it. */
export const DEFAULT_REALM = 'api';

/** What an `AuthError` subclass passes to its base constructor. */
export interface AuthErrorInit {
  status: number;
  code: AuthErrorCode | undefined;
  reason: AuthErrorReason;
  /** Extra `WWW-Authenticate` parameters, e.g. `scope` for a 403. */
  challengeParams?: Readonly<Record<string, string>>;
  /** Whether a `WWW-Authenticate` header is sent at all (not for 503s). */
  challenge?: boolean;
}

/**
 * Base class of every error bearer-guard passes to `next(err)`.
 * Carries what Express's default handler reads (`status`, `statusCode`, `headers`, `expose`),
 * the RFC 6750 `code` and our finer `reason`. Messages never contain token contents.
 */
export class AuthError extends Error {
  override readonly name: string = 'AuthError';
  /** HTTP status: 400, 401, 403 or 503. */
  readonly status: number;
  /** Same as `status`, for frameworks that read `statusCode`. */
  readonly statusCode: number;
  /** RFC 6750 error code; `undefined` when the request carried no credentials (RFC 6750 §3.1). */
  readonly code: AuthErrorCode | undefined;
  /** bearer-guard's stable reason, e.g. `token_expired`. */
  readonly reason: AuthErrorReason;
  /** Messages are safe to show a client: they never contain the token or its claims. */
  readonly expose = true;
  readonly #challengeParams: Readonly<Record<string, string>>;
  readonly #challenge: boolean;
  #realm = DEFAULT_REALM;

  constructor(init: AuthErrorInit, message: string, options?: ErrorOptions) {
    super(message, options);
    this.status = init.status;
    this.statusCode = init.status;
    this.code = init.code;
    this.reason = init.reason;
    this.#challengeParams = init.challengeParams ?? {};
    this.#challenge = init.challenge ?? true;
  }

  /** Response headers for this error: the RFC 6750 §3 challenge (and `Retry-After` on a 503). */
  get headers(): Record<string, string> {
    if (!this.#challenge) return {};
    const params: Record<string, string> = { realm: this.#realm };
    if (this.code !== undefined) {
      params.error = this.code;
      params.error_description = this.message;
    }
    return { 'WWW-Authenticate': buildChallenge('Bearer', { ...params, ...this.#challengeParams }) };
  }

  /** Sets the realm named in the challenge; used by `verifyToken({ realm })`. Returns `this`. */
  withRealm(realm: string): this {
    this.#realm = realm;
    return this;
  }

  /** A body an app can send as is: `res.status(err.status).json(err)`. */
  toJSON(): { error: AuthErrorCode | 'unauthorized'; reason: AuthErrorReason; message: string } {
    return { error: this.code ?? 'unauthorized', reason: this.reason, message: this.message };
  }
}

/** 401 without an error code: no credentials, or another scheme than Bearer (RFC 6750 §3.1). */
export class UnauthorizedError extends AuthError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'Bearer token required', options?: ErrorOptions) {
    super({ status: 401, code: undefined, reason: 'credentials_missing' }, message, options);
  }
}

/** 400 `invalid_request`: the request itself is malformed (RFC 6750 §3.1). */
export class InvalidRequestError extends AuthError {
  override readonly name = 'InvalidRequestError';
  constructor(reason: AuthErrorReason, message: string, options?: ErrorOptions) {
    super({ status: 400, code: 'invalid_request', reason }, message, options);
  }
}

/** 401 `invalid_token`: the token is malformed, unverifiable, expired or not for this API. */
export class InvalidTokenError extends AuthError {
  override readonly name = 'InvalidTokenError';
  constructor(reason: AuthErrorReason, message: string, options?: ErrorOptions) {
    super({ status: 401, code: 'invalid_token', reason }, message, options);
  }
}

/** 403 `insufficient_scope`: a valid token without the scopes a route requires. */
export class InsufficientScopeError extends AuthError {
  override readonly name = 'InsufficientScopeError';
  /** The scopes the route asked for (all of them, or one of them: see `requireAnyScope`). */
  readonly requiredScopes: readonly string[];
  constructor(requiredScopes: readonly string[], message?: string, options?: ErrorOptions) {
    super(
      { status: 403, code: 'insufficient_scope', reason: 'scope_missing', challengeParams: { scope: requiredScopes.join(' ') } },
      message ?? `Token lacks scope: ${requiredScopes.join(' ')}`,
      options,
    );
    this.requiredScopes = requiredScopes;
  }
}

/**
 * 503 + `Retry-After`: the key source (JWKS, discovery, introspection) is unreachable and no
 * cached key applies, or (`reason: 'revocations_unavailable'`) a revocation list set to fail
 * closed is out of sync. Not the client's fault, so never a 401.
 */
export class KeySourceError extends AuthError {
  override readonly name = 'KeySourceError';
  /** Seconds after which a retry may succeed. */
  readonly retryAfterSec: number;
  constructor(message: string, retryAfterSec: number, options?: ErrorOptions & { reason?: 'key_source_unavailable' | 'revocations_unavailable' }) {
    super({ status: 503, code: 'temporarily_unavailable', reason: options?.reason ?? 'key_source_unavailable', challenge: false }, message, options);
    this.retryAfterSec = Math.max(1, Math.ceil(retryAfterSec));
  }

  override get headers(): Record<string, string> {
    return { 'Retry-After': String(this.retryAfterSec) };
  }
}

/** A wrong option: thrown once, when a verifier or client is created, never per request. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** True for any error bearer-guard raises about a request (not `ConfigError`). */
export function isAuthError(value: unknown): value is AuthError {
  return value instanceof AuthError;
}
