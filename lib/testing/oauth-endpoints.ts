import type { TestResponse } from './test-faults.js';
import type { TestRequest } from './test-server.js';
import type { TokenRegistry } from './token-registry.js';

/** The client credentials an introspection caller must present (RFC 7662 §2.1). */
export interface IntrospectionClient {
  /** The client id, the user name of HTTP Basic (or `client_id` in the body). */
  readonly clientId: string;
  /** The client secret, the password of HTTP Basic (or `client_secret` in the body). */
  readonly clientSecret: string;
}

const NO_STORE = { 'cache-control': 'no-store' } as const;

/**
 * Answers an RFC 7662 introspection request: `POST`, form-encoded `token` (a `token_type_hint`
 * is accepted and ignored), the client authenticated with HTTP Basic or `client_id` /
 * `client_secret` in the body (RFC 6749 §2.3.1), one method only. `{ active: true, ...claims }`
 * for an active token this issuer issued; `{ active: false }` and nothing else for any other.
 * Wrong or missing client credentials get `401 invalid_client` (RFC 6749 §5.2).
 */
export function answerIntrospection(request: TestRequest, client: IntrospectionClient, tokens: TokenRegistry, nowSec: number): TestResponse {
  if (request.method !== 'POST') return json(405, { error: 'invalid_request', error_description: 'Introspection takes POST' }, { allow: 'POST' });
  if (!isFormEncoded(request.headers['content-type'])) {
    return json(400, { error: 'invalid_request', error_description: 'Body must be application/x-www-form-urlencoded' });
  }
  const form = new URLSearchParams(request.body);
  // RFC 6749 §3.1: request parameters must not be repeated.
  if (new Set(form.keys()).size !== [...form.keys()].length) return json(400, { error: 'invalid_request', error_description: 'A parameter is repeated' });
  const fromHeader = basicCredentials(request.headers.authorization);
  const inBody = form.has('client_id') || form.has('client_secret');
  if (fromHeader !== undefined && inBody) {
    return json(400, { error: 'invalid_request', error_description: 'Use one client authentication method' });
  }
  const presented = fromHeader ?? (inBody ? { clientId: form.get('client_id'), clientSecret: form.get('client_secret') } : undefined);
  if (presented?.clientId !== client.clientId || presented.clientSecret !== client.clientSecret) {
    return json(401, { error: 'invalid_client' }, { 'www-authenticate': 'Basic realm="test-issuer"' });
  }
  const token = form.get('token');
  if (token === null || token === '') return json(400, { error: 'invalid_request', error_description: 'The token parameter is required' });
  const issued = tokens.active(token, nowSec);
  // RFC 7662 §2.2: an inactive token's answer should say nothing more.
  return json(200, issued === undefined ? { active: false } : Object.assign({ active: true }, issued.claims, { active: true }), NO_STORE);
}

/**
 * Answers an OIDC userinfo request (OIDC Core §5.3): `GET` or `POST` with the access token in
 * `Authorization: Bearer` (RFC 6750 §2.1). The token's userinfo for an active token; `401` with
 * an RFC 6750 §3 challenge otherwise (`error="invalid_token"` when a token was sent).
 */
export function answerUserinfo(request: TestRequest, tokens: TokenRegistry, nowSec: number): TestResponse {
  if (request.method !== 'GET' && request.method !== 'POST') return json(405, { error: 'invalid_request' }, { allow: 'GET, POST' });
  const match = /^Bearer +(\S+)$/i.exec(request.headers.authorization ?? '');
  if (match === null) return json(401, { error: 'invalid_request' }, { 'www-authenticate': 'Bearer realm="test-issuer"' });
  const issued = tokens.active(match[1]!, nowSec);
  if (issued === undefined) {
    return json(401, { error: 'invalid_token' }, { 'www-authenticate': 'Bearer realm="test-issuer", error="invalid_token"' });
  }
  return json(200, issued.userinfo, NO_STORE);
}

/** A JSON answer. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): TestResponse {
  return { status, headers, body: JSON.stringify(body) };
}

function isFormEncoded(contentType: string | undefined): boolean {
  return contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded';
}

/** RFC 7617 Basic credentials; RFC 6749 §2.3.1 form-encodes id and secret before base64. */
function basicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | undefined {
  const match = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(authorization ?? '');
  if (match === null) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  try {
    return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}
