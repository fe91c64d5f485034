import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { FetchError, fetchJSON, fetchJSONObject } from '../lib/internal/fetch-json.js';
import { refusedUrl, startIdpServer } from './helpers/idp-server.js';
import { useIdpServer } from './helpers/use-idp-server.js';
import { jwksOf, sharedKey } from './helpers/keys.js';

const LIMITS = { timeoutMs: 2_000, maxBytes: 64 * 1024 };
const KEY = sharedKey('k1');

interface Received {
  method: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A one-off loopback server for answers the IdP helper does not make. */
async function serve(answer: RequestListener): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ method: req.method, headers: req.headers, body });
      answer(req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/endpoint`;
  return { url, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

async function failure(promise: Promise<unknown>): Promise<FetchError> {
  const err = await promise.then(() => undefined, (reason: unknown) => reason);
  expect(err).toBeInstanceOf(FetchError);
  return err as FetchError;
}

const idp = useIdpServer({ keys: [KEY] }, { per: 'test' });

describe('fetchJSON', () => {
  it('returns the status and parsed body of a JSON answer', async () => {
    const response = await fetchJSON(idp.jwksUri, LIMITS);
    expect(response).toEqual({ status: 200, body: jwksOf(KEY), retryAfterSec: undefined });
  });

  it('sends Accept: application/json', async () => {
    const echo = await serve((_req, res) => res.end('{}'));
    await fetchJSON(echo.url, LIMITS);
    await echo.close();
    expect(echo.received[0]?.headers.accept).toBe('application/json');
  });

  it('sends a POST with the given headers and body', async () => {
    const echo = await serve((_req, res) => res.end('{"active":true}'));
    const headers = { authorization: 'Basic Y2xpZW50OnNlY3JldA==', 'content-type': 'application/x-www-form-urlencoded' };
    const response = await fetchJSON(echo.url, { ...LIMITS, method: 'POST', headers, body: 'token=abc' });
    await echo.close();
    expect(response.body).toEqual({ active: true });
    expect(echo.received[0]).toMatchObject({ method: 'POST', headers, body: 'token=abc' });
  });

  it('returns a non-2xx status with its body instead of throwing', async () => {
    idp.setFault({ kind: 'status', status: 401 });
    expect(await fetchJSON(idp.jwksUri, LIMITS)).toEqual({ status: 401, body: { error: expect.any(String) }, retryAfterSec: undefined });
  });

  it.each([
    ['delta-seconds', () => '7', 7, 7],
    ['an HTTP date', () => new Date(Date.now() + 30_000).toUTCString(), 28, 31],
  ])('reads Retry-After given as %s', async (_label, value, min, max) => {
    idp.setFault({ kind: 'status', status: 429, retryAfter: value() });
    const { retryAfterSec } = await fetchJSON(idp.jwksUri, LIMITS);
    expect(retryAfterSec).toBeGreaterThanOrEqual(min);
    expect(retryAfterSec).toBeLessThanOrEqual(max);
  });

  it('ignores a malformed Retry-After', async () => {
    idp.setFault({ kind: 'status', status: 503, retryAfter: 'soon' });
    expect((await fetchJSON(idp.jwksUri, LIMITS)).retryAfterSec).toBeUndefined();
  });

  it('returns an undefined body for a non-JSON answer', async () => {
    idp.setFault({ kind: 'garbage' });
    expect(await fetchJSON(idp.jwksUri, LIMITS)).toMatchObject({ status: 200, body: undefined });
  });

  it.each([
    ['an empty body', Buffer.alloc(0)],
    ['a body that is not UTF-8', Buffer.from([0x22, 0xff, 0xfe, 0x22])],
  ])('returns an undefined body for %s', async (_label, bytes) => {
    const echo = await serve((_req, res) => res.end(bytes));
    const response = await fetchJSON(echo.url, LIMITS);
    await echo.close();
    expect(response).toMatchObject({ status: 200, body: undefined });
  });

  it('drops __proto__ members from the parsed body', async () => {
    const echo = await serve((_req, res) => res.end('{"__proto__":{"polluted":true},"keys":[]}'));
    const { body } = await fetchJSON(echo.url, LIMITS);
    await echo.close();
    expect(Object.keys(body as object)).toEqual(['keys']);
  });

  it('refuses a redirect without following it', async () => {
    const target = await startIdpServer({ keys: [KEY] });
    idp.setFault({ kind: 'redirect', location: target.jwksUri });
    const err = await failure(fetchJSON(idp.jwksUri, LIMITS));
    await target.close();
    expect(err).toMatchObject({ kind: 'redirect', status: 302 });
    expect(target.hits.total).toBe(0);
  });

  it('fails a refused connection as a network error', async () => {
    expect(await failure(fetchJSON(await refusedUrl(), LIMITS))).toMatchObject({ kind: 'network' });
  });

  it('fails a reset connection as a network error', async () => {
    idp.setFault({ kind: 'reset' });
    expect(await failure(fetchJSON(idp.jwksUri, LIMITS))).toMatchObject({ kind: 'network' });
  });

  it('fails a server that never answers at the deadline', async () => {
    idp.setFault({ kind: 'hang' });
    const started = Date.now();
    const err = await failure(fetchJSON(idp.jwksUri, { ...LIMITS, timeoutMs: 200 }));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(200 + 500);
  });

  it('fails a server that drips its body at the total deadline, not an idle one', async () => {
    idp.setFault({ kind: 'drip', bytesPerSecond: 20 }); // a byte every 50 ms: never idle for 300 ms
    const started = Date.now();
    const err = await failure(fetchJSON(idp.jwksUri, { ...LIMITS, timeoutMs: 300 }));
    expect(err.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(300 + 500);
  });

  it('refuses a body whose Content-Length is over the cap', async () => {
    idp.setJWKS({ keys: [], pad: 'x'.repeat(20_000) });
    expect(await failure(fetchJSON(idp.jwksUri, { ...LIMITS, maxBytes: 10_000 }))).toMatchObject({ kind: 'too_large' });
  });

  it('stops reading a streamed body as soon as it passes the cap', async () => {
    idp.setFault({ kind: 'huge', bytes: 1024 ** 3 }); // 1 GiB: buffering it first would take seconds
    const started = Date.now();
    const err = await failure(fetchJSON(idp.jwksUri, { ...LIMITS, maxBytes: 64 * 1024 }));
    expect(err.kind).toBe('too_large');
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('accepts a streamed body of exactly maxBytes', async () => {
    idp.setFault({ kind: 'huge', bytes: 5_000 });
    const { body } = await fetchJSON(idp.jwksUri, { ...LIMITS, maxBytes: 5_000 });
    expect(body).toMatchObject({ keys: jwksOf(KEY).keys });
  });

  it('refuses a streamed body one byte over maxBytes', async () => {
    idp.setFault({ kind: 'huge', bytes: 5_001 });
    expect(await failure(fetchJSON(idp.jwksUri, { ...LIMITS, maxBytes: 5_000 }))).toMatchObject({ kind: 'too_large' });
  });

  it.each([
    ['a line break', 'Bearer abc\ndef'],
    ['a NUL', 'Bearer a\u0000b'],
    ['a character beyond Latin-1', 'Bearer tok\u2028en'],
  ])('fails a header value with %s as a request error, sending nothing and quoting nothing', async (_label, value) => {
    const echo = await serve((_req, res) => res.end('{}'));
    const err = await failure(fetchJSON(echo.url, { ...LIMITS, headers: { authorization: value } }));
    await echo.close();
    expect(err.kind).toBe('request');
    expect(err.message).toContain('/endpoint');
    expect(err.message).not.toContain(value.slice(7));
    // The TypeError quotes the value, so it is not kept as the cause either.
    expect(err.cause).toBeUndefined();
    expect(echo.received).toEqual([]);
  });

  it.each([
    ['64 levels', 'parsed', 64],
    ['65 levels', 'undefined', 65],
    ['20 000 levels (40 KB)', 'undefined', 20_000],
  ])('reads an answer nested %s deep as %s', async (_label, expected, depth) => {
    const text = `{"active":true,"x":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    const echo = await serve((_req, res) => res.end(text));
    const { body } = await fetchJSON(echo.url, LIMITS);
    await echo.close();
    expect(body === undefined ? 'undefined' : 'parsed').toBe(expected);
  });

  it('keeps credentials, bodies and the query out of error messages', async () => {
    const secret = 'Basic c2VjcmV0LWNsaWVudDpzM2NyM3Q=';
    const options = { ...LIMITS, method: 'POST' as const, headers: { authorization: secret }, body: 'token=the-token' };
    const err = await failure(fetchJSON(`${await refusedUrl('/introspect')}?access_token=q-token`, options));
    expect(err.message).toContain('/introspect');
    for (const leak of [secret, 'c2VjcmV0', 'the-token', 'q-token']) expect(err.message).not.toContain(leak);
  });
});

describe('fetchJSONObject', () => {
  it('returns a 2xx JSON object', async () => {
    expect(await fetchJSONObject(idp.jwksUri, LIMITS)).toEqual(jwksOf(KEY));
  });

  it('throws status, carrying the status and Retry-After, for a non-2xx answer', async () => {
    idp.setFault({ kind: 'status', status: 503, retryAfter: '12' });
    expect(await failure(fetchJSONObject(idp.jwksUri, LIMITS))).toMatchObject({ kind: 'status', status: 503, retryAfterSec: 12 });
  });

  it.each([
    ['a JSON array', () => idp.setJWKS([jwksOf(KEY)])],
    ['JSON null', () => idp.setJWKS(null)],
    ['a non-JSON body', () => idp.setFault({ kind: 'garbage' })],
  ])('throws invalid_json for %s', async (_label, arrange) => {
    arrange();
    expect(await failure(fetchJSONObject(idp.jwksUri, LIMITS))).toMatchObject({ kind: 'invalid_json' });
  });
});
