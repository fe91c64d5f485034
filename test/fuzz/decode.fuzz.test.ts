import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeJWT, InvalidTokenError } from '../../lib/index.js';
import { createFuzzReport, fcParams, VALID_TOKENS } from './support.js';

// decodeJWT never verifies, but it is the first code every token reaches: for any input it
// either returns plain objects or throws InvalidTokenError, and what it returns is canonical
// and free of prototype-polluting members.

const report = createFuzzReport('decode');
afterAll(() => report.finish());

const POLLUTING = new Set(['__proto__', 'constructor', 'prototype']);

/** `{ header, payload, signature }`, or the InvalidTokenError thrown; anything else fails the property. */
function decodeOrError(token: unknown, maxLength?: number): { header: Record<string, unknown>; payload: Record<string, unknown>; signature: string } | InvalidTokenError {
  try {
    return decodeJWT(token as string, { complete: true, ...(maxLength !== undefined && { maxLength }) });
  } catch (err) {
    if (err instanceof InvalidTokenError) return err;
    throw err;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

/** True when no object at any depth has an own `__proto__`, `constructor` or `prototype` member. */
function isUnpolluted(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (!Array.isArray(value) && Object.getOwnPropertyNames(value).some((key) => POLLUTING.has(key))) return false;
  return Object.values(value).every(isUnpolluted);
}

/** Checks the contract for one input: plain objects out (alg a string), or InvalidTokenError (401). */
function holdsContract(token: unknown): boolean {
  report.tick();
  const result = decodeOrError(token);
  if (result instanceof InvalidTokenError) return result.status === 401 && result.code === 'invalid_token';
  return isPlainObject(result.header) && typeof result.header.alg === 'string' && isPlainObject(result.payload) && typeof result.signature === 'string'
    && isUnpolluted(result.header) && isUnpolluted(result.payload);
}

function property(name: string, arbitrary: fc.Arbitrary<unknown>): void {
  const stats = report.property(name);
  fc.assert(fc.property(arbitrary, (token) => {
    stats.cases += 1;
    return holdsContract(token);
  }), fcParams('fast'));
}

const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64url');
const segmentChars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ '.split(''));

describe('decodeJWT on arbitrary input', () => {
  it('returns objects or throws InvalidTokenError for any Unicode string, lone surrogates included', () => {
    property('any string', fc.string({ unit: 'binary', maxLength: 300 }));
  });

  it('returns objects or throws InvalidTokenError for any string of base64url characters and dots', () => {
    property('base64url-ish string', fc.string({ unit: segmentChars, maxLength: 300 }));
  });

  it('returns objects or throws InvalidTokenError for three segments of arbitrary bytes', () => {
    property('arbitrary bytes', fc.tuple(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 64 }))
      .map(([h, p, s]) => `${b64(h)}.${b64(p)}.${b64(s)}`));
  });

  it('returns objects or throws InvalidTokenError for any JSON value as header and payload', () => {
    property('any JSON', fc.tuple(fc.jsonValue({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }))
      .map(([header, payload]) => `${b64(JSON.stringify(header) ?? '')}.${b64(JSON.stringify(payload) ?? '')}.c2ln`));
  });

  it('returns objects or throws InvalidTokenError for any value that is not a string', () => {
    property('not a string', fc.oneof(fc.anything(), fc.constant(undefined), fc.constant(null)));
  });

  it('returns objects or throws InvalidTokenError for JSON text with __proto__, constructor and prototype members at any depth', () => {
    const key = fc.constantFrom('__proto__', 'constructor', 'prototype', '\\u005f_proto__', 'constr\\u0075ctor', 'alg', 'a');
    const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
      v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
        fc.constantFrom('1', '"x"', 'null', '{"polluted":true}', '[]'),
        fc.array(fc.tuple(key, tie('v')), { maxLength: 3 }).map((members) => `{${members.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
        fc.array(tie('v'), { maxLength: 3 }).map((items) => `[${items.join(',')}]`)),
    })).v;
    property('polluting members', fc.tuple(fc.array(fc.tuple(key, value), { maxLength: 4 }), fc.array(fc.tuple(key, value), { maxLength: 4 }))
      .map(([h, p]) => {
        const object = (members: [string, string][], first: string) => `{${[first, ...members.map(([k, v]) => `"${k}":${v}`)].join(',')}}`;
        return `${b64(object(h, '"alg":"RS256"'))}.${b64(object(p, '"sub":"s"'))}.c2ln`;
      }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeJWT on what it accepts', () => {
  it('accepts only canonical base64url: each segment of a decoded token re-encodes to itself', () => {
    const stats = report.property('canonical');
    fc.assert(fc.property(fc.string({ unit: segmentChars, maxLength: 120 }), fc.constantFrom(...VALID_TOKENS), fc.nat(2), (noise, token, segment) => {
      stats.cases += 1;
      const parts = token.split('.');
      parts[segment] = noise.replaceAll('.', '');
      const candidate = parts.join('.');
      const result = decodeOrError(candidate);
      if (result instanceof InvalidTokenError) return true;
      return candidate.split('.').every((part) => Buffer.from(part, 'base64url').toString('base64url') === part);
    }), fcParams('fast'));
  });

  it('returns exactly the JSON objects a token encodes, minus polluting members', () => {
    const stats = report.property('round trip');
    const object = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 6 });
    fc.assert(fc.property(object, object, fc.uint8Array({ maxLength: 80 }), (header, payload, signature) => {
      stats.cases += 1;
      const fullHeader = { ...header, alg: 'RS256' };
      const token = `${b64(JSON.stringify(fullHeader))}.${b64(JSON.stringify(payload))}.${b64(signature)}`;
      const result = decodeOrError(token);
      if (result instanceof InvalidTokenError) return false;
      const strip = (value: unknown): unknown => JSON.parse(JSON.stringify(value), (key, v: unknown) => (POLLUTING.has(key) ? undefined : v));
      expect(result.header).toEqual(strip(fullHeader));
      expect(result.payload).toEqual(strip(payload));
      return result.signature === b64(signature);
    }), fcParams('fast'));
  });

  it('refuses every token longer than maxLength with token_too_large, before decoding', () => {
    const stats = report.property('length cap');
    fc.assert(fc.property(fc.integer({ min: 16, max: 4096 }), fc.integer({ min: 1, max: 4096 }), (maxLength, excess) => {
      stats.cases += 1;
      const result = decodeOrError('A'.repeat(maxLength + excess), maxLength);
      return result instanceof InvalidTokenError && result.reason === 'token_too_large';
    }), fcParams('fast'));
  });
});
