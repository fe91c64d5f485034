import { auditClaims, callHook, rejectedEvent } from './audit.js';
import { checkClaims } from './claims.js';
import { InvalidTokenError, isAuthError, type AuthError } from './errors.js';
import { checkHeader } from './header.js';
import { deepFreeze } from './internal/deep-freeze.js';
import type { VerificationKey } from './jwks-client.js';
import { createOpaqueVerifier } from './opaque-verifier.js';
import { resolveOptions, type ResolvedIssuer, type ResolvedOptions, type VerifyTokenOptions } from './options.js';
import { createKeyResolver, type KeyResolver } from './resolve-key.js';
import { routeToken } from './route-token.js';
import { verifyWithCandidates } from './signature.js';
import { createTokenCache } from './token-cache.js';
import type { AuthResult, DecodedJWT } from './types.js';

/** A framework-free token verifier: what `verifyToken` runs for each request. */
export interface Verifier {
  /**
   * Verifies a bearer token and resolves to what `req.auth` would hold.
   * Rejects with an `AuthError`: `InvalidTokenError` (401) for any token failure,
   * `KeySourceError` (503) when keys or the IdP cannot be reached. Never with anything else.
   */
  verify(token: string): Promise<AuthResult>;
  /** Runs discovery and loads every issuer's key set (and opaque-token endpoint) now; rejects with `KeySourceError` if it cannot. */
  ready(): Promise<void>;
}

interface IssuerEntry {
  readonly policy: ResolvedIssuer;
  readonly keys: KeyResolver;
  readonly isKeyCurrent: (key: VerificationKey) => boolean;
}

/** What a failing request had decoded so far (for the audit event), if anything. */
type Seen = Pick<DecodedJWT, 'header' | 'payload'> | Pick<AuthResult, 'header' | 'payload'> | undefined;

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
  const entries = new Map<string, IssuerEntry>();
  for (const policy of options.issuers) {
    // An issuer that takes every token remotely has no key set to load.
    const keys = policy.tokenFormat === 'opaque' ? NO_KEYS : createKeyResolver(policy, options.allowHttpLoopback, options.store);
    entries.set(policy.issuer, { policy, keys, isKeyCurrent: (key: VerificationKey) => keys.hasKey(key) });
  }
  const opaquePolicy = options.issuers.find((policy) => policy.opaque !== undefined);
  const opaque = opaquePolicy?.opaque && createOpaqueVerifier(opaquePolicy, opaquePolicy.opaque, options.allowHttpLoopback, options.store);
  const cache = createTokenCache<VerificationKey>(options.tokenCacheEntries);
  const { onVerified, onRejected } = options.hooks;
  const { revocations } = options;

  function accept(result: AuthResult, cached: boolean): AuthResult {
    if (onVerified) callHook(onVerified, { source: result.source, cached, ...auditClaims(result.header, result.payload) });
    return result;
  }

  /** Accepts a verified result unless it is revoked: checked on every request, cache hits included. */
  function admit(result: AuthResult, cached: boolean, issuer: string): AuthResult | Promise<AuthResult> {
    const pending = revocations?.check(result.payload, issuer);
    return pending === undefined ? accept(result, cached) : pending.then(() => accept(result, cached));
  }

  /** Maps any failure to an AuthError and reports it; the audit claims are read only now, on failure. */
  function reject(err: unknown, seen: Seen): AuthError {
    const error = isAuthError(err) ? err : new InvalidTokenError('verification_failed', 'Token could not be verified', { cause: err });
    if (onRejected) callHook(onRejected, rejectedEvent(error, auditClaims(seen?.header, seen?.payload)));
    return error;
  }

  /** A promise of the outcome; a late failure (revocation check before the first load) still goes through `reject`. */
  function settle(outcome: AuthResult | Promise<AuthResult>, seen: Seen): Promise<AuthResult> {
    if (!(outcome instanceof Promise)) return Promise.resolve(outcome);
    return outcome.then(undefined, (err: unknown) => {
      throw reject(err, seen);
    });
  }

  function finish(token: string, decoded: DecodedJWT, entry: IssuerEntry, candidates: readonly VerificationKey[]): AuthResult | Promise<AuthResult> {
    const key = verifyWithCandidates(token, decoded.header.alg, candidates);
    checkClaims(decoded.payload, entry.policy, Math.floor(Date.now() / 1000));
    const result: AuthResult = deepFreeze({ token, header: decoded.header, payload: decoded.payload, source: 'jwt' as const });
    cache.set(token, { result, key, policy: entry.policy, isKeyCurrent: entry.isKeyCurrent });
    return admit(result, false, entry.policy.issuer);
  }

  function verify(token: string): Promise<AuthResult> {
    let seen: Seen;
    try {
      const hit = cache.get(token, Math.floor(Date.now() / 1000));
      if (hit !== undefined) {
        if (revocations === undefined) return Promise.resolve(accept(hit, true));
        seen = hit;
        return settle(admit(hit, true, hit.payload.iss as string), seen);
      }
      const route = routeToken(token, entries, opaquePolicy, options.maxTokenLength);
      if (route.kind === 'opaque') {
        return opaque!
          .verify(token)
          .then(({ result, cached }) => admit(result, cached, typeof result.payload.iss === 'string' ? result.payload.iss : opaquePolicy!.issuer))
          .then(undefined, (err: unknown) => {
            throw reject(err, undefined);
          });
      }
      const { decoded, entry } = route;
      seen = decoded;
      checkHeader(decoded.header, entry.policy);
      const { kid, alg } = decoded.header;
      // The common case is answered synchronously from the cached key set: no promise hop before RSA.
      const cachedKeys = entry.keys.peekKeys(kid, alg);
      if (cachedKeys !== undefined) return settle(finish(token, decoded, entry, cachedKeys), decoded);
      return entry.keys.getKeys(kid, alg).then((keys) => finish(token, decoded, entry, keys)).catch((err: unknown) => {
        throw reject(err, decoded);
      });
    } catch (err) {
      return Promise.reject(reject(err, seen));
    }
  }

  return {
    verify,
    async ready() {
      await Promise.all([...[...entries.values()].map((entry) => entry.keys.ready()), opaque?.ready()]);
    },
  };
}

/** The key resolver of an issuer that has no key set (opaque tokens only). */
const NO_KEYS: KeyResolver = {
  peekKeys: () => undefined,
  getKeys: () => Promise.reject(new InvalidTokenError('key_not_found', 'This issuer accepts opaque tokens only')),
  hasKey: () => false,
  ready: () => Promise.resolve(),
};
