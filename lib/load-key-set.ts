import { JwksClient, JwksError, type SigningKey } from 'jwks-rsa';
import { describeRequest, FetchError, fetchJSONObject } from './internal/fetch-json.js';
import type { ResolvedJWKSClientOptions } from './jwks-options.js';
import { selectVerificationJWKs } from './key-policy.js';
import { KeySet } from './key-set.js';

/** Fetches one JWKS and builds its key set; `previous` lends unchanged keys their old objects. */
export type KeySetLoader = (previous: KeySet | undefined) => Promise<KeySet>;

/**
 * A loader built on jwks-rsa's `JwksClient` (which filters `use`, imports with jose and drops
 * private keys), fed by bearer-guard's hardened fetch with key policy applied to the raw JWKs.
 * jwks-rsa's own cache and rate limiter stay off: the JWKS client owns both.
 * @throws FetchError when the endpoint fails (network, deadline, status, size, redirect, not a JWKS)
 */
export function createKeySetLoader(options: ResolvedJWKSClientOptions): KeySetLoader {
  const url = options.jwksUri;

  async function fetcher(): Promise<{ keys: unknown[] }> {
    const document = await fetchJSONObject(url, { timeoutMs: options.timeout, maxBytes: options.maxResponseBytes });
    if (!Array.isArray(document.keys)) {
      throw new FetchError('invalid_json', `${describeRequest('GET', url)} did not answer a JWKS (no "keys" array)`);
    }
    return { keys: selectVerificationJWKs(document.keys, options.cacheMaxEntries) };
  }

  const source = new JwksClient({ jwksUri: url.href, cache: false, rateLimit: false, fetcher });

  return async function loadKeySet(previous) {
    let signingKeys: SigningKey[];
    try {
      signingKeys = await source.getSigningKeys();
    } catch (err) {
      if (!isEmptySetError(err)) throw err;
      signingKeys = []; // a JWKS was fetched but holds nothing usable: tokens get key_not_found
    }
    return KeySet.build(signingKeys, previous, Date.now());
  };
}

/** jwks-rsa's verdict on a JWKS that was fetched fine but holds no usable key (not an outage). */
function isEmptySetError(err: unknown): boolean {
  const fromEndpoint = (err as { isEndpointUnavailable?: unknown } | undefined)?.isEndpointUnavailable === true;
  return err instanceof JwksError && !fromEndpoint && /did not contain any/.test(err.message);
}
