import { InvalidTokenError } from './errors.js';
import { decodeBase64url, isCanonicalBase64url } from './internal/base64url.js';
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
 * @throws InvalidTokenError with reason `malformed` (or `token_too_large`) for anything else
 * @example
 * const { sub } = decodeJWT<{ sub: string }>(req.auth.token);
 * const { header } = decodeJWT(token, { complete: true });
 */
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options: DecodeJWTOptions & { complete: true }): DecodedJWT<Payload>;
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options?: DecodeJWTOptions & { complete?: false }): Payload;
export function decodeJWT<Payload extends object = JWTPayload>(token: string, options: DecodeJWTOptions = {}): Payload | DecodedJWT<Payload> {
  const decoded = decodeCompactJWS<Payload>(token, options.maxLength ?? MAX_TOKEN_LENGTH);
  return options.complete === true ? decoded : decoded.payload;
}

/** The shared step behind `decodeJWT` and the verifier: split, decode, shape-check. */
export function decodeCompactJWS<Payload extends object = JWTPayload>(token: unknown, maxLength: number): DecodedJWT<Payload> {
  if (typeof token !== 'string') throw new InvalidTokenError('malformed', 'Token is not a string');
  if (token.length > maxLength) {
    throw new InvalidTokenError('token_too_large', `Token is longer than ${maxLength} characters`);
  }
  const first = token.indexOf('.');
  const second = first === -1 ? -1 : token.indexOf('.', first + 1);
  if (second === -1 || token.indexOf('.', second + 1) !== -1) {
    throw new InvalidTokenError('malformed', 'Token is not a compact JWS of three segments');
  }
  const header = decodeSegmentObject(token.slice(0, first), 'header');
  if (typeof header.alg !== 'string') throw new InvalidTokenError('malformed', 'Token header has no string "alg"');
  const payload = decodeSegmentObject(token.slice(first + 1, second), 'payload');
  const signature = token.slice(second + 1);
  if (!isCanonicalBase64url(signature)) {
    throw new InvalidTokenError('malformed', 'Token signature is not canonical base64url');
  }
  return { header: header as JWTHeader, payload: payload as Payload, signature };
}

function decodeSegmentObject(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  const bytes = segment === '' ? undefined : decodeBase64url(segment);
  if (bytes === undefined) throw new InvalidTokenError('malformed', `Token ${part} is not canonical base64url`);
  const value = parseJSONSafely(bytes);
  if (!isPlainObject(value)) throw new InvalidTokenError('malformed', `Token ${part} is not a UTF-8 JSON object`);
  return value;
}
