import type { IncomingMessage } from 'node:http';
import { InvalidRequestError } from './errors.js';

/** Where besides the `Authorization` header a bearer token may arrive. Both off by default (RFC 6750 §2). */
export interface TokenLocationOptions {
  /** Accept `?access_token=` (RFC 6750 §2.3). Default false. */
  query?: boolean;
  /** Accept a form-encoded `access_token` body field (RFC 6750 §2.2). Default false. */
  body?: boolean;
}

/** The request shape `extractBearerToken` reads: Node's message plus what Express adds. */
export type TokenRequest = IncomingMessage & { body?: unknown; originalUrl?: string };

const PARAM = 'access_token';
// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token. One regex serves the common, valid case.
const BEARER_CREDENTIALS = /^bearer +([A-Za-z0-9\-._~+/]+=*)$/i;
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
// RFC 9110 §5.6.2 token: what any auth-scheme must look like.
const AUTH_SCHEME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Reads the bearer token of a request (RFC 6750 §2): from the `Authorization` header (§2.1),
 * and, only when enabled, from the `access_token` query parameter (§2.3) or form-encoded body
 * field (§2.2). The header scheme is case-insensitive and one or more spaces follow it.
 *
 * A token is returned only when it arrives in exactly one place; the request is refused when
 * it is ambiguous, so a token can never be smuggled past the one that was checked.
 * @returns the token, or `undefined` when the request carries no Bearer credentials (none, or
 *   another scheme such as Basic: the caller answers 401 without an error code, §3.1)
 * @throws InvalidRequestError (400) with reason `authorization_malformed`,
 *   `authorization_duplicated`, `parameter_repeated`, `transport_not_allowed` or
 *   `token_in_multiple_places`
 * @example
 * const token = extractBearerToken(req, { query: true });
 */
export function extractBearerToken(req: TokenRequest, options?: TokenLocationOptions): string | undefined {
  const header = readHeaderToken(req);
  const query = readQueryToken(req, options?.query === true);
  const body = readBodyToken(req, options?.body === true);
  if (query === undefined && body === undefined) return header;
  const places = [header, query, body].filter((token) => token !== undefined).length;
  if (places > 1) {
    throw new InvalidRequestError('token_in_multiple_places', 'Request carries a bearer token in more than one place');
  }
  return query ?? body;
}

function readHeaderToken(req: TokenRequest): string | undefined {
  const value = req.headers.authorization;
  if (value === undefined) return undefined;
  // Node keeps only the first `Authorization` header (RFC 9110 §11.6.2 allows one), so a second
  // one is visible in rawHeaders alone.
  if (countAuthorizationHeaders(req.rawHeaders) > 1) {
    throw new InvalidRequestError('authorization_duplicated', 'Request has more than one Authorization header');
  }
  const match = BEARER_CREDENTIALS.exec(value);
  if (match !== null) return match[1];
  return classifyNonMatching(value);
}

function countAuthorizationHeaders(rawHeaders: readonly string[] | undefined): number {
  let count = 0;
  if (rawHeaders === undefined) return count;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count += 1;
  }
  return count;
}

/** The slow path for a header that is not a well-formed Bearer credential: another scheme, or malformed. */
function classifyNonMatching(value: string): undefined {
  const space = value.indexOf(' ');
  const scheme = space === -1 ? value : value.slice(0, space);
  if (!AUTH_SCHEME.test(scheme)) {
    throw new InvalidRequestError('authorization_malformed', 'Authorization header has no valid scheme');
  }
  if (scheme.toLowerCase() !== 'bearer') return undefined;
  if (space === -1 || value.slice(space + 1).trim() === '') {
    throw new InvalidRequestError('authorization_malformed', 'Authorization header has the Bearer scheme but no token');
  }
  throw new InvalidRequestError('authorization_malformed', 'Bearer token in the Authorization header is not a valid b64token');
}

function readQueryToken(req: TokenRequest, allowed: boolean): string | undefined {
  // The raw URL, not `req.query`: Express's query parser is app-configurable (qs, querystring,
  // off) and must not change what counts as a token.
  const url = req.originalUrl ?? req.url ?? '';
  const start = url.indexOf('?');
  if (start === -1) return undefined;
  const end = url.indexOf('#', start);
  const search = end === -1 ? url.slice(start + 1) : url.slice(start + 1, end);
  // Form decoding turns `access%5Ftoken` into `access_token` too, so `%` also forces a parse.
  if (!search.includes(PARAM) && !search.includes('%')) return undefined;
  const values = new URLSearchParams(search).getAll(PARAM);
  if (values.length === 0) return undefined;
  if (!allowed) {
    throw new InvalidRequestError('transport_not_allowed', 'Bearer tokens are not accepted in the query string');
  }
  if (values.length > 1) {
    throw new InvalidRequestError('parameter_repeated', 'Query parameter `access_token` is repeated');
  }
  return checkParameterToken(values[0]!, 'Query parameter `access_token`');
}

function readBodyToken(req: TokenRequest, allowed: boolean): string | undefined {
  // §2.2: only a form-encoded body of a method whose body has defined semantics. Any other
  // `access_token` field (a JSON body, say) is application data, not a credential. Checked
  // before `req.body` is read: most requests stop here, at two own properties.
  if (req.method === 'GET' || req.method === 'HEAD' || !isFormEncoded(req.headers['content-type'])) return undefined;
  const body = req.body;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, PARAM)) return undefined;
  if (!allowed) {
    throw new InvalidRequestError('transport_not_allowed', 'Bearer tokens are not accepted in the request body');
  }
  const value: unknown = (body as Record<string, unknown>)[PARAM];
  if (Array.isArray(value)) {
    throw new InvalidRequestError('parameter_repeated', 'Body parameter `access_token` is repeated');
  }
  if (typeof value !== 'string') {
    throw new InvalidRequestError('authorization_malformed', 'Body parameter `access_token` is not a string');
  }
  return checkParameterToken(value, 'Body parameter `access_token`');
}

function isFormEncoded(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(';');
  const mediaType = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return mediaType.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** The same b64token syntax as the header, so every token handed on has one shape. */
function checkParameterToken(value: string, what: string): string {
  if (value === '') throw new InvalidRequestError('authorization_malformed', `${what} is empty`);
  if (!B64TOKEN.test(value)) throw new InvalidRequestError('authorization_malformed', `${what} is not a valid b64token`);
  return value;
}

/**
 * Whether `value` has the RFC 6750 §2.1 b64token syntax, the one shape `extractBearerToken`
 * hands on. A token from elsewhere (`createVerifier().verify()`, a custom `getToken`) may hold
 * anything; the opaque path sends only tokens of this shape to an IdP.
 */
export function isB64Token(value: string): boolean {
  return B64TOKEN.test(value);
}
