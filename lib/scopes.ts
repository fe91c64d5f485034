import type { RequestHandler } from 'express';
import { ConfigError, InsufficientScopeError, UnauthorizedError } from './errors.js';
import './express.js';
import { requestRealm } from './request-realm.js';

// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
// Spaces delimit scopes (RFC 6749 §3.3); tabs and line breaks are tolerated, since no
// scope-token can contain them. ASCII only: `\s` would also split on U+00A0, U+3000, U+FEFF…,
// turning the one invalid scope "read\u00a0admin" into a grant of `admin`.
const SEPARATORS = /[ \t\r\n]+/;

/**
 * Scopes granted by a payload: `scope` (space-separated string, RFC 8693 §4.2 / RFC 9068 §2.2.3),
 * `scp` (array of strings, or a space-separated string as some IdPs send), `permissions`
 * (array of strings, as Auth0 sends). Exact tokens only: strings split on ASCII whitespace alone,
 * and anything that is not an RFC 6749 §3.3 scope-token (or not a string) is ignored.
 * Works on JWT claims and on introspection (RFC 7662 §2.2) and userinfo responses alike.
 * @example
 * parseScopes({ scope: 'email twitter' }).has('email'); // true
 */
export function parseScopes(payload: unknown): ReadonlySet<string> {
  const scopes = new Set<string>();
  if (typeof payload !== 'object' || payload === null) return scopes;
  const { scope, scp, permissions } = payload as Record<string, unknown>;
  if (typeof scope === 'string') addSpaceSeparated(scopes, scope);
  if (typeof scp === 'string') addSpaceSeparated(scopes, scp);
  else addArray(scopes, scp);
  addArray(scopes, permissions);
  return scopes;
}

// Only scope-tokens are granted: anything else could never equal a required scope (those are
// checked at startup), and left out it cannot be mistaken for one by code reading the set.
function addSpaceSeparated(into: Set<string>, claim: string): void {
  for (const scope of claim.split(SEPARATORS)) if (SCOPE_TOKEN.test(scope)) into.add(scope);
}

function addArray(into: Set<string>, claim: unknown): void {
  if (!Array.isArray(claim)) return;
  for (const scope of claim) if (typeof scope === 'string' && SCOPE_TOKEN.test(scope)) into.add(scope);
}

/**
 * Express middleware that lets a request through only when its verified token (`req.auth`,
 * set by `verifyToken`) grants **every** listed scope. Mount it after `verifyToken`.
 * @throws ConfigError at creation when no scope is given or one is not an RFC 6749 §3.3 scope-token
 * @returns middleware that calls `next()`, or `next(err)` with `InsufficientScopeError` (403,
 *   challenge `scope="a b"` naming all listed scopes) or, without `req.auth`, `UnauthorizedError` (401)
 * @example
 * app.get('/profile', verifyToken({ issuer, audience }), requireScopes('email'), handler);
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  const required = checkScopes('requireScopes', scopes);
  return function requireScopesMiddleware(req, _res, next) {
    if (req.auth === undefined) return next(new UnauthorizedError().withRealm(requestRealm(req)));
    const granted = parseScopes(req.auth.payload);
    if (required.every((scope) => granted.has(scope))) return next();
    next(new InsufficientScopeError(required).withRealm(requestRealm(req)));
  };
}

/**
 * Express middleware that lets a request through when its verified token grants **at least
 * one** of the listed scopes. The 403 challenge lists them all (`scope="a b"`).
 * @throws ConfigError at creation when no scope is given or one is not an RFC 6749 §3.3 scope-token
 * @example
 * app.get('/inbox', verifyToken({ issuer, audience }), requireAnyScope('gmail', 'email'), handler);
 */
export function requireAnyScope(...scopes: string[]): RequestHandler {
  const accepted = checkScopes('requireAnyScope', scopes);
  const message = `Token lacks any of the scopes: ${accepted.join(' ')}`;
  return function requireAnyScopeMiddleware(req, _res, next) {
    if (req.auth === undefined) return next(new UnauthorizedError().withRealm(requestRealm(req)));
    const granted = parseScopes(req.auth.payload);
    if (accepted.some((scope) => granted.has(scope))) return next();
    next(new InsufficientScopeError(accepted, message).withRealm(requestRealm(req)));
  };
}

function checkScopes(fn: string, scopes: readonly unknown[]): readonly string[] {
  if (scopes.length === 0) throw new ConfigError(`${fn}: at least one scope is required`);
  for (const scope of scopes) {
    if (typeof scope !== 'string') {
      throw new ConfigError(`${fn}: scope \`${String(scope)}\` is not a string`);
    }
    if (!SCOPE_TOKEN.test(scope)) {
      throw new ConfigError(
        `${fn}: scope \`${JSON.stringify(scope)}\` is not an RFC 6749 §3.3 scope-token (non-empty; no spaces, quotes or backslashes)`,
      );
    }
  }
  return Object.freeze([...new Set(scopes as string[])]);
}
