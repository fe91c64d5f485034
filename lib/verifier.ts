import { auditClaims, callHook, rejectedEvent, type AuditClaims } from './audit.js';
import { checkClaims } from './claims.js';
import { decodeCompactJWS } from './decode.js';
import { InvalidTokenError, isAuthError, type AuthError } from './errors.js';
import { checkHeader } from './header.js';
import type { VerificationKey } from './jwks-client.js';
import { resolveOptions, type ResolvedIssuer, type ResolvedOptions, type VerifyTokenOptions } from './options.js';
import { createKeyResolver, type KeyResolver } from './resolve-key.js';
import { verifySignature } from './signature.js';
import { createTokenCache } from './token-cache.js';
import type { AuthResult, DecodedJWT, JWTPayload } from './types.js';

/** A framework-free token verifier: what `verifyToken` runs for each request. */
export interface Verifier {
  /**
   * Verifies a bearer token and resolves to what `req.auth` would hold.
   * Rejects with an `AuthError`: `InvalidTokenError` (401) for any token failure,
   * `KeySourceError` (503) when keys cannot be had. Never with anything else.
   */
  verify(token: string): Promise<AuthResult>;
  /** Runs discovery and loads every issuer's key set now; rejects with `KeySourceError` if it cannot. */
  ready(): Promise<void>;
}

interface IssuerEntry {
  readonly policy: ResolvedIssuer;
  readonly keys: KeyResolver;
  readonly isKeyCurrent: (key: VerificationKey) => boolean;
}

/**
 * Creates a verifier with the same options as `verifyToken`, for code outside Express
 * (WebSocket upgrades, queues, other frameworks). Options are checked here, once.
 * @throws ConfigError for a wrong option
 * @example
 * const verifier = createVerifier({ issuer: 'https://idp.example', audience: 'https://api.example' });
 * const { payload } = await verifier.verify(token);
 */
export function createVerifier(options: VerifyTokenOptions): Verifier {
  return buildVerifier(resolveOptions('createVerifier', options));
}

/** Builds a verifier from options already resolved (so `verifyToken`'s messages name `verifyToken`). */
export function buildVerifier(options: ResolvedOptions): Verifier {
  const entries = new Map<string, IssuerEntry>(
    options.issuers.map((policy) => {
      const keys = createKeyResolver(policy, options.allowHttpLoopback);
      return [policy.issuer, { policy, keys, isKeyCurrent: (key: VerificationKey) => keys.hasKey(key) }];
    }),
  );
  const cache = createTokenCache<VerificationKey>(options.tokenCacheEntries);
  const { onVerified, onRejected } = options.hooks;

  function accept(result: AuthResult, kid: string | undefined, cached: boolean): AuthResult {
    if (onVerified) callHook(onVerified, { source: result.source, cached, ...auditClaims(result.header, result.payload), kid });
    return result;
  }

  function reject(err: unknown, claims: AuditClaims | undefined): AuthError {
    const error = isAuthError(err) ? err : new InvalidTokenError('verification_failed', 'Token could not be verified', { cause: err });
    if (onRejected) callHook(onRejected, rejectedEvent(error, claims ?? auditClaims(undefined, undefined)));
    return error;
  }

  function finish(token: string, decoded: DecodedJWT, entry: IssuerEntry, candidates: readonly VerificationKey[]): AuthResult {
    const key = verifyWithCandidates(token, decoded.header.alg, candidates);
    const nowSec = Math.floor(Date.now() / 1000);
    checkClaims(decoded.payload, entry.policy, nowSec);
    const result: AuthResult = Object.freeze({ token, header: decoded.header, payload: decoded.payload, source: 'jwt' as const });
    cache.set(token, { result, key, policy: entry.policy, isKeyCurrent: entry.isKeyCurrent });
    return accept(result, decoded.header.kid, false);
  }

  function verify(token: string): Promise<AuthResult> {
    let decoded: DecodedJWT | undefined;
    try {
      const hit = cache.get(token, Math.floor(Date.now() / 1000));
      if (hit !== undefined) return Promise.resolve(accept(hit, hit.header?.kid, true));
      decoded = decodeCompactJWS<JWTPayload>(token, options.maxTokenLength);
      const entry = selectIssuer(entries, decoded.payload);
      checkHeader(decoded.header, entry.policy);
      const { kid, alg } = decoded.header;
      // The common case is answered synchronously from the cached key set: no promise hop before RSA.
      const cachedKeys = entry.keys.peekKeys(kid, alg);
      if (cachedKeys !== undefined) return Promise.resolve(finish(token, decoded, entry, cachedKeys));
      const pending = decoded;
      return entry.keys.getKeys(kid, alg).then(
        (keys) => finish(token, pending, entry, keys),
      ).catch((err: unknown) => {
        throw reject(err, auditClaims(pending.header, pending.payload));
      });
    } catch (err) {
      return Promise.reject(reject(err, decoded && auditClaims(decoded.header, decoded.payload)));
    }
  }

  return {
    verify,
    async ready() {
      await Promise.all([...entries.values()].map((entry) => entry.keys.ready()));
    },
  };
}

/**
 * Picks the configured issuer named by the token's (still unverified) `iss`. It only selects
 * among configured entries: nothing is ever fetched for an issuer that is not configured.
 */
function selectIssuer(entries: ReadonlyMap<string, IssuerEntry>, payload: JWTPayload): IssuerEntry {
  const entry = typeof payload.iss === 'string' ? entries.get(payload.iss) : undefined;
  if (entry !== undefined) return entry;
  if (payload.iss === undefined) throw new InvalidTokenError('claim_missing', 'Token has no "iss" claim');
  throw new InvalidTokenError('issuer_mismatch', 'Token issuer is not one this API trusts');
}

/**
 * Tries each candidate key (several only when a JWKS repeats a `kid`), so that duplicate kids
 * never make a valid token fail at random. Returns the key that verified.
 */
function verifyWithCandidates(token: string, alg: string, candidates: readonly VerificationKey[]): VerificationKey {
  let failure: unknown;
  for (const candidate of candidates) {
    try {
      verifySignature(token, candidate.key, alg);
      return candidate;
    } catch (err) {
      failure = err;
    }
  }
  throw failure ?? new InvalidTokenError('key_not_found', 'No key in the issuer\'s key set fits this token');
}
