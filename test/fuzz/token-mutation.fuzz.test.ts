import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  bitFlipCase, byteReplaceCase, charEditCase, claimsResignedCase, encodingCase, fcParams, forgedCase,
  headerKeptSignatureCase, headerResignedCase, outcomeOf, rawClaimsResignedCase, record, segmentCase,
  useFuzzVerifier, VALID_TOKENS, type TokenCase,
} from './support.js';

// Valid tokens, mutated every way the issue lists, straight through createVerifier (no HTTP):
// each case must be accepted exactly when the oracle says so, and otherwise rejected with a 4xx
// AuthError, never anything else. The JWKS is a real loopback server, warm before the first case.

const fuzz = useFuzzVerifier('token-mutation');
const report = fuzz.report;

/** Runs `cases` through the verifier; each must end as the oracle says. */
async function checkCases(name: string, cases: fc.Arbitrary<TokenCase>, kind: 'fast' | 'signing'): Promise<void> {
  const stats = report.property(name);
  await fc.assert(
    fc.asyncProperty(cases, async ({ token, shouldAccept }) => {
      report.tick();
      const [settled] = await Promise.allSettled([fuzz.verifier.verify(token)]);
      return record(stats, outcomeOf(settled!), shouldAccept);
    }),
    fcParams(kind),
  );
  await report.expectNoUnhandledRejection();
  expect(stats).toMatchObject({ acceptedForged: 0, serverErrors: 0 });
}

describe('createVerifier under mutated tokens', () => {
  it('accepts every unmutated corpus token, so that the properties below can fail', async () => {
    const results = await Promise.allSettled(VALID_TOKENS.map((token) => fuzz.verifier.verify(token)));
    expect(results.map((result) => result.status)).toEqual(VALID_TOKENS.map(() => 'fulfilled'));
  });

  it('never accepts a valid token with one bit of one segment flipped', async () => {
    await checkCases('bit flip', bitFlipCase, 'fast');
  });

  it('never accepts a valid token with one byte of one segment replaced', async () => {
    await checkCases('byte replace', byteReplaceCase, 'fast');
  });

  it('never accepts a valid token with one character replaced, inserted or deleted', async () => {
    await checkCases('char edit', charEditCase(false), 'fast');
  });

  it('never accepts segments swapped, dropped, repeated, truncated or spliced across valid tokens', async () => {
    await checkCases('segments', segmentCase, 'fast');
  });

  it('never accepts a segment re-encoded as padded, re-cased, standard base64 or with other trailing bits', async () => {
    await checkCases('encoding', encodingCase, 'fast');
  });

  it('never accepts a re-encoded header that keeps the old signature', async () => {
    await checkCases('header, old signature', headerKeptSignatureCase, 'fast');
  });

  it('accepts a header re-signed by a published key exactly when alg, typ, kid, crit, cty and key members allow', async () => {
    await checkCases('header re-signed', headerResignedCase, 'signing');
  });

  it('accepts claims re-signed by a published key exactly when iss, aud, exp, nbf and iat satisfy RFC 7519', async () => {
    await checkCases('claims re-signed', claimsResignedCase, 'signing');
  });

  it('reads duplicate keys, escaped keys, __proto__ members and out-of-range numbers in claims as JSON.parse does', async () => {
    await checkCases('raw claims re-signed', rawClaimsResignedCase, 'signing');
    expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('alg');
    expect(({} as Record<string, unknown>).crit).toBeUndefined();
  });

  it('never accepts a token signed by a rogue key, an HMAC over public key material, or nothing', async () => {
    await checkCases('forged', forgedCase, 'signing');
  });
});
