import { checkClaims } from './claims.js';
import { InvalidTokenError, type AuthError } from './errors.js';
import { checkHeader } from './header.js';
import { deepFreeze } from './internal/deep-freeze.js';
import type { VerificationKey } from './jwks-client.js';
import { createOpaqueVerifier } from './opaque-verifier.js';
import { resolveOptions, type ResolvedIssuer, type ResolvedOptions, type VerifyTokenOptions } from './options.js';
import { createKeyResolver, type KeyResolver } from './resolve-key.js';
import { createSingleDecodePath } from './decode-once.js';
import { issuerEntryOf, routeToken } from './route-token.js';
import { verifyWithCandidates } from './signature.js';
import { createTokenCache } from './token-cache.js';
import type { AuthResult, DecodedJWT } from './types.js';
import { createVerifyOutcomes, type Seen } from './verify-outcome.js';

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

/** What `verifyToken` runs: a `Verifier` whose outcome is synchronous when no I/O is needed. */
export interface CheckingVerifier extends Verifier {
  /**
   * The outcome of a token, synchronous for a cache hit or a new token whose key set is cached.
   * @throws AuthError (already reported to `onRejected`)
   */
  check(token: string): AuthResult | Promise<AuthResult>;
}

interface IssuerEntry {
  readonly policy: ResolvedIssuer;
  readonly keys: KeyResolver;
  readonly isKeyCurrent: (key: VerificationKey) => boolean;
}

/**
 * Creates a verifier with the same options as `verifyToken`, for code outside Express
 * (WebSocket upgrades, queues, other frameworks). Options are checked here, once. The options
 * that concern the request (`realm`, `credentialsRequired`, `allowQueryToken`, `allowBodyToken`,
 * `getToken`) are checked and then have no effect, so one options object serves both, e.g. for
 * `createVerifier(options).ready()` before `verifyToken(options)` takes traffic.
 * @throws ConfigError for a wrong option
 * @example
 * const verifier = createVerifier({ issuer: 'https://idp.example', audience: 'https://api.example' });
 * const { payload } = await verifier.verify(token);
 */
export function createVerifier(options: VerifyTokenOptions): Verifier {
  const { verify, ready } = buildVerifier(resolveOptions('createVerifier', options));
  return { verify, ready };
}

/** Builds a verifier from options already resolved (so `verifyToken`'s messages name `verifyToken`). */
export function buildVerifier(options: ResolvedOptions): CheckingVerifier {
  const entries = new Map<string, IssuerEntry>();
  for (const policy of options.issuers) {
    // An issuer that takes every token remotely has no key set to load.
    const keys = policy.tokenFormat === 'opaque' ? NO_KEYS : createKeyResolver(policy, options.allowHttpLoopback, options.store);
    entries.set(policy.issuer, { policy, keys, isKeyCurrent: (key: VerificationKey) => keys.hasKey(key) });
  }
  const opaquePolicy = options.issuers.find((policy) => policy.opaque !== undefined);
  const opaque = opaquePolicy?.opaque && createOpaqueVerifier(opaquePolicy, opaquePolicy.opaque, options.allowHttpLoopback, options.store);
  const cache = createTokenCache<VerificationKey>(options.tokenCacheEntries);
  const { revocations } = options;
  const { accept, admit, reject, settle } = createVerifyOutcomes(options.hooks, revocations);

  // A new token is decoded once, by jsonwebtoken, when its header alone picks one cached key
  // (decode-once.ts); anything else takes the strict path, which decodes first.
  const jwtEntries = [...entries.values()].filter((entry) => entry.policy.tokenFormat !== 'opaque');
  const decodeOnce = jwtEntries.length > 0 ? createSingleDecodePath(jwtEntries, options.maxTokenLength) : undefined;

  /** The claim checks of a token whose signature `key` verified; the result enters the cache. */
  function acceptSigned(token: string, decoded: DecodedJWT, entry: IssuerEntry, key: VerificationKey, nowSec: number): AuthResult | Promise<AuthResult> {
    checkClaims(decoded.payload, entry.policy, nowSec);
    const result: AuthResult = deepFreeze({ token, header: decoded.header, payload: decoded.payload, source: 'jwt' as const });
    cache.set(token, { result, key, policy: entry.policy, isKeyCurrent: entry.isKeyCurrent });
    return admit(result, false, entry.policy.issuer);
  }

  /** The signature check with `candidates`, then the claims; a failed signature may get one more try (below). */
  function finish(token: string, decoded: DecodedJWT, entry: IssuerEntry, candidates: readonly VerificationKey[], nowSec: number): AuthResult | Promise<AuthResult> {
    let key: VerificationKey;
    try {
      key = verifyWithCandidates(token, decoded.header.alg, candidates);
    } catch (err) {
      return afterFailedSignature(err, token, decoded, entry, candidates);
    }
    return acceptSigned(token, decoded, entry, key, nowSec);
  }

  /**
   * A signature that every cached candidate refused: thrown at once, unless the key source
   * refetches the set (older than its cooldown, at most once per cooldown) and that brings a key
   * it did not have — the IdP rotated the key under the same `kid`, or its only key for a token
   * without one, which no unknown-kid refetch would notice. Then the token is checked with those.
   */
  function afterFailedSignature(err: unknown, token: string, decoded: DecodedJWT, entry: IssuerEntry, tried: readonly VerificationKey[]): Promise<AuthResult> {
    if (!(err instanceof InvalidTokenError) || err.reason !== 'signature_invalid') throw err;
    const refetched = entry.keys.keysAfterFailedSignature(decoded.header.kid, decoded.header.alg, tried);
    if (refetched === undefined) throw err;
    return refetched.then((fresh) => {
      if (fresh === undefined) throw err;
      const nowSec = Math.floor(Date.now() / 1000);
      return acceptSigned(token, decoded, entry, verifyWithCandidates(token, decoded.header.alg, fresh), nowSec);
    });
  }

  function checkOpaque(token: string): Promise<AuthResult> {
    return opaque!
      .verify(token)
      .then(({ result, cached }) => admit(result, cached, typeof result.payload.iss === 'string' ? result.payload.iss : opaquePolicy!.issuer))
      .then(undefined, (err: unknown) => {
        throw reject(err, undefined);
      });
  }

  /**
   * The outcome of a token: synchronous whenever no I/O is needed (a cache hit, or a new token
   * with its key set cached), so `verifyToken` can call `next()` without a promise hop.
   * @throws AuthError, already reported to `onRejected`
   */
  function check(token: string): AuthResult | Promise<AuthResult> {
    let seen: Seen;
    try {
      const nowSec = Math.floor(Date.now() / 1000);
      const hit = cache.get(token, nowSec);
      if (hit !== undefined) {
        seen = hit;
        return revocations === undefined ? accept(hit, true) : settle(admit(hit, true, hit.payload.iss as string), seen);
      }
      const once = decodeOnce?.(token);
      if (once !== undefined && once.failure === undefined) {
        seen = once.decoded;
        // The same `iss` check, with the same reasons, as routing on the strict path. A key of
        // another issuer than the one `iss` names proves nothing: the strict path decides.
        if (issuerEntryOf(once.decoded.payload, entries) === once.source) {
          return settle(acceptSigned(token, once.decoded, once.source, once.key, nowSec), seen);
        }
      }
      const route = routeToken(token, entries, opaquePolicy, options.maxTokenLength);
      if (route.kind === 'opaque') return checkOpaque(token);
      const { decoded, entry } = route;
      seen = decoded;
      checkHeader(decoded.header, entry.policy);
      const { kid, alg } = decoded.header;
      // The single-decode path already checked this signature with the one key the strict path would pick.
      if (once?.failure !== undefined && once.source === entry) return settle(afterFailedSignature(once.failure, token, decoded, entry, entry.keys.peekKeys(kid, alg) ?? []), decoded);
      // The common case is answered synchronously from the cached key set: no promise hop before RSA.
      const cachedKeys = entry.keys.peekKeys(kid, alg);
      if (cachedKeys !== undefined) return settle(finish(token, decoded, entry, cachedKeys, nowSec), decoded);
      return settle(entry.keys.getKeys(kid, alg).then((keys) => finish(token, decoded, entry, keys, Math.floor(Date.now() / 1000))), decoded);
    } catch (err) {
      throw reject(err, seen);
    }
  }

  return {
    check,
    verify(token) {
      try {
        const outcome = check(token);
        return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
      } catch (err) {
        return Promise.reject(err as AuthError);
      }
    },
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
  keysAfterFailedSignature: () => undefined,
  ready: () => Promise.resolve(),
};
