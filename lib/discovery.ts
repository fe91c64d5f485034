import { KeySourceError } from './errors.js';
import { fetchJSONObject, FetchError } from './internal/fetch-json.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { checkFetchURL } from './internal/url-policy.js';
import { createSharedMetadata } from './shared-metadata.js';
import { storeId, type SharedStore } from './store.js';

/** Which metadata document to read: OIDC Discovery 1.0 §4 or RFC 8414 §3. */
export type MetadataDocument = 'openid-configuration' | 'oauth-authorization-server';

/** The metadata members bearer-guard can do without: only the opaque-token path calls them. */
export type OptionalEndpoint = 'introspection_endpoint' | 'userinfo_endpoint';

/** The members of an issuer's metadata that bearer-guard uses. */
export interface IssuerMetadata {
  readonly issuer: string;
  readonly jwks_uri: string;
  /** `undefined` when the document leaves it out or names one the URL policy refuses (see `unusable`). */
  readonly introspection_endpoint: string | undefined;
  /** `undefined` when the document leaves it out or names one the URL policy refuses (see `unusable`). */
  readonly userinfo_endpoint: string | undefined;
  /**
   * Optional endpoints the document names but the URL policy refuses (not https:, credentials,
   * a fragment, not a string…), each with the policy's message. Such an endpoint is never
   * fetched, and it fails only the opaque-token path that needs it, not the whole discovery:
   * an API that verifies JWTs locally keeps working. Empty when every named endpoint is usable.
   */
  readonly unusable: Readonly<Partial<Record<OptionalEndpoint, string>>>;
}

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
   * be fetched the fleet's copy is used instead, after the same checks.
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
}

// Shared by every verifier in the process: one discovery per issuer, document, limits and store.
// The store is part of the key because it changes the outcome of an outage: a verifier with a
// store falls back to the fleet's copy, one without answers 503; neither may get the other's.
const DISCOVERIES = new Map<string, CachedDiscovery>();

/**
 * Fetches and checks an issuer's metadata, once per process (and store): concurrent first callers share one
 * fetch; success is kept; a failure is remembered for `retryAfterMs` (requests in that window
 * get a 503 without a fetch) and then retried.
 * @throws KeySourceError when the metadata cannot be fetched or fails the checks
 */
export function discoverIssuer(issuer: string, options: DiscoveryOptions): Promise<IssuerMetadata> {
  const cacheKey = JSON.stringify([issuer, options.document, options.allowHttpLoopback, options.timeoutMs, options.maxBytes, storeId(options.store)]);
  const cached = DISCOVERIES.get(cacheKey);
  const nowMs = Date.now();
  if (cached !== undefined && cached.failedAtMs === undefined) return cached.promise;
  if (cached !== undefined && cached.failedAtMs !== undefined && nowMs - cached.failedAtMs < cached.retryWindowMs) {
    // A fresh error per caller: its Retry-After counts down, and no caller can alter another's.
    const remainingSec = (cached.failedAtMs + cached.retryWindowMs - nowMs) / 1000;
    return cached.promise.catch((err: KeySourceError) => {
      throw new KeySourceError(err.message, remainingSec, { cause: err.cause });
    });
  }
  const entry: CachedDiscovery = { promise: fetchMetadata(issuer, options), failedAtMs: undefined, retryWindowMs: options.retryAfterMs };
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
        return checkMetadata(issuer, url, copy, options);
      } catch {
        // a copy that fails the checks is no copy: the outage stands
      }
    }
    const detail = err instanceof FetchError ? err.message : 'it could not be fetched';
    throw new KeySourceError(`Issuer metadata is unavailable: ${detail}`, honouredRetryWindowMs(err, options.retryAfterMs) / 1000, { cause: err });
  }
  const metadata = checkMetadata(issuer, url, document, options);
  shared?.save({ issuer: document.issuer, jwks_uri: document.jwks_uri, introspection_endpoint: document.introspection_endpoint, userinfo_endpoint: document.userinfo_endpoint });
  return metadata;
}

/** The members bearer-guard uses, checked: the exact issuer, and the URL policy on every endpoint. */
function checkMetadata(issuer: string, url: URL, document: Record<string, unknown>, options: DiscoveryOptions): IssuerMetadata {
  const retryAfterSec = options.retryAfterMs / 1000;
  // OIDC Discovery §4.3 / RFC 8414 §3.3: the document must name exactly the issuer we asked about,
  // or a compromised or misconfigured host could hand out another issuer's keys.
  if (document.issuer !== issuer) {
    throw new KeySourceError(`Issuer metadata at ${url.origin}${url.pathname} names another issuer`, retryAfterSec);
  }
  let jwksUri: string;
  try {
    jwksUri = checkFetchURL('Issuer metadata `jwks_uri`', document.jwks_uri, options.allowHttpLoopback).href;
  } catch (err) {
    throw new KeySourceError((err as Error).message, retryAfterSec, { cause: err });
  }
  const unusable: Partial<Record<OptionalEndpoint, string>> = {};
  const optional = (member: OptionalEndpoint): string | undefined => {
    const value = document[member];
    if (value === undefined) return undefined;
    try {
      return checkFetchURL(`Issuer metadata \`${member}\``, value, options.allowHttpLoopback).href;
    } catch (err) {
      unusable[member] = (err as Error).message;
      return undefined;
    }
  };
  return Object.freeze({
    issuer,
    jwks_uri: jwksUri,
    introspection_endpoint: optional('introspection_endpoint'),
    userinfo_endpoint: optional('userinfo_endpoint'),
    unusable: Object.freeze(unusable),
  });
}
