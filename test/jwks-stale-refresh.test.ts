import { describe, expect, it, vi } from 'vitest';
import { KeySourceError } from '../lib/errors.js';
import { createVerifier } from '../lib/index.js';
import { createJWKSClient, type JWKSClientOptions } from '../lib/jwks-client.js';
import { advance, useFrozenDate } from './helpers/clock.js';
import { verifierOptions } from './helpers/idp-server.js';
import { useIdpServer } from './helpers/use-idp-server.js';
import { sharedKey } from './helpers/keys.js';
import { reasonOf, rejection } from './helpers/outcome.js';
import { signToken } from './helpers/tokens.js';

// Stale-while-revalidate: past `cacheMaxAge` a set that holds the token's kid answers at once
// while one refresh runs that no request waits for, within the same bounds as the outage fallback.

const K1 = sharedKey('k1');
const K2 = sharedKey('k2');
const K3 = sharedKey('k3');

/** The defaults of `createJWKSClient` (`cacheMaxAge`, `cacheMaxAgeFallback`, `cooldown`), in ms; its deadline is 5 s. */
const CACHE_MAX_AGE_MS = 600_000;
const FALLBACK_MS = 3_600_000;
const COOLDOWN_MS = 30_000;
/** An answer that waits for no fetch comes well under this (a tenth of the default deadline), even on a loaded CI machine. */
const AT_ONCE_MS = 500;
/** A deadline for the tests that must see a hanging fetch end. */
const SHORT_DEADLINE_MS = 300;

// Date alone is faked, and frozen: cache ages are stepped with `advance()`; sockets and deadlines stay real.
useFrozenDate();
let serial = 0;
// A path per test: the process-wide registry must never hand a test another test's client. Closing
// the server after each test also ends any fetch still hanging: its background refresh fails, and must fail silently.
const idp = useIdpServer(() => ({ keys: [K1, K2], jwksPath: `/stale-${(serial += 1)}` }), { per: 'test' });

function clientFor(options: Partial<JWKSClientOptions> = {}) {
  return createJWKSClient({ jwksUri: idp.jwksUri, allowHttpLoopback: true, ...options });
}

/** Runs `work`, timed with the real clock (Date is frozen). */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work();
  return { value, ms: performance.now() - started };
}

/** Waits until the endpoint has seen `count` JWKS requests. */
async function jwksHits(count: number): Promise<void> {
  await vi.waitFor(() => expect(idp.hits.jwks).toBe(count), { timeout: 2_000, interval: 5 });
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A token of `key` valid for two hours from the (frozen) clock's now: it outlives every age a test steps to. */
function tokenOf(key: typeof K1): string {
  const nowSec = Math.floor(Date.now() / 1000);
  return signToken(key, { iat: nowSec, exp: nowSec + 2 * 3600 });
}

describe('an expired key set while the JWKS endpoint hangs', () => {
  it('answers a known kid from it well under the fetch deadline', async () => {
    const keys = clientFor();
    const [before] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    const { value: [after], ms } = await timed(() => keys.getKeys('k1', 'RS256'));
    expect(ms).toBeLessThan(AT_ONCE_MS);
    expect(after).toBe(before);
    await jwksHits(2);
  });

  it('answers peekKeys synchronously from it, so the verifier stays on its synchronous path', async () => {
    const keys = clientFor();
    const fetched = await keys.getKeys('k2', 'RS256');
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    expect(keys.peekKeys('k2', 'RS256')).toBe(fetched);
    await jwksHits(2);
  });

  it('makes one background fetch for 200 concurrent requests of known kids', async () => {
    const keys = clientFor();
    await keys.ready();
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    const { value: results, ms } = await timed(() => Promise.all(Array.from({ length: 200 }, (_, i) => keys.getKeys(i % 2 === 0 ? 'k1' : 'k2', 'RS256'))));
    for (let i = 0; i < 50; i += 1) keys.peekKeys('k1', 'RS256');
    expect(ms).toBeLessThan(AT_ONCE_MS);
    expect(results.every((found) => found.length === 1)).toBe(true);
    await jwksHits(2);
    await settle(50);
    expect(idp.hits.jwks).toBe(2);
  });

  it('keeps an unknown kid waiting for the background refresh, which it joins', async () => {
    const keys = clientFor({ timeout: SHORT_DEADLINE_MS });
    await keys.ready();
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    expect(keys.peekKeys('k1', 'RS256')).toHaveLength(1); // starts the background refresh
    const { value: err, ms } = await timed(() => rejection(keys.getKeys('k3', 'RS256')));
    expect(err).toBeInstanceOf(KeySourceError);
    expect(ms).toBeGreaterThanOrEqual(SHORT_DEADLINE_MS - 10);
    expect(idp.hits.jwks).toBe(2);
  });

  it('serves it up to cacheMaxAge + cacheMaxAgeFallback, and nothing past that', async () => {
    const keys = clientFor({ timeout: SHORT_DEADLINE_MS });
    const [key] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS + FALLBACK_MS - 1);
    expect(keys.peekKeys('k1', 'RS256')).toEqual([key]);
    expect(keys.hasKey(key!)).toBe(true);
    advance(1);
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
    expect(keys.hasKey(key!)).toBe(false);
    expect(await rejection(keys.getKeys('k1', 'RS256'))).toBeInstanceOf(KeySourceError);
  });
});

describe('an expired key set while the JWKS endpoint is slow', () => {
  it('has an unknown kid wait for the refetch it starts, while known kids are answered at once: that is how a rotation is picked up', async () => {
    const keys = clientFor();
    await keys.ready();
    idp.setKeys(K1, K2, K3);
    idp.setFault({ kind: 'delay', ms: 2 * AT_ONCE_MS });
    advance(CACHE_MAX_AGE_MS);
    const rotated = timed(() => keys.getKeys('k3', 'RS256'));
    const known = await timed(() => keys.getKeys('k1', 'RS256'));
    expect(known.ms).toBeLessThan(AT_ONCE_MS);
    const { value: [found], ms } = await rotated;
    expect(found?.key.equals(K3.publicKey)).toBe(true);
    expect(ms).toBeGreaterThanOrEqual(2 * AT_ONCE_MS - 10);
    expect(idp.hits.jwks).toBe(2);
  });
});

describe('an expired key set whose background refresh fails', () => {
  it('answers at once through the failure, asks nothing more within the retry window, then refreshes in the background again', async () => {
    const unhandled: unknown[] = [];
    const record = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', record);
    try {
      const keys = clientFor();
      await keys.ready();
      idp.setFault({ kind: 'status', status: 503 });
      advance(CACHE_MAX_AGE_MS);
      expect(keys.peekKeys('k1', 'RS256')).toHaveLength(1);
      await keys.ready(); // joins the background refresh; resolves, since the stale set is served
      await settle(20);
      expect(unhandled).toEqual([]);
      advance(COOLDOWN_MS - 1);
      expect(keys.peekKeys('k1', 'RS256')).toHaveLength(1);
      expect(idp.hits.jwks).toBe(2);
      advance(1);
      expect(keys.peekKeys('k1', 'RS256')).toHaveLength(1);
      await jwksHits(3);
    } finally {
      process.off('unhandledRejection', record);
    }
  });
});

describe('hasKey of an expired key set', () => {
  it('stays true while its background refresh is in flight', async () => {
    const keys = clientFor();
    const [key] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    expect(keys.hasKey(key!)).toBe(false); // nothing refreshes it yet: the token cache must not trust it
    keys.peekKeys('k1', 'RS256');
    expect(keys.hasKey(key!)).toBe(true);
  });

  it('turns false once the retry window after its failed refresh has passed, until a request refreshes it again', async () => {
    const keys = clientFor();
    const [key] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'status', status: 503 });
    advance(CACHE_MAX_AGE_MS);
    keys.peekKeys('k1', 'RS256');
    await keys.ready();
    expect(keys.hasKey(key!)).toBe(true);
    advance(COOLDOWN_MS);
    expect(keys.hasKey(key!)).toBe(false);
    keys.peekKeys('k1', 'RS256');
    expect(keys.hasKey(key!)).toBe(true);
  });
});

describe('a key removed while an expired set is served', () => {
  it('is refused, cached tokens included, once the endpoint heals and the background refresh completes', async () => {
    const verifier = createVerifier({ ...verifierOptions(idp), jwks: { timeout: 2 * AT_ONCE_MS } });
    const token = tokenOf(K1);
    await verifier.verify(token); // cached
    idp.setFault({ kind: 'hang' });
    advance(CACHE_MAX_AGE_MS);
    const stale = await timed(() => verifier.verify(token));
    expect(stale.value.payload.sub).toBe('user-1');
    expect(stale.ms).toBeLessThan(AT_ONCE_MS);
    await jwksHits(2); // the background refresh hangs
    // The endpoint heals with K1 gone; the hanging fetch fails at its deadline, and holds fetches off.
    idp.setFault(null);
    idp.setKeys(K2);
    await verifier.ready();
    expect((await verifier.verify(token)).payload.sub).toBe('user-1');
    advance(COOLDOWN_MS);
    expect((await verifier.verify(token)).payload.sub).toBe('user-1'); // answered stale; starts the refresh
    await verifier.ready(); // joins it
    expect(await reasonOf(verifier.verify(token))).toBe('key_not_found');
    expect((await verifier.verify(tokenOf(K2))).payload.sub).toBe('user-1');
  });

  it('is refused by the client once the background refresh of a healthy endpoint completes', async () => {
    const keys = clientFor();
    const [old] = await keys.getKeys('k1', 'RS256');
    idp.setKeys(K2);
    advance(CACHE_MAX_AGE_MS);
    expect(await keys.getKeys('k1', 'RS256')).toEqual([old]);
    await keys.ready();
    expect(keys.hasKey(old!)).toBe(false);
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
    expect(await reasonOf(keys.getKeys('k1', 'RS256'))).toBe('key_not_found');
  });
});
