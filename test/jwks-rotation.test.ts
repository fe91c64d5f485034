import { describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '../lib/index.js';
import { advance, useFrozenDate } from './helpers/clock.js';
import { verifierOptions } from './helpers/idp-server.js';
import { makeKey, sharedKey } from './helpers/keys.js';
import { reasonOf } from './helpers/outcome.js';
import { signToken } from './helpers/tokens.js';
import { useIdpServer } from './helpers/use-idp-server.js';

// An IdP may replace a key without changing its `kid` (or, for kid-less tokens, replace its only
// key): no unknown-kid refetch notices, so new tokens would fail until the cached set expires
// (10 min). A signature that every cached key refuses refetches the set once the set is older
// than the cooldown, within the budget unknown kids use: one token-triggered fetch per cooldown.

const OLD = sharedKey('k1');
const NEW = makeKey('k1'); // same kid, other key material
const STRANGER = makeKey('k1');
const COOLDOWN_MS = 30_000;
const idp = useIdpServer({ keys: [OLD] }, { per: 'test' });
useFrozenDate();

async function warmVerifier(): Promise<Verifier> {
  const verifier = createVerifier({ ...verifierOptions(idp), tokenCache: false });
  expect(await reasonOf(verifier.verify(signToken(OLD)))).toBe('accepted');
  expect(idp.hits.jwks).toBe(1);
  return verifier;
}

describe('a key replaced under the same kid', () => {
  it('is accepted after one refetch once the cached set is older than the cooldown', async () => {
    const verifier = await warmVerifier();
    advance(COOLDOWN_MS + 1_000);
    idp.setKeys(NEW);
    expect(await reasonOf(verifier.verify(signToken(NEW)))).toBe('accepted');
    expect(idp.hits.jwks).toBe(2);
    // The old key has left the set: its tokens now fail, and cost no further fetch.
    expect(await reasonOf(verifier.verify(signToken(OLD)))).toBe('signature_invalid');
    expect(idp.hits.jwks).toBe(2);
  });

  it('is accepted for tokens without a kid too (the wallet-login source)', async () => {
    const verifier = await warmVerifier();
    advance(COOLDOWN_MS + 1_000);
    idp.setKeys(NEW);
    expect(await reasonOf(verifier.verify(signToken(NEW, {}, { header: { kid: undefined } })))).toBe('accepted');
    expect(idp.hits.jwks).toBe(2);
  });

  it('is refused, with nothing fetched, while the cached set is younger than the cooldown, and accepted after', async () => {
    const verifier = await warmVerifier();
    idp.setKeys(NEW);
    expect(await reasonOf(verifier.verify(signToken(NEW)))).toBe('signature_invalid');
    expect(idp.hits.jwks).toBe(1);
    advance(COOLDOWN_MS + 1_000);
    expect(await reasonOf(verifier.verify(signToken(NEW)))).toBe('accepted');
    expect(idp.hits.jwks).toBe(2);
  });
});

describe('forged signatures under a published kid', () => {
  it('cost at most one fetch per cooldown, however many arrive at once', async () => {
    const verifier = await warmVerifier();
    advance(COOLDOWN_MS + 1_000);
    const flood = () => Promise.all(Array.from({ length: 200 }, (_, i) => reasonOf(verifier.verify(signToken(OLD, { jti: `f${i}` }, { signingKey: STRANGER.privateKey })))));
    expect(new Set(await flood())).toEqual(new Set(['signature_invalid']));
    expect(idp.hits.jwks).toBe(2);
    expect(new Set(await flood())).toEqual(new Set(['signature_invalid']));
    expect(idp.hits.jwks).toBe(2);
    advance(COOLDOWN_MS + 1_000);
    expect(new Set(await flood())).toEqual(new Set(['signature_invalid']));
    expect(idp.hits.jwks).toBe(3);
    // The genuine key still verifies throughout.
    expect(await reasonOf(verifier.verify(signToken(OLD)))).toBe('accepted');
  });

  it('share the budget of unknown kids: after such a refetch, an unknown kid fetches nothing within the cooldown', async () => {
    const verifier = await warmVerifier();
    advance(COOLDOWN_MS + 1_000);
    expect(await reasonOf(verifier.verify(signToken(OLD, {}, { signingKey: STRANGER.privateKey })))).toBe('signature_invalid');
    expect(idp.hits.jwks).toBe(2);
    expect(await reasonOf(verifier.verify(signToken(makeKey('k-unknown'))))).toBe('key_not_found');
    expect(idp.hits.jwks).toBe(2);
  });
});
