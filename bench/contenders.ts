import { createPublicKey, verify as cryptoVerify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import jwt from 'jsonwebtoken';
import JwksRsa from 'jwks-rsa';
import { expressjwt, type GetVerificationKey } from 'express-jwt';
import { auth } from 'express-oauth2-jwt-bearer';
import { createVerifier as createFastVerifier } from 'fast-jwt';

/**
 * Every middleware stack the HTTP bench serves, each in its own process. The order is the order of
 * a round (reversed every other round): each judged comparison is between neighbours, so a drift
 * of the shared machine falls on both sides alike.
 */
export const CONTENDERS = [
  'unprotected',
  'bearer-guard',
  'fast-jwt-cached',
  'express-jwt',
  'bearer-guard-nocache',
  'jsonwebtoken-floor',
  'crypto-verify-ceiling',
  'express-oauth2-jwt-bearer',
] as const;
/** A contender of the HTTP load runs. */
export type HttpContender = (typeof CONTENDERS)[number];
/** Edge scenarios also run bearer-guard with opaque tokens checked by introspection. */
export type Contender = HttpContender | 'bearer-guard-introspection';

/** Contenders that fetch a JWKS themselves (the edge scenarios compare these). */
export const JWKS_CONTENDERS: readonly Contender[] = ['express-jwt', 'express-oauth2-jwt-bearer', 'fast-jwt-cached', 'bearer-guard'];

export const LABELS: Record<Contender, string> = {
  unprotected: 'unprotected',
  'crypto-verify-ceiling': '`crypto.verify` ceiling (hand-written)',
  'jsonwebtoken-floor': 'jsonwebtoken floor (kid→KeyObject Map)',
  'express-jwt': 'express-jwt + jwks-rsa',
  'express-oauth2-jwt-bearer': 'express-oauth2-jwt-bearer',
  'fast-jwt-cached': 'fast-jwt, its cache on (+ jwks-rsa)',
  'bearer-guard': 'bearer-guard, defaults',
  'bearer-guard-nocache': 'bearer-guard, `tokenCache: false`',
  'bearer-guard-introspection': 'bearer-guard, opaque tokens by introspection',
};

export interface ContenderConfig {
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  /** bearer-guard's unknown-kid cooldown, in ms (its default, 30 000, when undefined). */
  readonly cooldownMs: number | undefined;
  /** The bench's RFC 7662 endpoint, for `bearer-guard-introspection` only. */
  readonly introspectionEndpoint?: string;
}

/** The credentials the bench's introspection endpoint expects (Basic). */
export const INTROSPECTION_CLIENT = { clientId: 'bench-api', clientSecret: 'bench-secret' } as const;

/**
 * >>> INTROSPECTION SLOT (issue 9: "one opaque token × 1 000 → exactly 1 introspection call") <<<
 * The options bearer-guard takes to check opaque tokens by introspection. Introspection is being
 * built while this bench is written; edges.ts runs the scenario only when the built package
 * accepts these options, and reports "pending" otherwise (never a made-up figure). If the final
 * option names differ, this object is the one place to change.
 */
export function introspectionOptions(endpoint: string): Record<string, unknown> {
  return { introspection: { ...INTROSPECTION_CLIENT, endpoint }, tokenFormat: 'jwt-or-opaque' };
}

type BearerGuard = typeof import('../lib/index.js');
/** What the contenders leave on `req.auth` (typed loosely: each library has its own shape). */
type Authed = { auth?: { sub?: unknown; payload?: { sub?: unknown } } };

function setAuth(req: Request, payload: { sub?: unknown }): void {
  (req as unknown as Authed).auth = { payload };
}

/** The Authorization header's token, the way a hand-written middleware reads it. */
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/;

function unauthorized(next: NextFunction, cause?: unknown): void {
  next(Object.assign(new Error('invalid token', { cause }), { status: 401, code: 'invalid_token' }));
}

/** The middleware chain of one contender and how its route reads the subject. */
export async function createContender(name: Contender, config: ContenderConfig): Promise<{ guards: RequestHandler[]; subject: (req: Request) => unknown }> {
  const { issuer, audience, jwksUri } = config;
  const fromAuth = (req: Request): unknown => (req as unknown as Authed).auth?.sub;
  const fromPayload = (req: Request): unknown => (req as unknown as Authed).auth?.payload?.sub;
  switch (name) {
    case 'unprotected':
      return { guards: [], subject: () => 'user-0001' };
    case 'crypto-verify-ceiling':
      return { guards: [cryptoVerifyCeiling(await loadKeyMap(jwksUri), issuer, audience)], subject: fromPayload };
    case 'jsonwebtoken-floor':
      return { guards: [jsonwebtokenFloor(await loadKeyMap(jwksUri), issuer, audience)], subject: fromPayload };
    case 'express-jwt':
      return {
        guards: [expressjwt({
          secret: JwksRsa.expressJwtSecret({ cache: true, rateLimit: true, jwksUri }) as GetVerificationKey,
          algorithms: ['RS256'],
          issuer,
          audience,
        })],
        subject: fromAuth,
      };
    case 'express-oauth2-jwt-bearer':
      return { guards: [auth({ issuer, audience, jwksUri, tokenSigningAlg: 'RS256' })], subject: fromPayload };
    case 'fast-jwt-cached':
      return { guards: [fastJwtCached(jwksUri, issuer, audience)], subject: fromPayload };
    case 'bearer-guard-introspection': {
      const { verifyToken } = (await import('bearer-guard')) as unknown as BearerGuard;
      const options = { issuer, audience, jwksUri, allowHttpLoopback: true, ...introspectionOptions(config.introspectionEndpoint ?? '') };
      return { guards: [verifyToken(options as Parameters<BearerGuard['verifyToken']>[0])], subject: fromPayload };
    }
    case 'bearer-guard':
    case 'bearer-guard-nocache': {
      // The built package, as users get it (package self-reference → dist/index.mjs).
      const { verifyToken } = (await import('bearer-guard')) as unknown as BearerGuard;
      return {
        guards: [verifyToken({
          issuer,
          audience,
          jwksUri,
          allowHttpLoopback: true,
          ...(config.cooldownMs === undefined ? {} : { jwks: { cooldown: config.cooldownMs } }),
          ...(name === 'bearer-guard-nocache' ? { tokenCache: false as const } : {}),
        })],
        subject: fromPayload,
      };
    }
  }
}

/** `kid` → `KeyObject`, read once from the JWKS at startup (no refresh: it is a floor, not a client). */
async function loadKeyMap(jwksUri: string): Promise<Map<string, KeyObject>> {
  const response = await fetch(jwksUri);
  const { keys } = (await response.json()) as { keys: (JsonWebKey & { kid: string })[] };
  return new Map(keys.map((jwk) => [jwk.kid, createPublicKey({ key: jwk, format: 'jwk' })]));
}

/**
 * The jsonwebtoken floor: what a miss path built on `jsonwebtoken.verify` with a `KeyObject`
 * cannot beat. One decode (the key getter runs synchronously inside verify), claims checked by
 * jsonwebtoken itself.
 */
function jsonwebtokenFloor(keys: Map<string, KeyObject>, issuer: string, audience: string): RequestHandler {
  const options: jwt.VerifyOptions & { complete?: false } = { algorithms: ['RS256'], issuer, audience };
  const getKey: jwt.GetPublicKeyOrSecret = (header, done) => done(null, header.kid === undefined ? undefined : keys.get(header.kid));
  return function floor(req: Request, _res: Response, next: NextFunction): void {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (match === null) return unauthorized(next);
    jwt.verify(match[1]!, getKey, options, (err, payload) => {
      if (err) return unauthorized(next, err);
      setAuth(req, payload as { sub?: unknown });
      next();
    });
  };
}

/** The ceiling: `crypto.verify` plus the minimum of claim checks, with no library at all. */
function cryptoVerifyCeiling(keys: Map<string, KeyObject>, issuer: string, audience: string): RequestHandler {
  return function ceiling(req: Request, _res: Response, next: NextFunction): void {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (match === null) return unauthorized(next);
    const token = match[1]!;
    const first = token.indexOf('.');
    const second = token.indexOf('.', first + 1);
    try {
      const header = JSON.parse(Buffer.from(token.slice(0, first), 'base64url').toString()) as { alg?: string; kid?: string };
      const key = header.kid === undefined ? undefined : keys.get(header.kid);
      if (header.alg !== 'RS256' || key === undefined) return unauthorized(next);
      const signed = Buffer.from(token.slice(0, second));
      if (!cryptoVerify('sha256', signed, key, Buffer.from(token.slice(second + 1), 'base64url'))) return unauthorized(next);
      const payload = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString()) as { iss?: string; aud?: string; exp?: number; sub?: unknown };
      if (payload.iss !== issuer || payload.aud !== audience || typeof payload.exp !== 'number' || payload.exp * 1000 <= Date.now()) {
        return unauthorized(next);
      }
      setAuth(req, payload);
      next();
    } catch (err) {
      unauthorized(next, err);
    }
  };
}

/** fast-jwt with its verified-token cache (`cache: true`, 1 000 entries), keys from jwks-rsa. */
function fastJwtCached(jwksUri: string, issuer: string, audience: string): RequestHandler {
  const jwks = new JwksRsa.JwksClient({ jwksUri, cache: true, rateLimit: true });
  const verify = createFastVerifier({
    key: async (decoded: { header: { kid?: string } }) => (await jwks.getSigningKey(decoded.header.kid)).getPublicKey(),
    algorithms: ['RS256'],
    allowedIss: issuer,
    allowedAud: audience,
    cache: true,
  });
  return function fastJwt(req: Request, _res: Response, next: NextFunction): void {
    const match = BEARER.exec(req.headers.authorization ?? '');
    if (match === null) return unauthorized(next);
    (verify(match[1]!) as Promise<{ sub?: unknown }>).then(
      (payload) => {
        setAuth(req, payload);
        next();
      },
      (err: unknown) => unauthorized(next, err),
    );
  };
}
