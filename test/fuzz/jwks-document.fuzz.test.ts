import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../../lib/index.js';
import { startFaultyServer, type FaultyServer } from '../helpers/faulty-server.js';
import { NOW } from '../helpers/tokens.js';
import { createFuzzReport, ES, fcParams, outcomeOf, POLICY, record, ROGUE_RS, RS, signInput, VALID_TOKENS } from './support.js';

// What a JWKS *holds* is input too: whatever junk an IdP publishes next to its real key (keys of
// other types, broken or private members, mutated copies of the real key, duplicate kids, values
// of every JSON type), a valid token still verifies, a forged one never does, and nothing is
// ever a 5xx: a fetched set is never an outage.

const report = createFuzzReport('jwks-document');
let server: FaultyServer<'jwks'>;
let document: unknown;
let serial = 0;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
  server = await startFaultyServer({ jwks: { path: '/fuzz-jwks-document/jwks', document: () => document } });
});
afterAll(async () => {
  report.finish();
  vi.useRealTimers();
  await server.close();
});

const rsaPrivate = RS.privateKey.export({ format: 'jwk' });
const flip = (b64: string): string => {
  const bytes = Buffer.from(b64, 'base64url');
  bytes[bytes.length >> 1]! ^= 0x10;
  return bytes.toString('base64url');
};

/** A JWKS member that is not the real key, or is a broken copy of it. */
const junkKey: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    { ...RS.jwk, kid: 'other' },
    { ...RS.jwk, n: flip(RS.jwk.n!) }, // same kid, other modulus: a second candidate that fails
    { ...RS.jwk, e: 'AQ' },
    { ...RS.jwk, n: '' },
    { ...RS.jwk, n: 'not base64url!' },
    { ...RS.jwk, kty: 'EC' },
    { ...RS.jwk, alg: 'ES256' },
    { ...RS.jwk, alg: 'HS256' },
    { ...RS.jwk, use: 'enc', kid: 'k1' },
    { ...RS.jwk, key_ops: ['encrypt'] },
    { ...RS.jwk, key_ops: 'verify' },
    { ...rsaPrivate, kid: 'k1', alg: 'RS256' },
    { ...ROGUE_RS.jwk, kid: 'k1' }, // the attacker's key under the real kid: tried, fails
    { ...ES.jwk, crv: 'P-384' },
    { ...ES.jwk, x: ES.jwk.y },
    { kty: 'OKP', crv: 'Ed25519', x: 'dGVzdA', kid: 'k1' },
    { kty: 'OKP', crv: 'X25519', x: 'dGVzdA' },
    { kty: 'oct', k: 'c2VjcmV0', kid: 'k1', alg: 'HS256' },
    { kty: 'RSA' },
    { kty: 'EC', crv: 'secp256k1', x: 'AA', y: 'AA', kid: 'k1' },
    { kty: 'RSA', n: 'AQAB', e: 'AQAB', kid: 'k1' },
    { __proto__: { kty: 'RSA' } },
    { kid: 'k1' },
    {},
    null,
    [],
    'k1',
    42,
  ),
  fc.record({ kty: fc.constantFrom('RSA', 'EC', 'OKP', 'oct', 'rsa', ''), kid: fc.oneof(fc.constant('k1'), fc.jsonValue()) }, { requiredKeys: [] })
    .chain((base) => fc.dictionary(fc.constantFrom('n', 'e', 'x', 'y', 'crv', 'alg', 'use', 'key_ops', 'd', 'x5c'), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 4 }).map((extra) => ({ ...base, ...extra }))),
  fc.jsonValue({ maxDepth: 2 }),
);

/** True for the junk member that publishes the attacker's key (under the real kid). */
const isRogue = (key: unknown): boolean => typeof key === 'object' && key !== null && (key as { n?: unknown }).n === ROGUE_RS.jwk.n;

/** A JWKS with the real keys somewhere among up to 12 junk members (well under the 100 kept). */
const jwksWithJunk = (withRogue: boolean) => fc.tuple(fc.array(junkKey, { maxLength: 12 }), fc.nat(12), fc.nat(12)).map(([junk, at, esAt]) => {
  const keys = withRogue ? [...junk] : junk.filter((key) => !isRogue(key));
  keys.splice(at % (keys.length + 1), 0, RS.jwk);
  keys.splice(esAt % (keys.length + 1), 0, ES.jwk);
  return { keys };
});

/** A verifier with a client of its own: the query string makes a new JWKS URL per case. */
function freshVerifier() {
  serial += 1;
  return createVerifier({ ...POLICY, jwksUri: `${server.urlOf('jwks')}?case=${serial}`, allowHttpLoopback: true });
}

describe('a JWKS with junk around the real keys', () => {
  // Tokens with a kid: a kid-less token rightly fails once junk adds a second key that fits its alg.
  const withKid = VALID_TOKENS.filter((token) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as { kid?: string }).kid !== undefined);

  it('verifies every valid token with a kid, whatever else the set holds', async () => {
    const stats = report.property('valid tokens, junk JWKS');
    await fc.assert(fc.asyncProperty(jwksWithJunk(true), fc.constantFrom(...withKid), async (jwks, token) => {
      report.tick();
      document = jwks;
      const [settled] = await Promise.allSettled([freshVerifier().verify(token)]);
      return record(stats, outcomeOf(settled!), true);
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
    expect(stats.serverErrors).toBe(0);
  });

  it('never verifies a token signed by a key the set does not hold, even under the real kid', async () => {
    const stats = report.property('forged tokens, junk JWKS');
    const forged = VALID_TOKENS[0]!.split('.').slice(0, 2).join('.');
    const token = `${forged}.${signInput(forged, { key: ROGUE_RS, alg: 'RS256' })}`;
    await fc.assert(fc.asyncProperty(jwksWithJunk(false), async (jwks) => {
      report.tick();
      document = jwks;
      const [settled] = await Promise.allSettled([freshVerifier().verify(token)]);
      return record(stats, outcomeOf(settled!), false);
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
  });

  it('answers a set of nothing but junk with 401 key_not_found, never 503', async () => {
    const stats = report.property('junk-only JWKS');
    await fc.assert(fc.asyncProperty(fc.array(junkKey, { maxLength: 12 }), async (junk) => {
      report.tick();
      document = { keys: junk };
      const [settled] = await Promise.allSettled([freshVerifier().verify(VALID_TOKENS[3]!)]); // the ES256 token: no junk holds its key
      const outcome = outcomeOf(settled!);
      record(stats, outcome, false);
      return outcome === 'rejected' && (settled as PromiseRejectedResult).reason.reason === 'key_not_found';
    }), fcParams('http'));
  });
});
