import { randomUUID, type KeyObject } from 'node:crypto';
import { ConfigError } from '../errors.js';
import { optionalNumber } from '../internal/option-checks.js';

/** Lifetime of minted tokens when `expiresIn` is not given, in seconds (5 minutes). */
export const DEFAULT_TOKEN_LIFETIME_SEC = 300;

/** The `sub` of minted tokens unless the claims say otherwise. */
export const DEFAULT_SUBJECT = 'test-user';

/** When a minted token is valid; both relative to now, in seconds. */
export interface TokenLifetimeOptions {
  /** Seconds from now until `exp`. Default 300. A negative value mints an expired token. */
  expiresIn?: number;
  /** Seconds from now until `nbf`; without it the token has no `nbf`. */
  notBefore?: number;
}

/** Options of `TestIssuer.sign`: the header, the key and the token's lifetime. */
export interface TestSignOptions extends TokenLifetimeOptions {
  /**
   * The header `kid`. A `kid` of a key the issuer holds (see `rotateKeys({ keepPrevious })`)
   * signs with that key; any other is written as given and signed with the current key.
   * Default: the current key's.
   */
  kid?: string;
  /** The header `alg` and the algorithm that signs (see `signJWT`). Default: the key's own. */
  alg?: string;
  /** The header `typ`, e.g. `'at+jwt'` (RFC 9068). Default `'JWT'`. */
  typ?: string;
  /** Header members to add or override; one set to `undefined` is removed (e.g. `{ kid: undefined }`). */
  header?: Record<string, unknown>;
  /** Sign with this private key instead of the issuer's (the header still names the issuer's `kid`). */
  signingKey?: KeyObject;
}

/** Options of `TestIssuer.issueOpaque`. */
export interface OpaqueTokenOptions extends TokenLifetimeOptions {
  /** The exact userinfo answer. Default: `sub` and the other claims about the user (not `iss`, `aud`, `exp`, `scope`, …). */
  userinfo?: Record<string, unknown>;
}

/** The keys of `TestSignOptions`, for refusing a misspelt one. */
export const SIGN_OPTION_NAMES: ReadonlySet<string> = new Set(['expiresIn', 'notBefore', 'kid', 'alg', 'typ', 'header', 'signingKey']);

/** The keys of `OpaqueTokenOptions`, for refusing a misspelt one. */
export const OPAQUE_OPTION_NAMES: ReadonlySet<string> = new Set(['expiresIn', 'notBefore', 'userinfo']);

/**
 * The claims of a minted token: `iss`, `sub: 'test-user'`, `aud`, `iat` = now, `exp` = now +
 * `expiresIn`, a random `jti`, and `nbf` with `notBefore`; then `claims` over them, where a
 * claim set to `undefined` is removed.
 * @param where the public method name that starts error messages
 * @throws ConfigError for a non-numeric lifetime, or `expiresIn` together with an `exp` claim (or `notBefore` with `nbf`)
 */
export function mintClaims(
  where: string,
  base: { readonly iss: string; readonly aud: string | readonly string[] },
  claims: Record<string, unknown>,
  options: TokenLifetimeOptions,
  nowSec: number,
): Record<string, unknown> {
  const expiresIn = optionalNumber(`${where}: \`expiresIn\``, options.expiresIn, -Infinity);
  const notBefore = optionalNumber(`${where}: \`notBefore\``, options.notBefore, -Infinity);
  if (expiresIn !== undefined && 'exp' in claims) throw new ConfigError(`${where}: give \`expiresIn\` or an \`exp\` claim, not both`);
  if (notBefore !== undefined && 'nbf' in claims) throw new ConfigError(`${where}: give \`notBefore\` or an \`nbf\` claim, not both`);
  const minted: Record<string, unknown> = {
    iss: base.iss,
    sub: DEFAULT_SUBJECT,
    aud: typeof base.aud === 'string' ? base.aud : [...base.aud],
    iat: nowSec,
    ...(notBefore !== undefined && { nbf: nowSec + notBefore }),
    exp: nowSec + (expiresIn ?? DEFAULT_TOKEN_LIFETIME_SEC),
    jti: randomUUID(),
    ...claims,
  };
  return definedMembers(minted);
}

/** A copy without the members set to `undefined`. */
export function definedMembers(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}
