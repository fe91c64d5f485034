import { discoverIssuer, type DiscoveryOptions, type IssuerMetadata } from './discovery.js';
import { KeySourceError } from './errors.js';
import { FetchError } from './internal/fetch-json.js';
import { createJWKSClient, type JWKSClient } from './jwks-client.js';
import type { ResolvedIssuer } from './options.js';
import type { SharedStore } from './store.js';

/** Where one issuer's verification keys come from: the JWKS client's lookup methods. */
export type KeyResolver = Pick<JWKSClient, 'peekKeys' | 'getKeys' | 'hasKey' | 'keysAfterFailedSignature' | 'ready'>;

const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024;
/** After a failed discovery, how long requests get a 503 before it is tried again. */
const DISCOVERY_RETRY_MS = 5_000;

/**
 * Picks the key source of one configured issuer: the given `jwksClient`, the process-wide shared
 * client of its `jwksUri`, or the `jwks_uri` found by discovery from the issuer URL.
 * Key locations come from configuration (or the configured issuer's metadata), never from a token.
 */
export function createKeyResolver(issuer: ResolvedIssuer, allowHttpLoopback: boolean, store?: SharedStore): KeyResolver {
  const source = issuer.jwksClient
    ?? (issuer.jwksUri === undefined
      ? createDiscoveredKeyResolver(issuer, allowHttpLoopback, store)
      : createJWKSClient({ ...issuer.jwks, jwksUri: issuer.jwksUri.href, allowHttpLoopback, store }));
  return {
    peekKeys: (kid, alg) => source.peekKeys(kid, alg),
    getKeys: (kid, alg) => source.getKeys(kid, alg),
    hasKey: (key) => source.hasKey(key),
    keysAfterFailedSignature: (kid, alg, tried) => source.keysAfterFailedSignature(kid, alg, tried),
    ready: () => source.ready().catch((err: unknown) => {
      throw notReady(issuer.issuer, err);
    }),
  };
}

/**
 * A readiness failure that says which issuer and which URL failed: a server with several issuers
 * must be able to tell from its startup log what to fix. (Never sent to a client.)
 */
function notReady(issuer: string, err: unknown): unknown {
  if (!(err instanceof KeySourceError)) return err;
  const detail = err.cause instanceof FetchError && !err.message.includes(err.cause.message) ? ` (${err.cause.message})` : '';
  return new KeySourceError(`Issuer "${issuer}" is not ready: ${err.message}${detail}`, err.retryAfterSec, { cause: err });
}

/** Discovery options for an issuer, with the same deadline and byte cap as its JWKS fetch. */
export function discoveryOptionsOf(issuer: ResolvedIssuer, allowHttpLoopback: boolean, store: SharedStore | undefined): DiscoveryOptions {
  return {
    document: issuer.discovery,
    allowHttpLoopback,
    store,
    timeoutMs: issuer.jwks?.timeout ?? DEFAULT_FETCH_TIMEOUT_MS,
    maxBytes: issuer.jwks?.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    retryAfterMs: DISCOVERY_RETRY_MS,
  };
}

function createDiscoveredKeyResolver(issuer: ResolvedIssuer, allowHttpLoopback: boolean, store: SharedStore | undefined): KeyResolver {
  const discovery = discoveryOptionsOf(issuer, allowHttpLoopback, store);
  // The cache settings were checked at startup (issuer-options.ts): a bad one cannot throw here,
  // after discovery, on every request.
  // Set once discovery has succeeded; from then on lookups are as cheap as with a `jwksUri`.
  let client: JWKSClient | undefined;

  async function discoveredClient(): Promise<JWKSClient> {
    if (client === undefined) {
      const metadata = await discoverIssuer(issuer.issuer, discovery, 'jwks_uri');
      client ??= createJWKSClient({ ...issuer.jwks, jwksUri: jwksUriOf(metadata, discovery.retryAfterMs / 1000), allowHttpLoopback, store });
    }
    return client;
  }

  return {
    peekKeys: (kid, alg) => client?.peekKeys(kid, alg),
    getKeys: async (kid, alg) => (await discoveredClient()).getKeys(kid, alg),
    hasKey: (key) => client?.hasKey(key) ?? false,
    keysAfterFailedSignature: (kid, alg, tried) => client?.keysAfterFailedSignature(kid, alg, tried),
    ready: async () => (await discoveredClient()).ready(),
  };
}

/**
 * The discovered `jwks_uri`. Without a usable one only JWTs fail, each with a 503 that says why
 * (as the opaque path does for its endpoint): discovery itself stands, since opaque tokens of the
 * same issuer need no keys.
 * @throws KeySourceError naming `jwks_uri` when the metadata has none or the URL policy refused it
 */
function jwksUriOf(metadata: IssuerMetadata, retryAfterSec: number): string {
  if (metadata.jwks_uri !== undefined) return metadata.jwks_uri;
  const unusable = metadata.unusable.jwks_uri;
  if (unusable !== undefined) throw new KeySourceError(`${unusable}, so it is not fetched; configure \`jwksUri\``, retryAfterSec);
  throw new KeySourceError('Issuer metadata has no jwks_uri; configure `jwksUri`', retryAfterSec);
}
