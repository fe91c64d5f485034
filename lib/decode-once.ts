import jwt from 'jsonwebtoken';
import { canonicalSegmentEnds } from './decode.js';
import type { InvalidTokenError } from './errors.js';
import { checkHeader, type HeaderPolicy } from './header.js';
import { isPlainObject, isPollutingKey } from './internal/safe-json.js';
import type { VerificationKey } from './key-set.js';
import type { KeyResolver } from './resolve-key.js';
import { signatureInvalid } from './signature.js';
import type { DecodedJWT, JWTHeader, JWTPayload } from './types.js';

/** An issuer the single-decode path may take a key from: its header policy and cached key set. */
export interface DecodeOnceSource {
  readonly policy: HeaderPolicy;
  readonly keys: Pick<KeyResolver, 'peekKeys'>;
}

/**
 * What the single-decode path concluded, with the `source` whose key it used:
 * - `{ decoded, key, source }`: the signature verified with `key`, and `decoded` is exactly what
 *   the strict decoder would have produced (the claims are still to be checked, and that `iss`
 *   names `source`);
 * - `{ failure, source }` (`signature_invalid`): its header passed and its one key refused the
 *   signature; the caller still owes the checks the strict path makes before the signature
 *   (decoding, `iss`), which take precedence, but no second signature check when `iss` names
 *   `source`;
 * - `undefined`: anything else — the caller takes the strict path, which gives the precise answer.
 */
export type SingleDecodeOutcome<Source> =
  | { readonly decoded: DecodedJWT; readonly key: VerificationKey; readonly source: Source; readonly failure?: undefined }
  | { readonly failure: InvalidTokenError; readonly source: Source }
  | undefined;

/**
 * The miss path of the common case with one decode instead of two. `jsonwebtoken.verify` always
 * decodes the token itself; decoding it strictly beforehand as well cost about a tenth of a
 * verification. So here jsonwebtoken decodes, and bearer-guard checks that its result is what the
 * strict decoder (`decodeCompactJWS`) would have produced: the string checks of
 * `splitCompactJWS` (jws scans the alphabet, `canonicalSegmentEnds` the rest), then a walk over
 * the decoded header and payload. Whatever could decode differently — a member the strict
 * decoder drops, a header that is not ASCII (jws reads it as Latin-1), a U+FFFD in the payload
 * (jws replaces bad UTF-8 with it), a non-object — and whatever needs more than one synchronous
 * key (cold key set, duplicate kids) goes to the strict path.
 *
 * The key is still chosen by bearer-guard before jsonwebtoken checks the signature: the header
 * passes `checkHeader` and the cached key sets give exactly one candidate, synchronously. With
 * several issuers the key is chosen from the header alone (jsonwebtoken hands its key callback
 * no payload): exactly one issuer's policy and cached set must yield one key, and the caller
 * then requires the token's `iss` to name that issuer (otherwise the strict path decides).
 */
export function createSingleDecodePath<Source extends DecodeOnceSource>(sources: readonly Source[], maxTokenLength: number): (token: string) => SingleDecodeOutcome<Source> {
  // Made once: jsonwebtoken copies its options per call but this object never changes. Each
  // source's own algorithms are enforced by `checkHeader` before its key is handed over.
  const options = Object.freeze({
    complete: true as const,
    algorithms: [...new Set(sources.flatMap((source) => source.policy.algorithms))] as jwt.Algorithm[],
    // exp, nbf, iat, iss and aud are owned by claims.ts, with precise reasons.
    ignoreExpiration: true,
    ignoreNotBefore: true,
  });

  // What the two callbacks below found for the token being verified. jsonwebtoken calls them
  // before `jwt.verify` returns (the key is handed over synchronously), and nothing in them can
  // start another verification, so one set of variables and callbacks serves every call
  // without allocating closures per request.
  let key: VerificationKey | undefined;
  let keySource: Source | undefined;
  let outcome: SingleDecodeOutcome<Source>;

  const getKey: jwt.GetPublicKeyOrSecret = (header, done) => {
    pickKey(header);
    done(key === undefined ? NOT_HERE : null, key?.key);
  };

  const onVerified: jwt.VerifyCallback = (err, complete) => {
    if (key === undefined) return;
    if (err !== null) {
      // The one error raised by the signature check itself; any other takes the strict path.
      if (err.message === 'invalid signature') outcome = { failure: signatureInvalid(err), source: keySource! };
      return;
    }
    const { header, payload, signature } = complete as unknown as jwt.Jwt;
    if (isPlainObject(payload) && decodesAlike(payload, hasUnsafePayloadText)) {
      outcome = { decoded: { header: header as JWTHeader, payload: payload as JWTPayload, signature }, key, source: keySource! };
    }
  };

  return function verifyDecodingOnce(token) {
    // The alphabet is jws's to check (it refuses the token otherwise: the strict path then
    // answers); the canonical ends are not, so they are checked here. test/decode-once.test.ts
    // pins both.
    if (token.length > maxTokenLength) return undefined;
    const ends = canonicalSegmentEnds(token);
    // The payload's first byte must be `{` (base64url `e`): with `typ: "JWT"` jws parses the payload
    // and jsonwebtoken parses a resulting string again, so a signed JSON *string* holding JSON would
    // come out an object here where the strict decoder refuses it. An object's first byte is `{`.
    if (ends === undefined || token.charCodeAt(ends.first + 1) !== LOWER_E) return undefined;
    key = undefined;
    keySource = undefined;
    outcome = undefined;
    try {
      jwt.verify(token, getKey, options, onVerified);
    } catch {
      // jsonwebtoken reads claims off a payload it never checked is an object: a signed `null`
      // payload makes it throw. The strict path refuses such a token with its precise reason.
      outcome = undefined;
    }
    const found = outcome;
    key = undefined;
    keySource = undefined;
    outcome = undefined;
    return found;
  };

  /** Sets `key` and `keySource` to the one key to check the signature with, if there is exactly one. */
  function pickKey(header: unknown): void {
    if (!isPlainObject(header) || typeof header.alg !== 'string' || !decodesAlike(header, hasNonASCII)) return;
    for (const source of sources) {
      try {
        checkHeader(header as JWTHeader, source.policy);
      } catch {
        continue; // not this issuer's kind of header; the strict path reports it, in its own order of checks
      }
      const candidates = source.keys.peekKeys(header.kid as string | undefined, header.alg);
      if (candidates === undefined || candidates.length === 0) continue;
      // A kid under several keys, or in two issuers' sets: the strict path tries them in its own way.
      if (candidates.length > 1 || key !== undefined) {
        key = undefined;
        keySource = undefined;
        return;
      }
      key = candidates[0];
      keySource = source;
    }
  }
}

const LOWER_E = 0x65;

/** Handed to jsonwebtoken's key callback to stop it before the signature check. */
const NOT_HERE = new Error('bearer-guard: strict path');

const NON_ASCII = /[^\x00-\x7f]/;

function hasNonASCII(text: string): boolean {
  return NON_ASCII.test(text);
}

function hasUnsafePayloadText(text: string): boolean {
  return text.includes('\uFFFD');
}

/**
 * True when no member name is one the strict decoder drops and no string (name or value, at any
 * depth) is one that `suspect` says jws may have decoded differently from strict UTF-8.
 */
function decodesAlike(value: unknown, suspect: (text: string) => boolean): boolean {
  if (typeof value === 'string') return !suspect(value);
  if (typeof value !== 'object' || value === null) return true;
  // for…in, not Object.keys(): no array per object. JSON.parse makes own enumerable members only.
  for (const name in value) {
    if (isPollutingKey(name) || suspect(name) || !decodesAlike((value as Record<string, unknown>)[name], suspect)) return false;
  }
  return true;
}
