import { InvalidTokenError, KeySourceError } from './errors.js';
import { fetchJSON, FetchError, type FetchJSONResponse } from './internal/fetch-json.js';
import { honouredRetryWindowMs } from './internal/retry-window.js';
import { isPlainObject } from './internal/safe-json.js';
import type { JWTPayload } from './types.js';

/** How this API authenticates to the introspection endpoint (RFC 7662 §2.1, RFC 6749 §2.3.1). */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post';

/** This API's own client credentials and endpoint, fully defaulted. */
export interface IntrospectionClient {
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: ClientAuthMethod;
}

/** An HTTP request, ready for `fetchJSON`. */
export interface IntrospectionRequest {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Builds the RFC 7662 §2.1 request: a form-encoded POST of `token` and
 * `token_type_hint=access_token`, authenticated with HTTP Basic (the default, RFC 6749 §2.3.1:
 * id and secret form-encoded first) or with `client_id`/`client_secret` in the body.
 */
export function buildIntrospectionRequest(token: string, client: IntrospectionClient): IntrospectionRequest {
  const form = new URLSearchParams({ token, token_type_hint: 'access_token' });
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (client.authMethod === 'client_secret_post') {
    form.set('client_id', client.clientId);
    form.set('client_secret', client.clientSecret);
  } else {
    const credentials = `${formEncode(client.clientId)}:${formEncode(client.clientSecret)}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return { headers, body: form.toString() };
}

/**
 * Reads an introspection answer. Only a 200 with a JSON object whose `active` is the boolean
 * `true` accepts the token (RFC 7662 §2.2); `active: false` (or any non-`true` value) rejects
 * it. Anything else is the endpoint's failure, not the token's: 503.
 * @throws InvalidTokenError `token_inactive`; KeySourceError for 401/403 (our credentials), 5xx, non-JSON
 */
export function parseIntrospectionResponse(response: FetchJSONResponse, retryAfterSec: number): JWTPayload {
  if (response.status === 401 || response.status === 403) {
    // The IdP refused *our* client credentials: the caller's token was never judged.
    const failure = statusFailure('Introspection endpoint', response, retryAfterSec);
    throw new KeySourceError(`Introspection endpoint refused this API's client credentials (HTTP ${response.status})`, failure.retryAfterSec, { cause: failure.cause });
  }
  if (response.status !== 200) throw statusFailure('Introspection endpoint', response, retryAfterSec);
  if (!isPlainObject(response.body)) {
    throw new KeySourceError('Introspection endpoint did not answer a JSON object', retryAfterSec);
  }
  if (response.body.active !== true) throw new InvalidTokenError('token_inactive', 'Token is not active');
  return response.body as JWTPayload;
}

/** Fetch limits shared by introspection and userinfo calls. */
export interface EndpointLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Seconds a 503 tells the client to wait. */
  readonly retryAfterSec: number;
}

/**
 * Asks the introspection endpoint about a token. The client secret travels only in the
 * `Authorization` header or the body, never in an error message.
 * @throws InvalidTokenError when the token is not active; KeySourceError when the endpoint fails
 */
export async function introspect(token: string, client: IntrospectionClient, limits: EndpointLimits): Promise<JWTPayload> {
  const request = buildIntrospectionRequest(token, client);
  let response: FetchJSONResponse;
  try {
    response = await fetchJSON(client.endpoint, { method: 'POST', ...request, timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes });
  } catch (err) {
    throw new KeySourceError(`Introspection endpoint is unavailable: ${describeFetchFailure(err)}`, limits.retryAfterSec, { cause: err });
  }
  return parseIntrospectionResponse(response, limits.retryAfterSec);
}

/**
 * The outage an error status means. Its `Retry-After`, when the endpoint sent one, is passed on
 * if longer than ours, capped at 5 minutes (a day's `Retry-After` must not reach callers), and
 * kept on the cause, a `FetchError` of kind `status`, for whoever decides when to ask again.
 */
export function statusFailure(label: string, response: FetchJSONResponse, retryAfterSec: number): KeySourceError {
  const asked = response.retryAfterSec === undefined ? {} : { retryAfterSec: response.retryAfterSec };
  const cause = new FetchError('status', `${label} answered HTTP ${response.status}`, { status: response.status, ...asked });
  return new KeySourceError(cause.message, honouredRetryWindowMs(cause, retryAfterSec * 1000) / 1000, { cause });
}

/** True for the outage of an introspection endpoint that refused this API's own client credentials. */
export function refusedOurCredentials(failure: KeySourceError): boolean {
  const { cause } = failure;
  return cause instanceof FetchError && cause.kind === 'status' && (cause.status === 401 || cause.status === 403);
}

/** The message of a fetch failure (which never holds secrets), or a generic one. */
export function describeFetchFailure(err: unknown): string {
  return err instanceof FetchError ? err.message : 'the request failed';
}

// RFC 6749 §2.3.1: client id and secret are application/x-www-form-urlencoded before Basic.
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}
