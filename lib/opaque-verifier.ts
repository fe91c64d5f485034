import { discoverIssuer } from './discovery.js';
import { isB64Token } from './extract-token.js';
import { checkOpaqueClaims, untilExpiry, untilTooOld } from './opaque-claims.js';
import { deepFreeze } from './internal/deep-freeze.js';
import { elapsedMs } from './internal/elapsed.js';
import { InvalidTokenError, isAuthError, KeySourceError } from './errors.js';
import { FetchError } from './internal/fetch-json.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { introspect, refusedOurCredentials, type EndpointLimits } from './introspection.js';
import { createOpaqueCache, type OpaqueLookup } from './opaque-cache.js';
import type { ResolvedOpaqueOptions } from './opaque-options.js';
import type { ResolvedIssuer } from './options.js';
import { discoveryOptionsOf } from './resolve-key.js';
import { createSharedAnswers, type OpaqueAnswer } from './shared-introspection.js';
import type { SharedStore } from './store.js';
import type { AuthResult, JWTPayload } from './types.js';
import { fetchUserinfo } from './userinfo.js';

/** Verifies opaque tokens of one issuer by introspection or userinfo, with a cache in front. */
export interface OpaqueVerifier {
  /** Resolves to the result and whether the cache answered. */
  verify(token: string): Promise<{ result: AuthResult; cached: boolean }>;
  /** Resolves once the endpoint is known (discovery done). */
  ready(): Promise<void>;
}

/** How long a 503 from a failing introspection or userinfo endpoint asks the client to wait, in s. */
const RETRY_AFTER_SEC = 5;

/** After a call that ran into its deadline or a refusal of our credentials, how long the endpoint is not asked again, in ms. */
const HOLD_OFF_MS = RETRY_AFTER_SEC * 1000;

/** Margin over the endpoint's deadline for which one instance holds the fleet-wide look-up of a token. */
const LOCK_MARGIN_MS = 500;

/**
 * Creates the opaque-token path of one issuer. With a `store`, answers are shared by the fleet
 * behind the in-process cache (a local hit costs no store round trip).
 */
export function createOpaqueVerifier(policy: ResolvedIssuer, opaque: ResolvedOpaqueOptions, allowHttpLoopback: boolean, store?: SharedStore): OpaqueVerifier {
  const cache = createOpaqueCache({ maxEntries: opaque.maxEntries, negativeTtlMs: opaque.negativeTtlMs });
  const limits: EndpointLimits = { timeoutMs: opaque.timeoutMs, maxBytes: opaque.maxBytes, retryAfterSec: RETRY_AFTER_SEC };
  const source = opaque.method;
  const shared = store && createSharedAnswers(store, opaque.negativeTtlMs, opaque.timeoutMs + LOCK_MARGIN_MS);
  /** A failure that holds the endpoint off for `windowMs` from `sinceMs` (see `holdOffAfter`). */
  let holdOff: { readonly sinceMs: number; readonly windowMs: number; readonly failure: KeySourceError } | undefined;

  async function endpoint(): Promise<string> {
    if (opaque.endpoint !== undefined) return opaque.endpoint.href;
    const member = source === 'introspection' ? 'introspection_endpoint' : 'userinfo_endpoint';
    const metadata = await discoverIssuer(policy.issuer, discoveryOptionsOf(policy, allowHttpLoopback, store), member);
    const found = metadata[member];
    if (found !== undefined) return found;
    // Refused by the URL policy at discovery, so never fetched: say why rather than "has none".
    const unusable = metadata.unusable[member];
    if (unusable !== undefined) {
      throw new KeySourceError(`${unusable}, so it is not called; configure \`${source}.endpoint\``, RETRY_AFTER_SEC);
    }
    throw new KeySourceError(`Issuer metadata has no ${member}; configure \`${source}.endpoint\``, RETRY_AFTER_SEC);
  }

  /** Calls the endpoint, unless a recent failure holds it off: then a 503 whose Retry-After counts down. */
  async function call(token: string, url: string): Promise<JWTPayload> {
    // Measured from the failure (`elapsedMs`): a clock stepped back ends the hold-off, never stretches it.
    const heldMs = holdOff === undefined ? Number.POSITIVE_INFINITY : elapsedMs(holdOff.sinceMs, Date.now());
    if (holdOff !== undefined && heldMs < holdOff.windowMs) {
      const { failure, windowMs } = holdOff;
      throw new KeySourceError(failure.message, (windowMs - heldMs) / 1000, { cause: failure.cause });
    }
    try {
      return source === 'introspection'
        ? await introspect(token, { endpoint: url, clientId: opaque.clientId, clientSecret: opaque.clientSecret, authMethod: opaque.authMethod }, limits)
        : await fetchUserinfo(token, url, limits);
    } catch (err) {
      if (err instanceof KeySourceError) {
        const holdOffMs = holdOffAfter(err);
        if (holdOffMs > 0) holdOff = { sinceMs: Date.now(), windowMs: holdOffMs, failure: err };
      }
      throw err;
    }
  }

  /** Asks the IdP; the answer may be reused for the cache max age, never past its `exp`. */
  async function ask(token: string, url: string): Promise<OpaqueAnswer> {
    const payload = await call(token, url);
    const nowMs = Date.now();
    return { payload, expiresAtMs: Math.min(nowMs + opaque.cacheMaxAgeMs, untilExpiry(payload, nowMs) + nowMs) };
  }

  async function check(token: string): Promise<OpaqueLookup> {
    const url = await endpoint();
    const context = `${source}\n${url}\n${opaque.clientId}`;
    const answer = shared === undefined ? await ask(token, url) : await shared.lookup(context, token, () => ask(token, url));
    const nowMs = Date.now();
    // Kept here only for what is left of its life in the store: a token the IdP starts accepting
    // is refused for at most `negativeCacheMaxAge` across the fleet, not twice that.
    if ('rejection' in answer) return { rejection: answer.rejection, ttlMs: answer.expiresAtMs - nowMs };
    const { payload, expiresAtMs } = answer;
    // Every instance applies its own policy, also to an answer another instance fetched.
    checkOpaqueClaims(payload, policy, opaque, Math.floor(nowMs / 1000));
    // Never trusted past its own `exp` (RFC 7662 §4: a cached answer must not outlive the token),
    // nor past `maxTokenAge`: a hit re-checks no claim.
    const ttlMs = Math.min(opaque.cacheMaxAgeMs, expiresAtMs - nowMs, untilExpiry(payload, nowMs), untilTooOld(payload, policy, nowMs));
    return { payload: deepFreeze(payload), ttlMs };
  }

  /**
   * `check`, with any failure that is not ours mapped to a 503: a token is judged only by the
   * rules above, so what else throws (a `RangeError` from an absurd answer, a bug) comes from the
   * endpoint's side and must never turn into a 401 the client would act on, nor be cached as one.
   */
  async function load(token: string): Promise<OpaqueLookup> {
    try {
      return await check(token);
    } catch (err) {
      if (isAuthError(err)) throw err;
      throw new KeySourceError(`${source === 'introspection' ? 'Introspection' : 'Userinfo'} answer could not be checked`, RETRY_AFTER_SEC, { cause: err });
    }
  }

  return {
    async verify(token) {
      // Before the cache and any IdP call: such a token is refused whatever the IdP would say.
      if (!isB64Token(token)) throw new InvalidTokenError('malformed', 'Token is not an RFC 6750 b64token');
      const { payload, cached } = await cache.lookup(token, Date.now(), () => load(token));
      return { result: Object.freeze({ token, header: undefined, payload, source }), cached };
    },
    async ready() {
      await endpoint();
    },
  };
}

/**
 * How long to leave the endpoint alone after a failure, in ms. A new token has no stale answer
 * to fall back on (a key set has), so a fast failure — refused, reset, 5xx, a bad body — holds
 * nothing back: the next request tries again, and a blip costs no more than itself. Three
 * failures do: a call that ran into its deadline (asking again would cost each caller the whole
 * deadline and the IdP another stalled connection), our own client credentials refused (asking
 * with them on every request is what gets a client locked out by IdPs that count bad secrets),
 * and an answer with `Retry-After` (honoured up to 5 min).
 */
function holdOffAfter(failure: KeySourceError): number {
  const timedOut = failure.cause instanceof FetchError && failure.cause.kind === 'timeout';
  return honouredRetryWindowMs(failure.cause, timedOut || refusedOurCredentials(failure) ? HOLD_OFF_MS : 0);
}
