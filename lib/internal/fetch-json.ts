import { isPlainObject, MAX_JSON_DEPTH, parseJSONSafely } from './safe-json.js';

/** Options of `fetchJSON`: the deadline and byte cap are required, so every caller picks them. */
export interface FetchJSONOptions {
  /** Default `'GET'`. */
  method?: 'GET' | 'POST';
  /** Extra request headers; `Accept: application/json` is sent unless given here. */
  headers?: Record<string, string>;
  /** Request body, e.g. a form-encoded RFC 7662 introspection request. */
  body?: string;
  /** Total deadline in ms for connect, headers and body together (not an idle timeout). */
  timeoutMs: number;
  /** Largest accepted response body in bytes, enforced while streaming. */
  maxBytes: number;
}

/** A response that arrived within the deadline and the byte cap, whatever its status. */
export interface FetchJSONResponse {
  status: number;
  /** The parsed JSON body, or `undefined` when it was empty, not UTF-8, not JSON or nested deeper than `MAX_JSON_DEPTH`. */
  body: unknown;
  /** The `Retry-After` header in seconds (delta-seconds or HTTP-date), when present and valid. */
  retryAfterSec: number | undefined;
}

/**
 * Why a fetch failed; `status` is only thrown by `fetchJSONObject`. `request`: the request could
 * not even be built (a header value HTTP does not allow, e.g. a token with a line break), so
 * nothing was sent.
 */
export type FetchErrorKind = 'network' | 'timeout' | 'too_large' | 'redirect' | 'status' | 'invalid_json' | 'request';

/**
 * A failed fetch of a key source. Messages name the method and the URL without its query, and
 * never contain request headers (a client secret travels in `Authorization`) or bodies.
 */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  /** What went wrong: callers map it to their own errors (an outage, an invalid token, …). */
  readonly kind: FetchErrorKind;
  /** The HTTP status, for `redirect` and `status`. */
  readonly status?: number;
  /** The server's `Retry-After`, in seconds, when it sent one. */
  readonly retryAfterSec?: number;
  constructor(kind: FetchErrorKind, message: string, details: { status?: number; retryAfterSec?: number; cause?: unknown } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterSec !== undefined) this.retryAfterSec = details.retryAfterSec;
  }
}

/**
 * Fetches a URL and parses its JSON body, hardened for key sources: redirects are never followed
 * (a 3xx throws `redirect`), one deadline covers the whole exchange, the body is capped while it
 * streams and parsed with `parseJSONSafely` (at most `MAX_JSON_DEPTH` deep). Non-2xx statuses
 * are returned, not thrown, so a caller can read e.g. a userinfo 401 as "token invalid".
 * @throws FetchError `request`, `network`, `timeout`, `too_large` or `redirect`
 */
export async function fetchJSON(url: string | URL, options: FetchJSONOptions): Promise<FetchJSONResponse> {
  const method = options.method ?? 'GET';
  const { target, label, headers } = prepareRequest(url, method, options.headers);
  const controller = new AbortController();
  const deadline = setTimeout(() => controller.abort(), options.timeoutMs);
  deadline.unref();
  try {
    const response = await fetch(target, { method, headers, body: options.body, redirect: 'manual', signal: controller.signal });
    const retryAfterSec = parseRetryAfter(response.headers.get('retry-after'), Date.now());
    if (response.status >= 300 && response.status < 400) {
      response.body?.cancel().catch(() => undefined);
      throw new FetchError('redirect', `${label} answered HTTP ${response.status}; redirects are not followed`, { status: response.status });
    }
    const bytes = await readCapped(response, options.maxBytes, label);
    return { status: response.status, body: bytes.byteLength === 0 ? undefined : parseJSONSafely(bytes, MAX_JSON_DEPTH), retryAfterSec };
  } catch (err) {
    if (err instanceof FetchError) throw err;
    if (controller.signal.aborted) {
      throw new FetchError('timeout', `${label} did not complete within ${options.timeoutMs} ms`, { cause: err });
    }
    throw new FetchError('network', `${label} failed${networkCode(err)}`, { cause: err });
  } finally {
    clearTimeout(deadline);
  }
}

/**
 * `fetchJSON` for callers that accept only a 2xx JSON object.
 * @throws FetchError as `fetchJSON`, plus `status` for a non-2xx answer and `invalid_json` for a body that is not a JSON object
 */
export async function fetchJSONObject(url: string | URL, options: FetchJSONOptions): Promise<Record<string, unknown>> {
  const response = await fetchJSON(url, options);
  const label = describeRequest(options.method ?? 'GET', new URL(url));
  if (response.status < 200 || response.status >= 300) {
    const details = { status: response.status, ...(response.retryAfterSec !== undefined && { retryAfterSec: response.retryAfterSec }) };
    throw new FetchError('status', `${label} answered HTTP ${response.status}`, details);
  }
  if (!isPlainObject(response.body)) throw new FetchError('invalid_json', `${label} did not answer a JSON object`);
  return response.body;
}

/**
 * The URL and headers of a request, or a `FetchError` of kind `request`: a caller maps every
 * failure of `fetchJSON` from its `FetchError`, so none may escape as a bare `TypeError`.
 */
function prepareRequest(url: string | URL, method: string, extra: Record<string, string> | undefined): { target: URL; label: string; headers: Headers } {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new FetchError('request', `${method} request has no valid URL`);
  }
  const label = describeRequest(method, target);
  try {
    const headers = new Headers(extra);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    return { target, label, headers };
  } catch {
    // No cause: the TypeError quotes the offending value, which may be a token or a secret.
    throw new FetchError('request', `${label} was not sent: a request header value is not valid in HTTP`);
  }
}

/** `GET https://idp.example/jwks`: the URL without query or fragment, which may carry secrets. */
export function describeRequest(method: string, url: URL): string {
  return `${method} ${url.origin}${url.pathname}`;
}

async function readCapped(response: Response, maxBytes: number, label: string): Promise<Uint8Array> {
  const tooLarge = (): FetchError => new FetchError('too_large', `${label} answered more than ${maxBytes} bytes`);
  if (Number(response.headers.get('content-length')) > maxBytes) {
    response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (response.body === null) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Cancelling closes the connection: the rest of the body is never downloaded.
      reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/** RFC 9110 §10.2.3: delta-seconds or an HTTP-date; `undefined` for anything else. */
function parseRetryAfter(value: string | null, nowMs: number): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text);
  const atMs = Date.parse(text);
  return Number.isNaN(atMs) ? undefined : Math.max(0, Math.ceil((atMs - nowMs) / 1000));
}

function networkCode(err: unknown): string {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && /^[A-Z_]+$/.test(code) ? ` (${code})` : '';
}
