import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type Verifier } from '../../lib/index.js';
import { startIdpServer, type IdpServer } from '../helpers/idp-server.js';
import { sharedKey } from '../helpers/keys.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/tokens.js';
import { anyTokenCase, fcParams, POLICY, RS, signInput, useFuzzVerifier } from './support.js';

// Differential: a verifier decodes a new token once, with jsonwebtoken, when its header alone picks
// one cached key (lib/decode-once.ts). The reference has a second issuer over the same key set, so
// every kid is published by two issuers, no header picks one key, and every token takes the strict
// path (decodeCompactJWS first). A verifier with one issuer, and one with a second issuer over keys
// of its own (which still decodes once, then requires `iss` to name the key's issuer), must end
// every mutated, re-signed and forged token alike: the same header and claims, or the same status,
// reason and message.

const fuzz = useFuzzVerifier('single-decode');
let singleDecode: Verifier;
let twoIssuers: Verifier;
let strict: Verifier;
let otherKeys: IdpServer;

beforeAll(async () => {
  const common = { allowHttpLoopback: true, tokenCache: false } as const;
  // Never named by a fuzzed token: it only makes a verifier route by `iss`.
  const second = { issuer: 'https://second-issuer.invalid', audience: POLICY.audience };
  otherKeys = await startIdpServer({ keys: [sharedKey('second-issuer-key')] });
  singleDecode = createVerifier({ ...POLICY, jwksUri: fuzz.jwksUri, ...common });
  twoIssuers = createVerifier({ issuers: [{ ...POLICY, jwksUri: fuzz.jwksUri }, { ...second, jwksUri: otherKeys.jwksUri }], ...common });
  strict = createVerifier({ issuers: [{ ...POLICY, jwksUri: fuzz.jwksUri }, { ...second, jwksUri: fuzz.jwksUri }], ...common });
  await Promise.all([singleDecode.ready(), twoIssuers.ready(), strict.ready()]);
});
afterAll(() => otherKeys.close());

/** Byte strings jws and the strict decoder read differently, or may: bad UTF-8, non-ASCII, U+FFFD itself. */
const TRICKY_BYTES = [[0xc3, 0x28], [0xc3, 0xa9], [0xef, 0xbf, 0xbd], [0xff], [0xe2, 0x82], [0xf0, 0x9f, 0x94, 0x91], [0xed, 0xa0, 0x80], [0xc0, 0xaf]];
const bytesInString = fc.oneof(fc.constantFrom(...TRICKY_BYTES), fc.array(fc.integer({ min: 0x20, max: 0xff }), { maxLength: 8 }))
  .map((bytes) => Buffer.from(bytes.filter((byte) => byte !== 0x22 && byte !== 0x5c))); // keep the JSON string closed

/** A genuinely signed token with raw bytes inside a header member and inside a claim. */
const rawBytesToken = fc.tuple(bytesInString, bytesInString).map(([inHeader, inPayload]) => {
  const header = Buffer.concat([Buffer.from('{"alg":"RS256","typ":"JWT","kid":"k1","x":"'), inHeader, Buffer.from('"}')]);
  const claims = `{"iss":"${TEST_ISSUER}","aud":"${TEST_AUDIENCE}","iat":${NOW},"exp":${NOW + 300},"name":"`;
  const payload = Buffer.concat([Buffer.from(claims), inPayload, Buffer.from('"}')]);
  const input = `${header.toString('base64url')}.${payload.toString('base64url')}`;
  return `${input}.${signInput(input, { key: RS, alg: 'RS256' })}`;
});

/**
 * A genuinely signed token whose payload is the claims in another JSON shape: a JSON string holding
 * them (jws parses it under `typ: "JWT"`, jsonwebtoken parses the result again), leading
 * whitespace, or a non-object. Only a plain object may be accepted, and only as the strict path does.
 */
const payloadShapeToken = fc.tuple(
  fc.constantFrom('JWT', undefined, 'at+jwt'),
  fc.constantFrom<(claims: string) => string>(
    (claims) => JSON.stringify(claims),
    (claims) => JSON.stringify(JSON.stringify(claims)),
    (claims) => ` ${claims}`,
    (claims) => `\n${claims}\t`,
    (claims) => `[${claims}]`,
    (claims) => claims,
  ),
).map(([typ, shape]) => {
  const claims = `{"iss":"${TEST_ISSUER}","aud":"${TEST_AUDIENCE}","iat":${NOW},"exp":${NOW + 300},"sub":"s","client_id":"c","jti":"j"}`;
  const header = JSON.stringify({ alg: 'RS256', kid: 'k1', ...(typ !== undefined && { typ }) });
  const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(shape(claims)).toString('base64url')}`;
  return `${input}.${signInput(input, { key: RS, alg: 'RS256' })}`;
});

type Ending =
  | { readonly accepted: true; readonly header: unknown; readonly payload: unknown }
  | { readonly accepted: false; readonly status: unknown; readonly reason: unknown; readonly message: unknown };

function endingOf(outcome: Promise<{ header: unknown; payload: unknown }>): Promise<Ending> {
  return outcome.then(
    ({ header, payload }) => ({ accepted: true, header, payload }),
    (err: { status?: unknown; reason?: unknown; message?: unknown }) => ({ accepted: false, status: err.status, reason: err.reason, message: err.message }),
  );
}

describe('single-decode path against the strict path', () => {
  /** Runs `tokens` through both verifiers; returns how many were accepted. */
  async function compareEndings(name: string, tokens: fc.Arbitrary<string>): Promise<number> {
    const stats = fuzz.report.property(name);
    await fc.assert(
      fc.asyncProperty(tokens, async (token) => {
        fuzz.report.tick();
        stats.cases += 1;
        const [once, onceOfTwo, reference] = await Promise.all([singleDecode, twoIssuers, strict].map((verifier) => endingOf(verifier.verify(token))));
        if (once!.accepted) stats.accepted += 1;
        expect(once).toEqual(reference);
        expect(onceOfTwo).toEqual(reference);
      }),
      fcParams('signing'),
    );
    await fuzz.report.expectNoUnhandledRejection();
    return stats.accepted;
  }

  it('ends every token case exactly as the strict path does', async () => {
    // The corpus holds valid tokens: a run that accepted none would compare nothing useful.
    expect(await compareEndings('single decode = strict', anyTokenCase(false).map(({ token }) => token))).toBeGreaterThan(0);
  });

  it('ends alike on signed payloads of other JSON shapes: a JSON string of the claims, whitespace, an array', async () => {
    expect(await compareEndings('single decode = strict, payload shapes', payloadShapeToken)).toBeGreaterThan(0);
  });

  it('ends alike on signed headers and claims holding bad UTF-8, non-ASCII text and U+FFFD', async () => {
    expect(await compareEndings('single decode = strict, raw bytes', rawBytesToken)).toBeGreaterThan(0);
  });
});
