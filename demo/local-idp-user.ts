import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { OidcProvider } from './local-idp.js';

/**
 * End users at the local IdP, without a browser: both sides of the OAuth 2.0 authorization-code
 * grant (RFC 6749 §4.1, with PKCE, RFC 7636).
 *
 * - The IdP side, `interact()`: oidc-provider leaves login and consent pages to the application.
 *   Here they are JSON: `GET {INTERACTION_PATH}<uid>` says which prompt is pending; a form POST
 *   answers it (`login=<account id>`, no password: test accounts only; consent grants what the
 *   client asked for), and the IdP redirects back to its authorization endpoint.
 * - The user-agent side, `runAuthorizationCodeFlow()`: what a browser would do, with `fetch`,
 *   `redirect: 'manual'` and a cookie jar kept by hand.
 */

/** Where the IdP's interactions live: `<issuer>/openid/interaction/<uid>`. */
export const INTERACTION_PATH = '/openid/interaction/';

/** Account id → claims, as `LocalIdpOptions.accounts`. */
export type Accounts = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/** True for a request to an interaction page. */
export function isInteraction(req: IncomingMessage): boolean {
  return new URL(req.url ?? '/', 'http://x').pathname.startsWith(INTERACTION_PATH);
}

/** Serves one interaction request; answers 400 with `{ error }` when the interaction is unknown or expired. */
export function interact(provider: OidcProvider, req: IncomingMessage, res: ServerResponse, accounts: Accounts): void {
  handle().catch((err: unknown) => {
    if (!res.headersSent) sendJSON(res, 400, { error: 'interaction_failed', error_description: err instanceof Error ? err.message : String(err) });
  });

  async function handle(): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const { name } = details.prompt;
    if (req.method === 'GET') {
      return sendJSON(res, 200, { uid: details.uid, prompt: name, client_id: details.params.client_id, scope: details.params.scope });
    }
    const form = new URLSearchParams(await readBody(req));
    if (req.method !== 'POST' || (name !== 'login' && name !== 'consent')) {
      return sendJSON(res, 400, { error: 'unsupported_interaction', prompt: name });
    }
    if (name === 'login') {
      const accountId = form.get('login') ?? '';
      const result = Object.hasOwn(accounts, accountId)
        ? { login: { accountId } }
        : { error: 'access_denied', error_description: 'no such account at the local IdP' };
      return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
    }
    // Consent: grant exactly what the client asked for and the IdP found missing.
    const grant = new provider.Grant({ accountId: String(details.session?.accountId), clientId: String(details.params.client_id) });
    const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details;
    if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
    if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(indicator, scopes.join(' '));
    return provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
  }
}

/** What `runAuthorizationCodeFlow` needs to know. */
export interface AuthorizationCodeFlow {
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly client: { readonly clientId: string; readonly clientSecret: string; readonly redirectUri: string };
  readonly accountId: string;
  readonly scope: string;
}

/** `/auth`, login, consent and their redirects take 6 steps; more means a loop. */
const MAX_STEPS = 12;

/**
 * Signs `accountId` in at the IdP and exchanges the code for an access token, as a browser and
 * the client's back end would. Cookies (oidc-provider's interaction and session cookies) are
 * carried by hand; the redirect URI itself is never fetched, the code is read from the redirect.
 * @throws Error naming the step that failed
 */
export async function runAuthorizationCodeFlow(flow: AuthorizationCodeFlow): Promise<string> {
  const { client } = flow;
  const codeVerifier = randomBytes(32).toString('base64url');
  const state = randomBytes(16).toString('base64url');
  const start = new URL(flow.authorizationEndpoint);
  start.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: client.redirectUri,
    scope: flow.scope,
    state,
    code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();

  const browser = createCookieJarFetch();
  let next = start;
  for (let step = 0; !isRedirectURI(next, client.redirectUri); step++) {
    if (step === MAX_STEPS) throw new Error('local IdP: the authorization did not reach the redirect URI');
    let response: Response;
    if (next.pathname.startsWith(INTERACTION_PATH)) {
      const page = await browser(next);
      const { prompt } = (await page.json()) as { prompt?: unknown };
      response = await browser(next, new URLSearchParams(prompt === 'login' ? { login: flow.accountId } : { consent: 'granted' }));
    } else {
      response = await browser(next);
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status > 399 || location === null) {
      throw new Error(`local IdP: authorization stopped at ${next.pathname} with HTTP ${response.status} ${await response.text()}`.trim());
    }
    next = new URL(location, next);
  }

  const answer = next.searchParams;
  if (answer.get('state') !== state) throw new Error('local IdP: the authorization response carries another state');
  const code = answer.get('code');
  if (code === null) throw new Error(`local IdP: authorization failed: ${answer.get('error') ?? 'no code'} ${answer.get('error_description') ?? ''}`.trim());

  const response = await fetch(flow.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json', authorization: basic(client.clientId, client.clientSecret) },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: client.redirectUri, code_verifier: codeVerifier }),
  });
  const body = (await response.json().catch(() => ({}))) as { access_token?: unknown; error?: unknown };
  if (!response.ok || typeof body.access_token !== 'string') {
    throw new Error(`local IdP: code exchange failed with HTTP ${response.status} ${String(body.error ?? '')}`.trim());
  }
  return body.access_token;
}

/** A `fetch` that follows no redirect and keeps cookies across calls (by name; paths ignored). POSTs `form` when given. */
function createCookieJarFetch(): (url: URL, form?: URLSearchParams) => Promise<Response> {
  const jar = new Map<string, string>();
  return async (url, form) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    const response = await fetch(url, form === undefined ? { headers, redirect: 'manual' } : { method: 'POST', headers, body: form, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      // A cleared cookie comes back empty, with an expiry in the past.
      const expired = value === '' || attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute));
      if (expired) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
}

function isRedirectURI(url: URL, redirectUri: string): boolean {
  return `${url.origin}${url.pathname}` === redirectUri;
}

function basic(clientId: string, clientSecret: string): string {
  const encode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
