import { describe, expect, it } from 'vitest';
import { ConfigError, decodeJWT, InvalidTokenError } from '../lib/index.js';

function encode(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function compact(header: unknown, payload: unknown, signature = 'c2ln'): string {
  return `${encode(header)}.${encode(payload)}.${signature}`;
}

const HEADER = { alg: 'RS256', typ: 'JWT', kid: 'k1' };
const PAYLOAD = { iss: 'https://idp.example', sub: 'user-1', exp: 2_000_000_000, custom: { plan: 'pro' } };

function reasonOf(token: unknown): string | undefined {
  try {
    decodeJWT(token as string);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidTokenError);
    return (err as InvalidTokenError).reason;
  }
  return undefined;
}

describe('decodeJWT', () => {
  it('returns the payload of a well-formed token', () => {
    expect(decodeJWT(compact(HEADER, PAYLOAD))).toEqual(PAYLOAD);
  });

  it('returns header, payload and signature with complete: true', () => {
    const decoded = decodeJWT(compact(HEADER, PAYLOAD), { complete: true });
    expect(decoded).toEqual({ header: HEADER, payload: PAYLOAD, signature: 'c2ln' });
  });

  it('types custom claims through its generic parameter', () => {
    const payload = decodeJWT<{ custom: { plan: string } }>(compact(HEADER, PAYLOAD));
    expect(payload.custom.plan).toBe('pro');
  });

  it('accepts an empty signature segment, since it never verifies', () => {
    expect(decodeJWT(compact({ alg: 'none' }, PAYLOAD, ''))).toEqual(PAYLOAD);
  });

  it.each([
    ['two segments', `${encode(HEADER)}.${encode(PAYLOAD)}`],
    ['four segments', `${compact(HEADER, PAYLOAD)}.x`],
    ['five segments (JWE)', 'a.b.c.d.e'],
    ['an empty string', ''],
    ['an empty header segment', `.${encode(PAYLOAD)}.c2ln`],
    ['padding in a segment', `${encode(HEADER)}=.${encode(PAYLOAD)}.c2ln`],
    ['standard base64 characters', compact(HEADER, PAYLOAD, 'c2l+/w')],
    ['whitespace inside a segment', `${encode(HEADER)}.${encode(PAYLOAD)} .c2ln`],
    ['non-canonical trailing bits', compact(HEADER, PAYLOAD, 'c2l')],
    ['an impossible base64url length', compact(HEADER, PAYLOAD, 'c2lnA')],
    ['a header that is not JSON', `${encode('not json')}.${encode(PAYLOAD)}.c2ln`],
    ['a header that is a JSON array', compact(['RS256'], PAYLOAD)],
    ['a header without alg', compact({ typ: 'JWT' }, PAYLOAD)],
    ['a header whose alg is not a string', compact({ alg: 256 }, PAYLOAD)],
    ['a payload that is a JSON string', compact(HEADER, '"claims"')],
    ['a payload that is null', compact(HEADER, 'null')],
    ['a payload that is a number', compact(HEADER, '12')],
    ['a payload that is not UTF-8', `${encode(HEADER)}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.c2ln`],
  ])('rejects %s as malformed', (_label, token) => {
    expect(reasonOf(token)).toBe('malformed');
  });

  it('rejects a value that is not a string', () => {
    expect(reasonOf(42)).toBe('malformed');
  });

  it('rejects a token over the size cap before decoding it', () => {
    const token = compact(HEADER, { ...PAYLOAD, pad: 'x'.repeat(9000) });
    expect(reasonOf(token)).toBe('token_too_large');
    expect(decodeJWT(token, { maxLength: 20_000 })).toMatchObject({ sub: 'user-1' });
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, 0, 100.5, '9000'])('refuses a `maxLength` of %o, which would lift or break the cap', (maxLength) => {
    const token = compact(HEADER, { ...PAYLOAD, pad: 'x'.repeat(9000) });
    expect(() => decodeJWT(token, { maxLength } as { maxLength: number })).toThrow(new ConfigError('decodeJWT: `maxLength` must be an integer ≥ 1'));
  });

  it('drops __proto__ members so the result cannot pollute prototypes', () => {
    const payload = decodeJWT<Record<string, unknown>>(compact(HEADER, '{"sub":"a","__proto__":{"polluted":true},"nested":{"constructor":{"prototype":{"x":1}}}}'));
    expect(Object.keys(payload)).toEqual(['sub', 'nested']);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.assign({}, payload).polluted).toBeUndefined();
  });

  it('drops __proto__ even when the key is spelled with JSON escapes', () => {
    const payload = decodeJWT<Record<string, unknown>>(compact(HEADER, '{"sub":"a","\\u005f_proto__":{"polluted":true}}'));
    expect(Object.keys(payload)).toEqual(['sub']);
  });

  it('never puts token contents in its error messages', () => {
    const secretish = 'do-not-echo-this-claim';
    const token = compact(HEADER, `"${secretish}"`);
    expect(() => decodeJWT(token)).toThrow(InvalidTokenError);
    try {
      decodeJWT(token);
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(secretish);
      expect(String((err as Error).message)).not.toContain(token);
    }
  });
});
