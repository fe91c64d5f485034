import { randomBytes } from 'node:crypto';
import { makeKey, type TestKey } from '../test/helpers/keys.js';
import { signToken } from '../test/helpers/tokens.js';

/** The issuer and audience every contender is configured with (a JWKS URL is given: no discovery). */
export const ISSUER = 'https://issuer.bench';
export const AUDIENCE = 'https://api.bench';
/** What every protected route answers; the unprotected one answers the same bytes. */
export const SUBJECT = 'user-0001';

/** A fresh 2048-bit RSA signing key (one per run, never stored). */
export function makeSigningKey(kid = `bench-${randomBytes(4).toString('hex')}`): TestKey {
  return makeKey(kid, 'RS256', { modulusLength: 2048 });
}

/** A valid RS256 token for the bench issuer/audience, valid for an hour; `jti` makes each one distinct. */
export function mintToken(key: TestKey, claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}): string {
  const nowSec = Math.floor(Date.now() / 1000);
  return signToken(
    key,
    { iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, iat: nowSec, exp: nowSec + 3600, jti: randomBytes(8).toString('hex'), ...claims },
    { header },
  );
}

/** `count` distinct valid tokens. */
export function mintTokens(key: TestKey, count: number): string[] {
  return Array.from({ length: count }, () => mintToken(key));
}
