import { sign } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createVerifier, type VerifyTokenOptions } from '../lib/index.js';
import { startIdpServer, verifierOptions } from './helpers/idp-server.js';
import { useIdpServer } from './helpers/use-idp-server.js';
import { sharedKey, type TestKey } from './helpers/keys.js';
import { reasonOf, rejection } from './helpers/outcome.js';
import { defaultClaims, signToken } from './helpers/tokens.js';

// A verifier with one issuer decodes a new token once, with jsonwebtoken (lib/decode-once.ts), and
// must end exactly where the strict decoder would: these are the tokens jws decodes differently.

const KEY = sharedKey('k1');
const TWIN = sharedKey('k1-twin');
const idp = useIdpServer({ keys: [KEY] });

afterEach(() => {
  vi.restoreAllMocks();
});

async function verifier(options: Partial<VerifyTokenOptions> = {}) {
  const v = createVerifier({ ...verifierOptions(idp), tokenCache: false, ...options });
  await v.ready();
  return v;
}

/** A token whose header and payload are raw bytes, signed by `key` over exactly those bytes. */
function signBytes(header: Buffer | string, payload: Buffer | string, key: TestKey = KEY): string {
  const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(payload).toString('base64url')}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

const HEADER = JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'k1' });
const CLAIMS = JSON.stringify(defaultClaims()).slice(1, -1);

describe('single-decode miss path', () => {
  it('refuses a signed payload that is not valid UTF-8, which jws would decode with U+FFFD', async () => {
    const payload = Buffer.concat([Buffer.from(`{${CLAIMS},"name":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]);
    const v = await verifier();
    const err = await rejection(v.verify(signBytes(HEADER, payload)));
    expect(err).toMatchObject({ status: 401, reason: 'malformed' });
  });

  it('refuses a signed JSON string holding the claims, which jws and jsonwebtoken would parse twice under `typ: "JWT"`', async () => {
    const payload = JSON.stringify(`{${CLAIMS}}`);
    const v = await verifier();
    const err = await rejection(v.verify(signBytes(HEADER, payload)));
    expect(err).toMatchObject({ status: 401, reason: 'malformed' });
  });

  it('accepts a payload with whitespace before its opening brace, as the strict decoder does', async () => {
    const v = await verifier();
    const { payload } = await v.verify(signBytes(HEADER, ` {${CLAIMS}}`));
    expect(payload.sub).toBe(defaultClaims().sub);
  });

  it('accepts a genuine U+FFFD in a claim, as the strict decoder does', async () => {
    const v = await verifier();
    const { payload } = await v.verify(signToken(KEY, { name: 'a\uFFFDb' }));
    expect(payload.name).toBe('a\uFFFDb');
  });

  it('reads a non-ASCII header member as UTF-8, where jws reads the header as Latin-1', async () => {
    const v = await verifier();
    const { header } = await v.verify(signBytes(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'k1', note: 'clé' }), `{${CLAIMS}}`));
    expect(header?.note).toBe('clé');
  });

  it('drops __proto__, constructor and prototype members at any depth, as decodeJWT does', async () => {
    const v = await verifier();
    const raw = `{${CLAIMS},"__proto__":{"admin":true},"constructor":1,"ext":{"prototype":2,"keep":3}}`;
    const { payload } = await v.verify(signBytes(HEADER, raw));
    expect(Object.hasOwn(payload, '__proto__')).toBe(false);
    expect(Object.hasOwn(payload, 'constructor')).toBe(false);
    expect(payload.ext).toEqual({ keep: 3 });
    expect((payload as { admin?: unknown }).admin).toBeUndefined();
  });

  it.each([['an array', '[1,2]'], ['a number', '42'], ['a string', '"claims"'], ['null', 'null']])('refuses a signed payload that is %s', async (_, raw) => {
    const v = await verifier();
    expect(await reasonOf(v.verify(signBytes(HEADER, raw)))).toBe('malformed');
  });

  it('answers a forged signature with the checks that come first on the strict path', async () => {
    const v = await verifier();
    const forged = (claims: Record<string, unknown>) => signToken(KEY, claims, { signingKey: TWIN.privateKey });
    expect(await reasonOf(v.verify(forged({})))).toBe('signature_invalid');
    expect(await reasonOf(v.verify(forged({ iss: 'https://other.test' })))).toBe('issuer_mismatch');
    expect(await reasonOf(v.verify(forged({ iss: undefined })))).toBe('claim_missing');
    expect(await reasonOf(v.verify(signBytes(HEADER, 'not json', TWIN)))).toBe('malformed');
  });

  it('checks a forged signature once, not again on the strict path', async () => {
    const v = await verifier();
    const checks = vi.spyOn(jwt, 'verify');
    await reasonOf(v.verify(signToken(KEY, {}, { signingKey: TWIN.privateKey })));
    await v.verify(signToken(KEY));
    expect(checks).toHaveBeenCalledTimes(2);
  });

  it('still tries every key published under one kid', async () => {
    const twins = await startIdpServer({ keys: [KEY, { ...TWIN, kid: 'k1', jwk: { ...TWIN.jwk, kid: 'k1' } }] });
    try {
      const v = await verifier({ jwksUri: twins.jwksUri });
      await expect(v.verify(signToken(KEY))).resolves.toMatchObject({ source: 'jwt' });
      await expect(v.verify(signToken(KEY, {}, { signingKey: TWIN.privateKey }))).resolves.toMatchObject({ source: 'jwt' });
    } finally {
      await twins.close();
    }
  });

  it('refuses every segment written outside canonical base64url, signed or not (jws checks the alphabet, we the ends)', async () => {
    const v = await verifier();
    const std = (text: string) => Buffer.from(text).toString('base64').replace(/=+$/, '');
    // An issuer signing standard base64 text: the signature is genuine, the encoding is not.
    const claims = JSON.stringify({ ...defaultClaims(), note: '>>>???' });
    const stdInput = `${std(HEADER)}.${std(claims)}`;
    expect(stdInput).toMatch(/[+/]/);
    const stdSigned = `${stdInput}.${sign('sha256', Buffer.from(stdInput), KEY.privateKey).toString('base64url')}`;
    // A genuine token whose signature alone is re-encoded: standard alphabet, padding, other trailing bits.
    let token = signToken(KEY);
    for (let n = 0; !/[-_]/.test(token.split('.')[2]!); n += 1) token = signToken(KEY, { n });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(signature, 'base64url');
    // 256 bytes take 342 characters: the last one carries 2 bits of data and 4 that must be zero.
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const otherTail = signature.slice(0, -1) + ALPHABET[ALPHABET.indexOf(signature.at(-1)!) | 0b0001]!;
    expect(Buffer.from(otherTail, 'base64url').equals(bytes)).toBe(true);
    const variants = [
      stdSigned,
      `${header}.${payload}.${bytes.toString('base64').replace(/=+$/, '')}`,
      `${header}.${payload}.${bytes.toString('base64url')}==`,
      `${header}.${payload}.${otherTail}`,
    ];
    for (const variant of variants) expect(await reasonOf(v.verify(variant))).toBe('malformed');
    expect(await reasonOf(v.verify(token))).toBe('accepted');
  });
});
