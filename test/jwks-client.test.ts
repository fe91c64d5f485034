import { KeyObject } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, InvalidTokenError, KeySourceError } from '../lib/errors.js';
import { FetchError } from '../lib/internal/fetch-json.js';
import { createJWKSClient, type JWKSClientOptions } from '../lib/jwks-client.js';
import { advance, useFrozenDate } from './helpers/clock.js';
import { refusedUrl, startIdpServer, type Fault, type IdpServer } from './helpers/idp-server.js';
import { makeKey, sharedKey } from './helpers/keys.js';
import { rejection } from './helpers/outcome.js';

const K1 = sharedKey('k1');
const K2 = sharedKey('k2');
const EC = sharedKey('e1', 'ES256');
const WEAK = makeKey('weak', 'RS256', { modulusLength: 1024 });

let idp: IdpServer;
let serial = 0;
// A path per test: the process-wide registry must never hand a test another test's client.
beforeEach(async () => {
  serial += 1;
  idp = await startIdpServer({ keys: [K1], jwksPath: `/jwks-${serial}` });
});
afterEach(async () => {
  await idp.close();
});

function clientFor(options: Partial<JWKSClientOptions> = {}) {
  return createJWKSClient({ jwksUri: idp.jwksUri, allowHttpLoopback: true, ...options });
}

async function expectKeyNotFound(promise: Promise<unknown>): Promise<void> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(InvalidTokenError);
  expect(err).toMatchObject({ status: 401, reason: 'key_not_found' });
}

async function expectOutage(promise: Promise<unknown>): Promise<KeySourceError> {
  const err = await rejection(promise);
  expect(err).toBeInstanceOf(KeySourceError);
  expect(err).toMatchObject({ status: 503, reason: 'key_source_unavailable' });
  return err as KeySourceError;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the endpoint has seen `count` JWKS requests (a background refresh is not awaited by the lookup that started it). */
async function jwksHits(count: number): Promise<void> {
  await vi.waitFor(() => expect(idp.hits.jwks).toBe(count), { timeout: 2_000, interval: 5 });
}

describe('createJWKSClient options', () => {
  it.each([
    ['an http: URL on a non-loopback host', { jwksUri: 'http://idp.example/jwks', allowHttpLoopback: true }, /`jwksUri` must use https:/],
    ['an http: loopback URL without allowHttpLoopback', { jwksUri: 'http://127.0.0.1:1/jwks' }, /allowHttpLoopback/],
    ['a string that is not a URL', { jwksUri: 'not a url' }, /`jwksUri` is not a valid URL/],
    ['an unknown option', { jwksUri: 'https://idp.example/jwks', cacheMaxAgee: 1 }, /unknown option `cacheMaxAgee`/],
    ['jwks-rsa\'s jwksRequestsPerMinute', { jwksUri: 'https://idp.example/jwks', jwksRequestsPerMinute: 5 }, /`jwksRequestsPerMinute`.*`cooldown`/],
    ['cache: false', { jwksUri: 'https://idp.example/jwks', cache: false }, /`cache` must be true or absent; bearer-guard always caches/],
    ['rateLimit: false', { jwksUri: 'https://idp.example/jwks', rateLimit: false }, /`rateLimit` must be true or absent/],
    ['a non-boolean allowHttpLoopback', { jwksUri: 'https://idp.example/jwks', allowHttpLoopback: 'yes' }, /`allowHttpLoopback`/],
  ])('throws ConfigError at creation for %s', (_label, options, message) => {
    const create = () => createJWKSClient(options as unknown as JWKSClientOptions);
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(/^createJWKSClient: /);
    expect(create).toThrow(message);
  });

  // Each number option, what it wants, and its values out of range; every option is also tried
  // with a string, `null` (refused like every other option: only an absent one takes the
  // default), NaN and both infinities.
  const NUMBER_OPTIONS: readonly [string, string, readonly number[]][] = [
    ['cacheMaxAge', 'a number > 0', [0, -1]],
    ['cacheMaxAgeFallback', 'a number ≥ 0', [-1]],
    ['cooldown', 'a number > 0', [0, -1]],
    ['timeout', 'a number > 0 and ≤ 2147483647', [0, 2 ** 31]],
    ['maxResponseBytes', 'an integer ≥ 1', [0, 1.5]],
    ['cacheMaxEntries', 'an integer ≥ 1', [0, 1.5]],
  ];
  it.each(NUMBER_OPTIONS.flatMap(([name, wanted, outOfRange]) =>
    ['100', null, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, ...outOfRange].map((value) => [name, value, wanted] as const)))(
    'throws ConfigError naming `%s` for the value %o, saying what it wants',
    (name, value, wanted) => {
      const create = () => createJWKSClient({ jwksUri: 'https://idp.example/jwks', [name]: value } as JWKSClientOptions);
      expect(create).toThrow(ConfigError);
      expect(create).toThrow(new ConfigError(`createJWKSClient: \`${name}\` must be ${wanted}`));
    },
  );

  it.each([
    ['cacheMaxAge', 0.5], ['cooldown', 0.5], ['timeout', 2 ** 31 - 1], ['maxResponseBytes', 1], ['cacheMaxEntries', 1],
  ])('accepts `%s` at its bound, %s', (name, value) => {
    expect(() => clientFor({ [name]: value })).not.toThrow();
  });

  it('accepts a jwks-rsa configuration with cache and rateLimit true, without fetching', () => {
    const keys = clientFor({ cache: true, rateLimit: true, cacheMaxEntries: 5, cacheMaxAge: 600_000 });
    expect(keys.jwksUri).toBe(idp.jwksUri);
    expect(idp.hits.total).toBe(0);
  });

  it('accepts cacheMaxAgeFallback 0', () => {
    expect(() => clientFor({ cacheMaxAgeFallback: 0 })).not.toThrow();
  });

  it('returns the same client for the same URL and equal options', () => {
    expect(clientFor({ cooldown: 1_000 })).toBe(clientFor({ cooldown: 1_000 }));
  });

  it('treats an option given as its default like an absent one', () => {
    expect(clientFor({ cacheMaxAge: 600_000 })).toBe(clientFor());
  });

  it('returns another client for different options', () => {
    expect(clientFor({ cooldown: 1_000 })).not.toBe(clientFor({ cooldown: 2_000 }));
  });

  it('returns the same client for an https URL with and without allowHttpLoopback, which means nothing for it', () => {
    const jwksUri = `https://registry-${serial}.idp.example/jwks`;
    expect(createJWKSClient({ jwksUri, allowHttpLoopback: true })).toBe(createJWKSClient({ jwksUri }));
  });
});

describe('createJWKSClient key lookup', () => {
  it('hands out keys as KeyObjects by kid', async () => {
    const [found, ...rest] = await clientFor().getKeys('k1', 'RS256');
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ kid: 'k1', alg: 'RS256' });
    expect(found?.key).toBeInstanceOf(KeyObject);
    expect(found?.key.type).toBe('public');
    expect(found?.key.equals(K1.publicKey)).toBe(true);
  });

  it('caches the whole set: a second kid needs no fetch', async () => {
    idp.setKeys(K1, K2);
    const keys = clientFor();
    await keys.getKeys('k1', 'RS256');
    await keys.getKeys('k2', 'RS256');
    expect(idp.hits.jwks).toBe(1);
  });

  it('imports each key once per fetch, not per lookup', async () => {
    const keys = clientFor();
    const [first] = await keys.getKeys('k1', 'RS256');
    const [second] = await keys.getKeys('k1', 'RS256');
    expect(second).toBe(first);
  });

  it('shares one fetch among 200 concurrent cold lookups', async () => {
    idp.setFault({ kind: 'delay', ms: 50 });
    const keys = clientFor();
    const results = await Promise.all(Array.from({ length: 200 }, () => keys.getKeys('k1', 'RS256')));
    expect(idp.hits.jwks).toBe(1);
    expect(new Set(results.map(([key]) => key)).size).toBe(1);
  });

  it('refetches the set once it is older than cacheMaxAge', async () => {
    const keys = clientFor({ cacheMaxAge: 100 });
    await keys.getKeys('k1', 'RS256');
    await sleep(150);
    await keys.getKeys('k1', 'RS256');
    await jwksHits(2);
  });

  it('fetches a rotated-in kid once and accepts it', async () => {
    const keys = clientFor();
    await keys.ready();
    idp.setKeys(K1, K2);
    const results = await Promise.all(Array.from({ length: 20 }, () => keys.getKeys('k2', 'RS256')));
    await keys.getKeys('k2', 'RS256');
    expect(results.every(([key]) => key?.key.equals(K2.publicKey))).toBe(true);
    expect(idp.hits.jwks).toBe(2);
  });

  it('answers a flood of random kids with at most one fetch per cooldown', async () => {
    const keys = clientFor({ cooldown: 200 });
    await keys.ready();
    const flood = () => Promise.allSettled(Array.from({ length: 200 }, (_, i) => keys.getKeys(`forged-${serial}-${i}-${Math.random()}`, 'RS256')));
    const first = await flood();
    await flood();
    expect(first.every((result) => result.status === 'rejected' && (result.reason as InvalidTokenError).reason === 'key_not_found')).toBe(true);
    expect(idp.hits.jwks).toBe(2);
  });

  it('accepts a real rotation once the cooldown a flood used up has passed', async () => {
    const keys = clientFor({ cooldown: 200 });
    await keys.ready();
    await Promise.allSettled(Array.from({ length: 200 }, (_, i) => keys.getKeys(`forged-${i}`, 'RS256')));
    idp.setKeys(K1, K2);
    await expectKeyNotFound(keys.getKeys('k2', 'RS256'));
    await sleep(250);
    expect((await keys.getKeys('k2', 'RS256'))[0]?.key.equals(K2.publicKey)).toBe(true);
    expect(idp.hits.jwks).toBe(3);
  });

  it('answers an unknown kid with key_not_found and no fetch within the cooldown', async () => {
    const keys = clientFor();
    await keys.ready();
    await expectKeyNotFound(keys.getKeys('forged-1', 'RS256')); // the one refetch of this cooldown
    await expectKeyNotFound(keys.getKeys('forged-2', 'RS256'));
    expect(idp.hits.jwks).toBe(2);
  });

  it('keeps the kid out of the key_not_found message', async () => {
    const err = await rejection(clientFor().getKeys('kid-from-the-token', 'RS256'));
    expect((err as Error).message).not.toContain('kid-from-the-token');
  });

  it('treats a fetched JWKS with no keys as an empty set, not an outage', async () => {
    idp.setJWKS({ keys: [] });
    const keys = clientFor();
    await keys.ready();
    await expectKeyNotFound(keys.getKeys('k1', 'RS256'));
  });

  it('keeps at most cacheMaxEntries keys of a set', async () => {
    idp.setKeys(K1, K2, EC);
    const keys = clientFor({ cacheMaxEntries: 2 });
    await keys.getKeys('k2', 'RS256');
    await expectKeyNotFound(keys.getKeys('e1', 'ES256'));
  });
});

describe('createJWKSClient peekKeys', () => {
  it('returns undefined, without fetching, while the cache is cold', () => {
    const keys = clientFor();
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
    expect(idp.hits.total).toBe(0);
  });

  it('returns the candidates of a fresh set synchronously', async () => {
    const keys = clientFor();
    const fetched = await keys.getKeys('k1', 'RS256');
    expect(keys.peekKeys('k1', 'RS256')).toEqual(fetched);
  });

  it('returns undefined for a kid not in the set', async () => {
    const keys = clientFor();
    await keys.ready();
    expect(keys.peekKeys('k2', 'RS256')).toBeUndefined();
  });

  it('returns the candidates of a set older than cacheMaxAge, and refreshes it in the background', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const fetched = await keys.getKeys('k1', 'RS256');
    await sleep(80);
    expect(keys.peekKeys('k1', 'RS256')).toBe(fetched);
    await jwksHits(2);
  });

  it('returns undefined once the set is older than cacheMaxAge + cacheMaxAgeFallback', async () => {
    const keys = clientFor({ cacheMaxAge: 50, cacheMaxAgeFallback: 50 });
    await keys.ready();
    await sleep(150);
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
  });

  it('returns undefined once the set is older than cacheMaxAge with cacheMaxAgeFallback 0', async () => {
    const keys = clientFor({ cacheMaxAge: 50, cacheMaxAgeFallback: 0 });
    await keys.ready();
    await sleep(80);
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
  });
});

describe('createJWKSClient outages', () => {
  it('serves the last good keys when the endpoint fails after warm-up', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    await keys.ready();
    idp.setFault({ kind: 'status', status: 500 });
    await sleep(80);
    expect((await keys.getKeys('k1', 'RS256'))[0]?.kid).toBe('k1');
    await jwksHits(2);
  });

  it('throws KeySourceError with a Retry-After when the endpoint is down and nothing is cached', async () => {
    idp.setFault({ kind: 'status', status: 500 });
    const err = await expectOutage(clientFor({ cooldown: 10_000 }).getKeys('k1', 'RS256'));
    expect(err.retryAfterSec).toBe(10);
    expect(err.headers).toEqual({ 'Retry-After': '10' });
    expect(err.cause).toBeInstanceOf(FetchError);
  });

  it('throws KeySourceError once the fallback window has passed', async () => {
    const keys = clientFor({ cacheMaxAge: 50, cacheMaxAgeFallback: 50 });
    await keys.ready();
    idp.setFault({ kind: 'status', status: 500 });
    await sleep(150);
    await expectOutage(keys.getKeys('k1', 'RS256'));
  });

  it('never serves stale keys with cacheMaxAgeFallback 0', async () => {
    const keys = clientFor({ cacheMaxAge: 50, cacheMaxAgeFallback: 0 });
    await keys.ready();
    idp.setFault({ kind: 'status', status: 500 });
    await sleep(80);
    await expectOutage(keys.getKeys('k1', 'RS256'));
  });

  it('throws KeySourceError for an unknown kid when its refetch fails', async () => {
    const keys = clientFor();
    await keys.ready();
    idp.setFault({ kind: 'status', status: 500 });
    await expectOutage(keys.getKeys('k2', 'RS256'));
    expect((await keys.getKeys('k1', 'RS256'))[0]?.kid).toBe('k1');
  });

  it('does not refetch within the cooldown after a failure, and counts Retry-After down', async () => {
    idp.setFault({ kind: 'status', status: 500 });
    const keys = clientFor({ cooldown: 3_000 });
    await expectOutage(keys.getKeys('k1', 'RS256'));
    await sleep(1_100);
    const err = await expectOutage(keys.getKeys('k1', 'RS256'));
    expect(err.retryAfterSec).toBe(2);
    expect(idp.hits.jwks).toBe(1);
  });

  it('fetches again after the cooldown once the endpoint recovers', async () => {
    idp.setFault({ kind: 'status', status: 500 });
    const keys = clientFor({ cooldown: 100 });
    await expectOutage(keys.getKeys('k1', 'RS256'));
    idp.setFault(null);
    await sleep(150);
    expect((await keys.getKeys('k1', 'RS256'))[0]?.kid).toBe('k1');
  });

  it.each<[string, () => Fault | 'no keys' | 'keys not an array', FetchError['kind']]>([
    ['an HTTP 500', () => ({ kind: 'status', status: 500 }), 'status'],
    ['an HTTP 429', () => ({ kind: 'status', status: 429, retryAfter: '5' }), 'status'],
    ['a reset connection', () => ({ kind: 'reset' }), 'network'],
    ['a non-JSON body', () => ({ kind: 'garbage' }), 'invalid_json'],
    ['a JSON object without keys', () => 'no keys', 'invalid_json'],
    ['a keys member that is not an array', () => 'keys not an array', 'invalid_json'],
    ['a streamed body over maxResponseBytes', () => ({ kind: 'huge', bytes: 1024 * 1024 }), 'too_large'],
  ])('treats %s as an outage', async (_label, arrange, kind) => {
    const fault = arrange();
    if (fault === 'no keys') idp.setJWKS({ issuer: 'https://idp.example' });
    else if (fault === 'keys not an array') idp.setJWKS({ keys: { k1: K1.jwk } });
    else idp.setFault(fault);
    const err = await expectOutage(clientFor().getKeys('k1', 'RS256'));
    expect(err.cause).toMatchObject({ kind });
  });

  it('treats a refused connection as an outage', async () => {
    const keys = createJWKSClient({ jwksUri: await refusedUrl(`/jwks-${serial}`), allowHttpLoopback: true });
    expect((await expectOutage(keys.getKeys('k1', 'RS256'))).cause).toMatchObject({ kind: 'network' });
  });

  it('fails a slow-drip endpoint within the fetch deadline', async () => {
    idp.setFault({ kind: 'drip', bytesPerSecond: 20 });
    const started = Date.now();
    await expectOutage(clientFor({ timeout: 300 }).getKeys('k1', 'RS256'));
    expect(Date.now() - started).toBeLessThan(300 + 500);
  });

  it('refuses a JWKS larger than maxResponseBytes', async () => {
    idp.setJWKS({ keys: [K1.jwk], pad: 'x'.repeat(5_000) });
    await expectOutage(clientFor({ maxResponseBytes: 4_000 }).getKeys('k1', 'RS256'));
  });

  it('does not follow a redirect: its target sees no request', async () => {
    const target = await startIdpServer({ keys: [K1] });
    idp.setFault({ kind: 'redirect', location: target.jwksUri });
    const err = await expectOutage(clientFor().getKeys('k1', 'RS256'));
    await target.close();
    expect(err.cause).toMatchObject({ kind: 'redirect' });
    expect(target.hits.total).toBe(0);
  });
});

describe('createJWKSClient key policy', () => {
  const RSA_PRIVATE = K1.privateKey.export({ format: 'jwk' });

  it.each<[string, Record<string, unknown>, string, string]>([
    ['a 1024-bit RSA key', WEAK.jwk, 'weak', 'RS256'],
    ['a private JWK', { ...RSA_PRIVATE, kid: 'k1', alg: 'RS256', use: 'sig' }, 'k1', 'RS256'],
    ['a public JWK that carries its primes', { ...K1.jwk, p: RSA_PRIVATE.p, q: RSA_PRIVATE.q }, 'k1', 'RS256'],
    ['a symmetric (oct) key', { kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0', kid: 'h1', alg: 'HS256' }, 'h1', 'HS256'],
    ['a key with use enc', { ...K1.jwk, use: 'enc' }, 'k1', 'RS256'],
    ['a key with key_ops [encrypt]', { ...K1.jwk, key_ops: ['encrypt'] }, 'k1', 'RS256'],
  ])('ignores %s', async (_label, jwk, kid, alg) => {
    idp.setJWKS({ keys: [jwk] });
    await expectKeyNotFound(clientFor().getKeys(kid, alg));
  });

  it('accepts a key whose key_ops include verify', async () => {
    idp.setJWKS({ keys: [{ ...K1.jwk, key_ops: ['verify'] }] });
    expect(await clientFor().getKeys('k1', 'RS256')).toHaveLength(1);
  });

  it.each(['RS384', 'PS256'])('offers no candidate when the JWK alg RS256 differs from the token alg %s', async (alg) => {
    await expectKeyNotFound(clientFor().getKeys('k1', alg));
  });

  it.each([
    ['RS256', true], ['PS256', true], ['RS512', true], ['ES256', false],
  ])('offers an RSA key without alg for %s: %s', async (alg, offered) => {
    idp.setJWKS({ keys: [{ ...K1.jwk, alg: undefined }] });
    const result = clientFor().getKeys('k1', alg);
    if (offered) expect(await result).toHaveLength(1);
    else await expectKeyNotFound(result);
  });

  it.each([
    ['ES256', true], ['ES384', false], ['RS256', false],
  ])('offers a P-256 EC key without alg for %s: %s', async (alg, offered) => {
    idp.setJWKS({ keys: [{ ...EC.jwk, alg: undefined }] });
    const result = clientFor().getKeys('e1', alg);
    if (offered) expect(await result).toHaveLength(1);
    else await expectKeyNotFound(result);
  });

  it('offers the one key fitting the alg to a token without kid', async () => {
    idp.setKeys(K1, EC);
    const found = await clientFor().getKeys(undefined, 'RS256');
    expect(found.map((key) => key.kid)).toEqual(['k1']);
  });

  it('offers nothing to a token without kid when two keys fit its alg', async () => {
    idp.setKeys(K1, K2);
    await expectKeyNotFound(clientFor().getKeys(undefined, 'RS256'));
  });

  it('offers every key that shares a duplicated kid', async () => {
    idp.setJWKS({ keys: [K1.jwk, { ...K2.jwk, kid: 'k1' }] });
    const found = await clientFor().getKeys('k1', 'RS256');
    expect(found.map(({ key }) => [key.equals(K1.publicKey), key.equals(K2.publicKey)])).toEqual([[true, false], [false, true]]);
  });
});

describe('createJWKSClient hasKey', () => {
  it('stays true across a refresh that keeps the key', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const [before] = await keys.getKeys('k1', 'RS256');
    await sleep(80);
    await keys.getKeys('k1', 'RS256'); // answered from the expired set, which it refreshes in the background
    await keys.ready(); // joins that refresh
    const [after] = await keys.getKeys('k1', 'RS256');
    expect(idp.hits.jwks).toBe(2);
    expect(after).toBe(before);
    expect(keys.hasKey(before!)).toBe(true);
  });

  it('turns false once the key has left the set', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const [old] = await keys.getKeys('k1', 'RS256');
    idp.setKeys(K2);
    await sleep(80);
    await keys.getKeys('k2', 'RS256');
    expect(keys.hasKey(old!)).toBe(false);
  });

  it('turns false when a kid is reused for another key', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const [old] = await keys.getKeys('k1', 'RS256');
    idp.setJWKS({ keys: [{ ...K2.jwk, kid: 'k1' }] });
    await sleep(80);
    expect(await keys.getKeys('k1', 'RS256')).toEqual([old]); // from the expired set, refreshed in the background
    await keys.ready(); // joins that refresh
    const [replacement] = await keys.getKeys('k1', 'RS256');
    expect(replacement?.key.equals(K2.publicKey)).toBe(true);
    expect(keys.hasKey(old!)).toBe(false);
  });

  it('is false for an expired set that nothing is refreshing', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const [key] = await keys.getKeys('k1', 'RS256');
    await sleep(80);
    expect(keys.hasKey(key!)).toBe(false);
  });

  it('stays true while a stale set is served through an outage', async () => {
    const keys = clientFor({ cacheMaxAge: 50 });
    const [key] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'status', status: 503 });
    await sleep(80);
    await keys.getKeys('k1', 'RS256');
    expect(keys.hasKey(key!)).toBe(true);
  });
});

describe('createJWKSClient ready', () => {
  it('resolves once the set is loaded', async () => {
    const keys = clientFor();
    await keys.ready();
    expect(idp.hits.jwks).toBe(1);
    expect(keys.peekKeys('k1', 'RS256')).toHaveLength(1);
  });

  it('rejects with KeySourceError when the endpoint is down', async () => {
    idp.setFault({ kind: 'status', status: 503 });
    await expectOutage(clientFor().ready());
  });
});

// Date alone is faked and frozen here, so the wall clock can be stepped back (an NTP step, a VM
// resumed from a snapshot) while sockets and deadlines stay real.
describe('createJWKSClient when the wall clock steps back an hour', () => {
  useFrozenDate();
  const HOUR_MS = 3_600_000;
  /** The defaults of `cooldown`, `cacheMaxAgeFallback`, in ms. */
  const COOLDOWN_MS = 30_000;
  const FALLBACK_MS = 3_600_000;

  it('accepts a newly published kid at once, with one refetch', async () => {
    const keys = clientFor();
    await keys.ready();
    await expectKeyNotFound(keys.getKeys('forged', 'RS256')); // starts the unknown-kid cooldown
    advance(-HOUR_MS);
    idp.setKeys(K1, K2);
    const [found] = await keys.getKeys('k2', 'RS256');
    expect(found?.key.equals(K2.publicKey)).toBe(true);
    expect(idp.hits.jwks).toBe(3);
  });

  it('still refetches for unknown kids at most once per cooldown after the step', async () => {
    const keys = clientFor();
    await keys.ready();
    advance(-HOUR_MS);
    await Promise.allSettled(Array.from({ length: 50 }, (_, i) => keys.getKeys(`forged-${i}`, 'RS256')));
    await Promise.allSettled(Array.from({ length: 50 }, (_, i) => keys.getKeys(`forged-again-${i}`, 'RS256')));
    // The refresh the step forced, then the one unknown-kid refetch of the new cooldown.
    expect(idp.hits.jwks).toBe(3);
    advance(COOLDOWN_MS - 1);
    await expectKeyNotFound(keys.getKeys('forged-later', 'RS256'));
    expect(idp.hits.jwks).toBe(3);
  });

  it('fetches at once once the endpoint is back after a failed cold fetch', async () => {
    idp.setFault({ kind: 'status', status: 500 });
    const keys = clientFor();
    await expectOutage(keys.getKeys('k1', 'RS256'));
    idp.setFault(null);
    advance(-HOUR_MS);
    expect((await keys.getKeys('k1', 'RS256'))[0]?.kid).toBe('k1');
    expect(idp.hits.jwks).toBe(2);
  });

  it.each<[string, Fault, number]>([
    ['the cooldown', { kind: 'status', status: 500 }, 30],
    ['the Retry-After the endpoint asked for', { kind: 'status', status: 503, retryAfter: '120' }, 120],
  ])('never answers a Retry-After above the retry window (%s) while the endpoint stays down', async (_label, fault, windowSec) => {
    idp.setFault(fault);
    const keys = clientFor();
    expect((await expectOutage(keys.getKeys('k1', 'RS256'))).retryAfterSec).toBe(windowSec);
    advance(-HOUR_MS);
    for (const stepMs of [0, 1_000, 60_000]) {
      advance(stepMs);
      const err = await expectOutage(keys.getKeys('k1', 'RS256'));
      expect(err.retryAfterSec).toBeLessThanOrEqual(windowSec);
      expect(Number(err.headers['Retry-After'])).toBeLessThanOrEqual(windowSec);
    }
  });

  it('serves the set it had through an outage for cacheMaxAgeFallback from the step, and nothing past that', async () => {
    const keys = clientFor();
    const [key] = await keys.getKeys('k1', 'RS256');
    idp.setFault({ kind: 'status', status: 500 });
    advance(-HOUR_MS);
    const steppedAtMs = Date.now();
    expect(await keys.getKeys('k1', 'RS256')).toEqual([key]); // expired by the step: answered, and refreshed in the background
    await jwksHits(2); // vi.waitFor moves the faked clock on: the times below are set, not stepped
    vi.setSystemTime(steppedAtMs + FALLBACK_MS - 1);
    expect(keys.peekKeys('k1', 'RS256')).toEqual([key]);
    // Back at the set's fetch time by the clock: it must not come back to life as fresh.
    vi.setSystemTime(steppedAtMs + FALLBACK_MS);
    expect(keys.peekKeys('k1', 'RS256')).toBeUndefined();
    await expectOutage(keys.getKeys('k1', 'RS256'));
  });
});
