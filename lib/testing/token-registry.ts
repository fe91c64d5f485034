/** What a test issuer remembers about a token it issued. */
export interface IssuedToken {
  /** The claims, as introspection answers them (RFC 7662 §2.2) after `active: true`. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** What userinfo answers (OIDC Core §5.3.2). */
  readonly userinfo: Readonly<Record<string, unknown>>;
}

/** The tokens a test issuer has issued and revoked, as its introspection and userinfo endpoints see them. */
export interface TokenRegistry {
  /** Remembers a token; `userinfo` defaults to `userinfoOf(claims)`. */
  add(token: string, claims: Record<string, unknown>, userinfo?: Record<string, unknown>): void;
  /** From now on the token is inactive, whether or not it was issued here. */
  revoke(token: string): void;
  /** The token's record while it is active: issued here, not revoked, within `nbf` and `exp`. */
  active(token: string, nowSec: number): IssuedToken | undefined;
}

/** Claims about the token itself rather than its subject: left out of the default userinfo answer. */
const TOKEN_CLAIMS: ReadonlySet<string> = new Set(['iss', 'aud', 'exp', 'nbf', 'iat', 'jti', 'scope', 'client_id', 'azp', 'token_type', 'active']);

/**
 * The default userinfo answer for a token's claims: `sub` and the claims about the user
 * (`name`, `email`, custom ones), without those about the token (`iss`, `aud`, `exp`, `scope`, …).
 */
export function userinfoOf(claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !TOKEN_CLAIMS.has(name)));
}

/** An in-memory `TokenRegistry`. */
export function createTokenRegistry(): TokenRegistry {
  const issued = new Map<string, IssuedToken>();
  const revoked = new Set<string>();
  return {
    add(token, claims, userinfo) {
      issued.set(token, Object.freeze({ claims: Object.freeze({ ...claims }), userinfo: Object.freeze({ ...(userinfo ?? userinfoOf(claims)) }) }));
    },
    revoke(token) {
      revoked.add(token);
    },
    active(token, nowSec) {
      const entry = issued.get(token);
      if (entry === undefined || revoked.has(token)) return undefined;
      const { exp, nbf } = entry.claims;
      if (typeof exp === 'number' && nowSec >= exp) return undefined;
      if (typeof nbf === 'number' && nowSec < nbf) return undefined;
      return entry;
    },
  };
}
