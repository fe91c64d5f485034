import { decodeCompactJWS } from './decode.js';
import { InvalidTokenError } from './errors.js';
import type { ResolvedIssuer } from './options.js';
import type { DecodedJWT, JWTPayload } from './types.js';

/** Which path a token takes, decided by configuration (see `tokenFormat`). */
export type Route<Entry> =
  | { readonly kind: 'jwt'; readonly decoded: DecodedJWT; readonly entry: Entry }
  | { readonly kind: 'opaque' };

/**
 * Chooses the path of a token:
 * - a token that decodes as a JWS goes to the configured issuer its (unverified) `iss` names —
 *   locally, unless that issuer accepts only opaque tokens; a JWT that then fails is rejected,
 *   never retried remotely;
 * - anything else goes to the issuer that accepts opaque tokens, if there is one.
 * A token naming an issuer that is not configured is refused here, before any network call.
 * @throws InvalidTokenError `malformed`, `token_too_large`, `claim_missing`, `issuer_mismatch`
 */
export function routeToken<Entry extends { readonly policy: ResolvedIssuer }>(
  token: string,
  entries: ReadonlyMap<string, Entry>,
  opaqueIssuer: ResolvedIssuer | undefined,
  maxTokenLength: number,
): Route<Entry> {
  let decoded: DecodedJWT;
  try {
    decoded = decodeCompactJWS<JWTPayload>(token, maxTokenLength);
  } catch (err) {
    // Length is enforced for every path; a non-JWT string is an opaque token where one is accepted.
    if (opaqueIssuer === undefined || (err as InvalidTokenError).reason === 'token_too_large') throw err;
    return { kind: 'opaque' };
  }
  const entry = issuerEntryOf(decoded.payload, entries);
  return entry.policy.tokenFormat === 'opaque' ? { kind: 'opaque' } : { kind: 'jwt', decoded, entry };
}

/**
 * The configured issuer a token's (unverified) `iss` names.
 * @throws InvalidTokenError `claim_missing` without `iss`, `issuer_mismatch` for an issuer not configured
 */
export function issuerEntryOf<Entry>(payload: JWTPayload, entries: ReadonlyMap<string, Entry>): Entry {
  const { iss } = payload;
  const entry = typeof iss === 'string' ? entries.get(iss) : undefined;
  if (entry === undefined) {
    if (iss === undefined) throw new InvalidTokenError('claim_missing', 'Token has no "iss" claim');
    throw new InvalidTokenError('issuer_mismatch', 'Token issuer is not one this API trusts');
  }
  return entry;
}
