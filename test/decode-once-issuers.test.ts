import jwt from 'jsonwebtoken';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../lib/index.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { sharedKey, type TestKey } from './helpers/keys.js';
import { reasonOf } from './helpers/outcome.js';
import { signToken, TEST_AUDIENCE } from './helpers/tokens.js';

// With several issuers, a new token is still decoded once when its header alone picks one cached
// key (lib/decode-once.ts); the token's `iss` must then name the issuer that key came from. These
// are the cases where the key and `iss` disagree, and they must end where the strict path ends.

const ISSUER_A = 'https://a.issuer.test';
const ISSUER_B = 'https://b.issuer.test';
const KEY_A = sharedKey('a1');
const KEY_B = sharedKey('b1');
/** One kid, `shared`, published by both issuers, each over a key of its own. */
const SHARED_A = renamed(sharedKey('shared-a'), 'shared');
const SHARED_B = renamed(sharedKey('shared-b'), 'shared');

function renamed(key: TestKey, kid: string): TestKey {
  return { ...key, kid, jwk: { ...key.jwk, kid } };
}

let a: IdpServer;
let b: IdpServer;
beforeAll(async () => {
  [a, b] = await Promise.all([startIdpServer({ keys: [KEY_A, SHARED_A] }), startIdpServer({ keys: [KEY_B, SHARED_B] })]);
});
afterAll(() => Promise.all([a.close(), b.close()]));
afterEach(() => {
  vi.restoreAllMocks();
});

async function verifier() {
  const v = createVerifier({
    issuers: [
      { issuer: ISSUER_A, audience: TEST_AUDIENCE, jwksUri: a.jwksUri },
      { issuer: ISSUER_B, audience: TEST_AUDIENCE, jwksUri: b.jwksUri },
    ],
    allowHttpLoopback: true,
    tokenCache: false,
  });
  await v.ready();
  return v;
}

/**
 * Each call to jsonwebtoken: `single` when it was handed bearer-guard's key callback (the
 * single-decode path, which stops before the signature when the header picks no one key),
 * `strict` when it was handed a key (the strict path, after its own decode).
 */
function paths(spy: { readonly mock: { readonly calls: readonly unknown[][] } }): string[] {
  return spy.mock.calls.map((call) => (typeof call[1] === 'function' ? 'single' : 'strict'));
}

describe('single-decode miss path with several issuers', () => {
  it('decodes a new token of either issuer once, with jsonwebtoken choosing no key of its own', async () => {
    const v = await verifier();
    const checks = vi.spyOn(jwt, 'verify');
    await expect(v.verify(signToken(KEY_A, { iss: ISSUER_A }))).resolves.toMatchObject({ payload: { iss: ISSUER_A } });
    await expect(v.verify(signToken(KEY_B, { iss: ISSUER_B }))).resolves.toMatchObject({ payload: { iss: ISSUER_B } });
    expect(paths(checks)).toEqual(['single', 'single']);
  });

  it('refuses a token signed by one issuer\'s key whose iss names the other, as the strict path does', async () => {
    const v = await verifier();
    const checks = vi.spyOn(jwt, 'verify');
    // B has no key a1: after its one refetch, key_not_found (never accepted on A's signature).
    expect(await reasonOf(v.verify(signToken(KEY_A, { iss: ISSUER_B })))).toBe('key_not_found');
    expect(paths(checks)).toEqual(['single']);
  });

  it('checks a forged signature against the keys of the issuer iss names, not of the issuer whose kid it borrowed', async () => {
    const v = await verifier();
    // Header kid a1 (A's), signed with B's key, iss B: A's key refuses it, but that says nothing
    // about B, whose set has no a1. Reporting A's signature_invalid would be the wrong answer.
    const borrowed = signToken(KEY_A, { iss: ISSUER_B }, { signingKey: KEY_B.privateKey });
    expect(await reasonOf(v.verify(borrowed))).toBe('key_not_found');
    // The same forgery naming A is answered by A's own key, checked once.
    const checks = vi.spyOn(jwt, 'verify');
    expect(await reasonOf(v.verify(signToken(KEY_A, { iss: ISSUER_A }, { signingKey: KEY_B.privateKey })))).toBe('signature_invalid');
    expect(paths(checks)).toEqual(['single']);
  });

  it('takes the strict path for a kid both issuers publish, and checks it with the key of the issuer iss names', async () => {
    const v = await verifier();
    const checks = vi.spyOn(jwt, 'verify');
    await expect(v.verify(signToken(SHARED_B, { iss: ISSUER_B }))).resolves.toMatchObject({ payload: { iss: ISSUER_B } });
    await expect(v.verify(signToken(SHARED_A, { iss: ISSUER_A }))).resolves.toMatchObject({ payload: { iss: ISSUER_A } });
    expect(await reasonOf(v.verify(signToken(SHARED_A, { iss: ISSUER_B })))).toBe('signature_invalid');
    // Each tried once on the single-decode path, which stops at the kid, then decided by the strict path.
    expect(paths(checks)).toEqual(['single', 'strict', 'single', 'strict', 'single', 'strict']);
  });
});
