import { KeySourceError } from './errors.js';
import { fetchJSONObject, FetchError } from './internal/fetch-json.js';
import { elapsedMs } from './internal/elapsed.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { checkMetadata, type IssuerMetadata, type OptionalEndpoint } from './issuer-metadata.js';
import { createSharedMetadata } from './shared-metadata.js';
import { storeId, type SharedStore } from './store.js';

export type { IssuerMetadata, OptionalEndpoint } from './issuer-metadata.js';

/** Which metadata document to read: OIDC Discovery 1.0 §4 or RFC 8414 §3. */
export type MetadataDocument = 'openid-configuration' | 'oauth-authorization-server';

/** How to fetch metadata: the same hardening as the JWKS fetch. */
export interface DiscoveryOptions {
  readonly document: MetadataDocument;
  readonly allowHttpLoopback: boolean;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** After a failed discovery, ms before the next attempt; requests in between get a 503. */
  readonly retryAfterMs: number;
  /**
   * The fleet's store: a document that passed its checks is shared, and when the metadata cannot
   * be fetched the fleet's copy is used instead, after the same checks (only its `jwks_uri` when
   * the store does not sign its values, see `SharedStore.signsValues`).
   */
  readonly store?: SharedStore | undefined;
}

/** Where the metadata of `issuer` lives (OIDC appends to the path; RFC 8414 inserts before it). */
export function metadataURL(issuer: string, document: MetadataDocument): URL {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  url.pathname = document === 'openid-configuration' ? `${path}/.well-known/openid-configuration` : `/.well-known/oauth-authorization-server${path}`;
  return url;
}

interface CachedDiscovery {
  promise: Promise<IssuerMetadata>;
  failedAtMs: number | undefined;
  /** After a failure, how long nothing is fetched: `retryAfterMs`, or the IdP's longer Retry-After. */
  retryWindowMs: number;
  /** The metadata, once fetched (or taken from the fleet's copy), and when. */
  settled: { readonly metadata: IssuerMetadata; readonly atMs: number } | undefined;
}

// Shared by every verifier in the process: one discovery per issuer, document, limits and store.
// The store is part of the key because it changes the outcome of an outage: a verifier with a
// store falls back to the fleet's copy, one without answers 503; neither may get the other's.
const DISCOVERIES = new Map<string, CachedDiscovery>();

/**
 * Fetches and checks an issuer's metadata, once per process (and store): concurrent first callers share one
 * fetch; success is kept; a failure is remembered for `retryAfterMs` (requests in that window
 * get a 503 without a fetch) and then retried. Metadata that lacks the member a caller `needs`
 * (the document left it out, the URL policy refused it, or it came from an unsigned fleet copy
 * that withholds the endpoints) is kept only as long, for that caller: then it is fetched again,
 * so the path that needs the member recovers once the IdP serves it, without a restart.
 * @throws KeySourceError when the metadata cannot be fetched or fails the checks
 */
export function discoverIssuer(issuer: string, options: DiscoveryOptions, needs?: OptionalEndpoint): Promise<IssuerMetadata> {
  const cacheKey = JSON.stringify([issuer, options.document, options.allowHttpLoopback, options.timeoutMs, options.maxBytes, storeId(options.store)]);
  const cached = DISCOVERIES.get(cacheKey);
  const nowMs = Date.now();
  const lacking = needs !== undefined && cached?.settled !== undefined && cached.settled.metadata[needs] === undefined;
  // Intervals by `elapsedMs`: a clock stepped back ends them rather than stretching them.
  const dueAgain = lacking && elapsedMs(cached!.settled!.atMs, nowMs) >= options.retryAfterMs;
  if (cached !== undefined && cached.failedAtMs === undefined && !dueAgain) return cached.promise;
  const sinceFailureMs = cached?.failedAtMs === undefined ? Number.POSITIVE_INFINITY : elapsedMs(cached.failedAtMs, nowMs);
  if (cached !== undefined && sinceFailureMs < cached.retryWindowMs) {
    // A fresh error per caller: its Retry-After counts down, and no caller can alter another's.
    const remainingSec = (cached.retryWindowMs - sinceFailureMs) / 1000;
    return cached.promise.catch((err: KeySourceError) => {
      throw new KeySourceError(err.message, remainingSec, { cause: err.cause });
    });
  }
  const entry: CachedDiscovery = {
    promise: fetchMetadata(issuer, options).then((metadata) => {
      entry.settled = { metadata, atMs: Date.now() };
      return metadata;
    }),
    failedAtMs: undefined,
    retryWindowMs: options.retryAfterMs,
    settled: undefined,
  };
  entry.promise.catch((err: KeySourceError) => {
    entry.failedAtMs = Date.now();
    entry.retryWindowMs = honouredRetryWindowMs(err.cause, options.retryAfterMs);
  });
  DISCOVERIES.set(cacheKey, entry);
  return entry.promise;
}

async function fetchMetadata(issuer: string, options: DiscoveryOptions): Promise<IssuerMetadata> {
  const url = metadataURL(issuer, options.document);
  const shared = options.store && createSharedMetadata(options.store, url.href);
  let document: Record<string, unknown>;
  try {
    document = await fetchJSONObject(url, { timeoutMs: options.timeoutMs, maxBytes: options.maxBytes });
  } catch (err) {
    // An instance starting while the endpoint is down takes the copy another instance fetched, held
    // to every check a fetched document passes. A document that was fetched but fails them is an
    // answer, not an outage: it never falls back.
    const copy = await shared?.load();
    if (copy !== undefined) {
      try {
        const metadata = checkMetadata(issuer, url, copy.document, options, copy.keysOnly);
        // An unsigned copy with no usable jwks_uri lends nothing: the fetch error says more.
        if (!copy.keysOnly || metadata.jwks_uri !== undefined) return metadata;
      } catch {
        // a copy that fails the checks is no copy: the outage stands
      }
    }
    const detail = err instanceof FetchError ? err.message : 'it could not be fetched';
    throw new KeySourceError(`Issuer metadata is unavailable: ${detail}`, honouredRetryWindowMs(err, options.retryAfterMs) / 1000, { cause: err });
  }
  const metadata = checkMetadata(issuer, url, document, options, false);
  shared?.save({ issuer: document.issuer, jwks_uri: document.jwks_uri, introspection_endpoint: document.introspection_endpoint, userinfo_endpoint: document.userinfo_endpoint });
  return metadata;
}
