import { InvalidTokenError } from './errors.js';
import { endsCanonically, isCanonicalBase64url } from './internal/base64url.js';
import { optionalNumber } from './internal/option-checks.js';
import { isPlainObject, parseJSONSafely } from './internal/safe-json.js';
import type { DecodedJWT, JWTHeader, JWTPayload } from './types.js';

/** Longest token `decodeJWT` looks at, in characters (8 KiB): decoding cost is bounded before any work. */
export const MAX_TOKEN_LENGTH = 8192;

/** Options of `decodeJWT`. */
export interface DecodeJWTOptions {
  /** Return `{ header, payload, signature }` instead of the payload alone. Default `false`. */
  complete?: boolean;
  /** Longest accepted token in characters. Default 8192. */
  maxLength?: number;
}

/**
 * Reads a JWT's header and claims **without verifying anything**: use it to inspect a token
 * that `verifyToken` has already accepted, or to log its `kid`; never to authorise.
 *
 * Accepts only a strict compact JWS (RFC 7515 §7.1): three canonical base64url segments, a
 * UTF-8 JSON object as header (with a string `alg`) and as payload.
 * @throws InvalidTokenError with reason `malformed` (or `token_too_large`) for anything else;
 *   ConfigError for a `maxLength` that is not an integer ≥ 1
 * @example
 * const { sub } = decodeJWT<{ sub: string }>(req.auth.token);
 * const { header } = decodeJWT(token, { complete: true });
 */
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options: DecodeJWTOptions & { complete: true }): DecodedJWT<Payload>;
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options?: DecodeJWTOptions & { complete?: false }): Payload;
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options: DecodeJWTOptions = {}): Payload | DecodedJWT<Payload> {
  // A NaN or Infinity here would lift the length cap, so a wrong value is refused, not ignored.
  const maxLength = optionalNumber('decodeJWT: `maxLength`', options.maxLength, 1, { integer: true }) ?? MAX_TOKEN_LENGTH;
  const decoded = decodeCompactJWS<Payload>(token, maxLength);
  return options.complete === true ? decoded : decoded.payload;
}

/** Where the two dots of a compact JWS are, or what makes a string not one. */
type CompactJWSSplit = { readonly first: number; readonly second: number } | { readonly problem: 'malformed' | 'token_too_large'; readonly message: string };

// One pass over the whole token for the alphabet and the three segments (the signature may be
// empty); `describeProblem` says which rule failed only for a token that fails.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * The checks of a strict compact JWS that need no decoding: length, exactly three segments,
 * header and payload non-empty, every segment canonical base64url. Shared by `decodeCompactJWS`
 * and the single-decode miss path, so both refuse exactly the same strings. Throws nothing.
 */
function splitCompactJWS(token: string, maxLength: number): CompactJWSSplit {
  if (token.length > maxLength) return { problem: 'token_too_large', message: `Token is longer than ${maxLength} characters` };
  if (COMPACT_JWS.test(token)) {
    const ends = canonicalSegmentEnds(token);
    if (ends !== undefined) return ends;
  }
  return describeProblem(token);
}

/**
 * The half of `splitCompactJWS` that does not scan the alphabet, in constant time but for
 * finding the dots: three segments, header and payload non-empty, each of a length and last
 * character that canonical base64url allows. The single-decode path pairs it with the alphabet
 * check jws makes of every token it decodes (its JWS_REGEX), rather than scanning twice.
 */
export function canonicalSegmentEnds(token: string): { readonly first: number; readonly second: number } | undefined {
  const first = token.indexOf('.');
  const second = first < 1 ? -1 : token.indexOf('.', first + 1);
  if (second <= first + 1 || token.indexOf('.', second + 1) !== -1) return undefined;
  const canonical = endsCanonically(token, 0, first) && endsCanonically(token, first + 1, second) && endsCanonically(token, second + 1, token.length);
  return canonical ? { first, second } : undefined;
}

/** Which rule of `splitCompactJWS` a token breaks, segment by segment, for a precise message. */
function describeProblem(token: string): CompactJWSSplit & { problem: 'malformed' } {
  const segments = token.split('.');
  if (segments.length !== 3) return { problem: 'malformed', message: 'Token is not a compact JWS of three segments' };
  const [header, payload, signature] = segments as [string, string, string];
  if (header === '' || !isCanonicalBase64url(header)) return { problem: 'malformed', message: 'Token header is not canonical base64url' };
  if (payload === '' || !isCanonicalBase64url(payload)) return { problem: 'malformed', message: 'Token payload is not canonical base64url' };
  if (!isCanonicalBase64url(signature)) return { problem: 'malformed', message: 'Token signature is not canonical base64url' };
  return { problem: 'malformed', message: 'Token is not a compact JWS' };
}

/** The shared step behind `decodeJWT` and the verifier: split, decode, shape-check. */
export function decodeCompactJWS<Payload extends object = JWTPayload>(token: unknown, maxLength: number): DecodedJWT<Payload> {
  if (typeof token !== 'string') throw new InvalidTokenError('malformed', 'Token is not a string');
  const split = splitCompactJWS(token, maxLength);
  if ('problem' in split) throw new InvalidTokenError(split.problem, split.message);
  const header = decodeSegmentObject(token.slice(0, split.first), 'header');
  if (typeof header.alg !== 'string') throw new InvalidTokenError('malformed', 'Token header has no string "alg"');
  const payload = decodeSegmentObject(token.slice(split.first + 1, split.second), 'payload');
  return { header: header as JWTHeader, payload: payload as Payload, signature: token.slice(split.second + 1) };
}

/** Decodes a segment `splitCompactJWS` has already found canonical. */
function decodeSegmentObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const value = parseJSONSafely(Buffer.from(segment, 'base64url'));
  if (!isPlainObject(value)) throw new InvalidTokenError('malformed', `Token ${part} is not a UTF-8 JSON object`);
  return value;
}
