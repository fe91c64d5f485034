/** A JWS protected header (RFC 7515 §4). Unknown members are kept, typed `unknown`. */
export interface JWTHeader {
  alg: string;
  typ?: string;
  kid?: string;
  cty?: string;
  crit?: unknown;
  [member: string]: unknown;
}

/** Registered JWT claims (RFC 7519 §4.1) plus the scope claims bearer-guard reads. */
export interface JWTPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  /** Space-separated scopes (RFC 8693 §4.2, RFC 9068 §2.2.3). */
  scope?: string;
  [claim: string]: unknown;
}

/** What `decodeJWT(token, { complete: true })` returns. */
export interface DecodedJWT<Payload extends object = JWTPayload> {
  header: JWTHeader;
  payload: Payload;
  /** The third segment, still base64url-encoded. */
  signature: string;
}

/** Where a verified result came from. */
export type AuthSource = 'jwt' | 'introspection' | 'userinfo';

/**
 * What lands on `req.auth` after a successful verification. Frozen, deeply, at run time (one
 * result may be served from the cache to many requests); the types say so at the top levels.
 */
export interface AuthResult<Payload extends object = JWTPayload> {
  /** The bearer token as received. */
  readonly token: string;
  /** The JWS header; `undefined` for opaque tokens. */
  readonly header: Readonly<JWTHeader> | undefined;
  /** Verified claims, or the introspection / userinfo response for opaque tokens. */
  readonly payload: Readonly<Payload>;
  readonly source: AuthSource;
}
