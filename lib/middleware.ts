import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { UnauthorizedError, isAuthError, InvalidRequestError, type AuthError } from './errors.js';
import { extractBearerToken } from './extract-token.js';
import { resolveOptions, type VerifyTokenOptions } from './options.js';
import { setRequestRealm } from './request-realm.js';
import { buildVerifier } from './verifier.js';
import type { AuthResult } from './types.js';

/**
 * Express middleware that verifies the request's bearer token and sets `req.auth`
 * (`{ token, header, payload, source }`). It never answers the response itself: failures go to
 * `next(err)` with an `AuthError` whose `status` and `headers` (RFC 6750 `WWW-Authenticate`,
 * or `Retry-After` on a 503) Express's default handler already sends correctly.
 * Options are checked here, once: a wrong one throws `ConfigError` at startup.
 * @example
 * app.get('/me', verifyToken({ issuer: 'https://idp.example', audience: 'https://api.example' }),
 *   (req, res) => res.json({ sub: req.auth?.payload.sub }));
 */
export function verifyToken(options: VerifyTokenOptions): RequestHandler {
  const resolved = resolveOptions('verifyToken', options);
  const verifier = buildVerifier(resolved);
  const { realm, credentialsRequired, getToken } = resolved;
  const locations = { query: resolved.allowQueryToken, body: resolved.allowBodyToken };

  function fail(next: NextFunction, err: AuthError): void {
    next(err.withRealm(realm));
  }

  function verifyAndContinue(req: Request, next: NextFunction, token: string | undefined): void {
    if (token === undefined) {
      if (credentialsRequired) {
        fail(next, new UnauthorizedError());
      } else {
        // `requireScopes` after an optional-auth route still challenges with this realm.
        setRequestRealm(req, realm);
        next();
      }
      return;
    }
    let outcome: AuthResult | Promise<AuthResult>;
    try {
      outcome = verifier.check(token);
    } catch (err) {
      fail(next, err as AuthError);
      return;
    }
    if (!(outcome instanceof Promise)) {
      // Answered without I/O (a cache hit, or a key set in memory): no promise hop before the route.
      proceed(req, next, outcome);
      return;
    }
    outcome.then(
      (result: AuthResult) => proceed(req, next, result),
      // Two-argument then: an error thrown by a later handler never re-enters here.
      (err: AuthError) => fail(next, err),
    );
  }

  function proceed(req: Request, next: NextFunction, result: AuthResult): void {
    req.auth = result;
    setRequestRealm(req, realm);
    next();
  }

  return function verifyTokenMiddleware(req: Request, _res: Response, next: NextFunction): void {
    if (getToken === undefined) {
      let token: string | undefined;
      try {
        token = extractBearerToken(req, locations);
      } catch (err) {
        fail(next, isAuthError(err) ? err : new InvalidRequestError('authorization_malformed', 'Authorization could not be read', { cause: err }));
        return;
      }
      verifyAndContinue(req, next, token);
      return;
    }
    Promise.resolve()
      .then(() => getToken(req))
      .then(
        (token) => {
          // `null` means none too: express-jwt's documented `getToken` returns it, and apps migrate.
          if (token === null) {
            verifyAndContinue(req, next, undefined);
            return;
          }
          if (token !== undefined && typeof token !== 'string') {
            fail(next, new InvalidRequestError('authorization_malformed', '`getToken` returned something other than a string'));
            return;
          }
          // Empty credentials are a malformed request (RFC 6750 §3.1), as for the header; no token is `undefined`.
          if (token === '') {
            fail(next, new InvalidRequestError('authorization_malformed', '`getToken` returned an empty token'));
            return;
          }
          verifyAndContinue(req, next, token);
        },
        (err: unknown) => fail(next, isAuthError(err) ? err : new InvalidRequestError('authorization_malformed', 'The token could not be read from the request', { cause: err })),
      );
  };
}
