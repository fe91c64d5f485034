import { once } from 'node:events';
import { createServer, IncomingMessage, request as httpRequest, type Server } from 'node:http';
import { connect, Socket, type AddressInfo } from 'node:net';
import type { RequestHandler } from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { InvalidRequestError, UnauthorizedError } from '../lib/errors.js';
import { extractBearerToken, type TokenLocationOptions, type TokenRequest } from '../lib/extract-token.js';
import { createApp, EXPRESS_VERSIONS } from './helpers/app.js';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl';
const OTHER = 'opaque-token-2';
const FORM = 'application/x-www-form-urlencoded';

interface FakeInit {
  /** Header lines in wire order; a repeated name is kept in rawHeaders, first value wins in headers (as Node does). */
  headers?: [string, string][];
  url?: string;
  originalUrl?: string;
  method?: string;
  body?: unknown;
}

function fakeRequest({ headers = [], url = '/me', originalUrl, method = 'GET', body }: FakeInit = {}): TokenRequest {
  const req: TokenRequest = new IncomingMessage(new Socket());
  req.method = method;
  req.url = url;
  if (originalUrl !== undefined) req.originalUrl = originalUrl;
  if (body !== undefined) req.body = body;
  for (const [name, value] of headers) {
    req.rawHeaders.push(name, value);
    req.headers[name.toLowerCase()] ??= value;
  }
  return req;
}

function withAuthorization(value: string, init: FakeInit = {}): TokenRequest {
  return fakeRequest({ ...init, headers: [['Authorization', value], ...(init.headers ?? [])] });
}

function formPost(body: unknown, init: FakeInit = {}): TokenRequest {
  return fakeRequest({ method: 'POST', body, ...init, headers: [['Content-Type', FORM], ...(init.headers ?? [])] });
}

function errorOf(req: TokenRequest, options?: TokenLocationOptions): InvalidRequestError {
  try {
    extractBearerToken(req, options);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidRequestError);
    return err as InvalidRequestError;
  }
  throw new Error('extractBearerToken did not throw');
}

describe('extractBearerToken: Authorization header', () => {
  it('returns the token of an `Authorization: Bearer` header', () => {
    expect(extractBearerToken(withAuthorization(`Bearer ${TOKEN}`))).toBe(TOKEN);
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('accepts the scheme spelled %s', (scheme) => {
    expect(extractBearerToken(withAuthorization(`${scheme} ${TOKEN}`))).toBe(TOKEN);
  });

  it('accepts several spaces between scheme and token', () => {
    expect(extractBearerToken(withAuthorization(`Bearer    ${TOKEN}`))).toBe(TOKEN);
  });

  it.each([
    ['a single character', 'a'],
    ['every b64token punctuation character', 'a-b.c_d~e+f/g'],
    ['trailing padding', 'YWJj=='],
    ['an opaque random string', 'Zm9v~bar_BAZ.123'],
  ])('returns a token made of %s unchanged', (_label, token) => {
    expect(extractBearerToken(withAuthorization(`Bearer ${token}`))).toBe(token);
  });

  it('returns undefined when the request has no Authorization header', () => {
    expect(extractBearerToken(fakeRequest())).toBeUndefined();
  });

  it.each([
    ['Basic', 'Basic dXNlcjpwYXNz'],
    ['Digest', 'Digest username="a", realm="b"'],
    ['DPoP', `DPoP ${TOKEN}`],
    ['a scheme that merely starts with Bearer', `Bearerish ${TOKEN}`],
    ['a bare scheme name', 'Negotiate'],
  ])('returns undefined for the %s scheme', (_label, value) => {
    expect(extractBearerToken(withAuthorization(value))).toBeUndefined();
  });

  it.each([
    ['the Bearer scheme with empty credentials', 'Bearer'],
    ['the Bearer scheme followed by spaces only', 'Bearer   '],
    ['a tab between scheme and token', `Bearer\t${TOKEN}`],
    ['a token followed by another word', `Bearer ${TOKEN} extra`],
    ['a token followed by a comma', `Bearer ${TOKEN},`],
    ['a quoted token', `Bearer "${TOKEN}"`],
    ['padding inside the token', 'Bearer YW=Jj'],
    ['a token of padding only', 'Bearer =='],
    ['a percent sign in the token', 'Bearer abc%20def'],
    ['a non-ASCII token', 'Bearer t\u00f6ken'],
    ['an empty header', ''],
    ['a header that starts with a space', ` Bearer ${TOKEN}`],
  ])('rejects %s as authorization_malformed', (_label, value) => {
    const err = errorOf(withAuthorization(value));
    expect(err.status).toBe(400);
    expect(err.code).toBe('invalid_request');
    expect(err.reason).toBe('authorization_malformed');
  });

  it.each([
    ['the same spelling', 'Authorization', 'Authorization'],
    ['different letter cases', 'Authorization', 'AUTHORIZATION'],
  ])('rejects two Authorization headers with %s as authorization_duplicated', (_label, first, second) => {
    const req = fakeRequest({ headers: [[first, `Bearer ${TOKEN}`], [second, `Bearer ${OTHER}`]] });
    expect(errorOf(req).reason).toBe('authorization_duplicated');
  });

  it('does not count Proxy-Authorization as a second Authorization header', () => {
    const req = withAuthorization(`Bearer ${TOKEN}`, { headers: [['Proxy-Authorization', 'Basic dXNlcjpwYXNz']] });
    expect(extractBearerToken(req)).toBe(TOKEN);
  });
});

describe('extractBearerToken: query parameter', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('returns the `access_token` query parameter when query is enabled', () => {
    expect(extractBearerToken(fakeRequest({ url: `/me?a=1&access_token=${TOKEN}` }), { query: true })).toBe(TOKEN);
  });

  it('reads the raw originalUrl rather than the rewritten url', () => {
    const req = fakeRequest({ url: '/me', originalUrl: `/api/me?access_token=${TOKEN}` });
    expect(extractBearerToken(req, { query: true })).toBe(TOKEN);
  });

  it('form-decodes the parameter value', () => {
    expect(extractBearerToken(fakeRequest({ url: '/me?access_token=a%2Bb%2Fc' }), { query: true })).toBe('a+b/c');
  });

  it('recognises a percent-encoded parameter name', () => {
    expect(extractBearerToken(fakeRequest({ url: `/me?access%5Ftoken=${TOKEN}` }), { query: true })).toBe(TOKEN);
  });

  it.each([
    ['another parameter', '/me?page=2'],
    ['`access_token` inside another value', '/me?next=%2Fcb%3Faccess_token'],
    ['a longer parameter name', `/me?my_access_token=${TOKEN}`],
    ['`access_token` in the fragment', `/me?page=2#&access_token=${TOKEN}`],
    ['no query string', '/me'],
  ])('returns undefined for a URL with %s', (_label, url) => {
    expect(extractBearerToken(fakeRequest({ url }), { query: true })).toBeUndefined();
  });

  it('rejects a query token while query is disabled as transport_not_allowed', () => {
    expect(errorOf(fakeRequest({ url: `/me?access_token=${TOKEN}` })).reason).toBe('transport_not_allowed');
  });

  it('rejects a percent-encoded parameter name while query is disabled as transport_not_allowed', () => {
    expect(errorOf(fakeRequest({ url: `/me?access%5ftoken=${TOKEN}` })).reason).toBe('transport_not_allowed');
  });

  it('rejects a repeated `access_token` parameter as parameter_repeated', () => {
    const req = fakeRequest({ url: `/me?access_token=${TOKEN}&access_token=${OTHER}` });
    expect(errorOf(req, { query: true }).reason).toBe('parameter_repeated');
  });

  it.each([
    ['an empty value', '/me?access_token='],
    ['a value with a space', '/me?access_token=a+b'],
    ['a value with a quote', '/me?access_token=%22abc%22'],
  ])('rejects %s as authorization_malformed', (_label, url) => {
    expect(errorOf(fakeRequest({ url }), { query: true }).reason).toBe('authorization_malformed');
  });

  it('rejects a header token together with a query token as token_in_multiple_places', () => {
    const req = withAuthorization(`Bearer ${TOKEN}`, { url: `/me?access_token=${OTHER}` });
    expect(errorOf(req, { query: true }).reason).toBe('token_in_multiple_places');
  });

  it('does not parse the query string when it cannot hold `access_token`', () => {
    const parse = vi.spyOn(globalThis, 'URLSearchParams');
    expect(extractBearerToken(withAuthorization(`Bearer ${TOKEN}`, { url: '/me?page=2&sort=asc' }), { query: true })).toBe(TOKEN);
    expect(parse).not.toHaveBeenCalled();
  });
});

describe('extractBearerToken: form body', () => {
  it('returns a form-encoded `access_token` field when body is enabled', () => {
    expect(extractBearerToken(formPost({ access_token: TOKEN }), { body: true })).toBe(TOKEN);
  });

  it('accepts a form content type with parameters and other letter cases', () => {
    const req = fakeRequest({ method: 'PUT', body: { access_token: TOKEN }, headers: [['Content-Type', 'Application/X-WWW-Form-URLEncoded; charset=utf-8']] });
    expect(extractBearerToken(req, { body: true })).toBe(TOKEN);
  });

  it.each([
    ['a JSON body', fakeRequest({ method: 'POST', body: { access_token: TOKEN }, headers: [['Content-Type', 'application/json']] })],
    ['a body without content type', fakeRequest({ method: 'POST', body: { access_token: TOKEN } })],
    ['a GET request', formPost({ access_token: TOKEN }, { method: 'GET' })],
    ['a HEAD request', formPost({ access_token: TOKEN }, { method: 'HEAD' })],
    ['an inherited field', formPost(Object.create({ access_token: TOKEN }))],
    ['a body without the field', formPost({ name: 'x' })],
  ])('ignores %s', (_label, req) => {
    expect(extractBearerToken(req, { body: true })).toBeUndefined();
    expect(extractBearerToken(req)).toBeUndefined();
  });

  it('rejects a body token while body is disabled as transport_not_allowed', () => {
    expect(errorOf(formPost({ access_token: TOKEN })).reason).toBe('transport_not_allowed');
  });

  it('rejects a repeated body field as parameter_repeated', () => {
    expect(errorOf(formPost({ access_token: [TOKEN, OTHER] }), { body: true }).reason).toBe('parameter_repeated');
  });

  it.each([
    ['a nested object', { access_token: { a: TOKEN } }],
    ['an empty string', { access_token: '' }],
    ['a value with a space', { access_token: 'a b' }],
  ])('rejects a body field holding %s as authorization_malformed', (_label, body) => {
    expect(errorOf(formPost(body), { body: true }).reason).toBe('authorization_malformed');
  });

  it.each([
    ['header and body', withAuthorization(`Bearer ${TOKEN}`, { method: 'POST', body: { access_token: OTHER }, headers: [['Content-Type', FORM]] })],
    ['query and body', formPost({ access_token: OTHER }, { url: `/me?access_token=${TOKEN}` })],
    ['header, query and body', withAuthorization(`Bearer ${TOKEN}`, { method: 'POST', url: `/me?access_token=${TOKEN}`, body: { access_token: OTHER }, headers: [['Content-Type', FORM]] })],
  ])('rejects a token in %s as token_in_multiple_places', (_label, req) => {
    expect(errorOf(req, { query: true, body: true }).reason).toBe('token_in_multiple_places');
  });
});

describe('extractBearerToken: messages', () => {
  const SECRET = 'SECRETsecret123';
  it.each([
    ['a malformed header', withAuthorization(`Bearer ${SECRET} ${SECRET}`), {}],
    ['duplicate headers', fakeRequest({ headers: [['Authorization', `Bearer ${SECRET}`], ['authorization', `Bearer ${SECRET}`]] }), {}],
    ['a disallowed query token', fakeRequest({ url: `/me?access_token=${SECRET}` }), {}],
    ['a repeated query token', fakeRequest({ url: `/me?access_token=${SECRET}&access_token=${SECRET}` }), { query: true }],
    ['a malformed query token', fakeRequest({ url: `/me?access_token=${SECRET}%20` }), { query: true }],
    ['a disallowed body token', formPost({ access_token: SECRET }), {}],
    ['a token in two places', withAuthorization(`Bearer ${SECRET}`, { url: `/me?access_token=${SECRET}` }), { query: true }],
  ])('keeps the token out of the error for %s', (_label, req, options) => {
    const err = errorOf(req, options);
    expect(err.message).not.toContain(SECRET);
    expect(JSON.stringify(err.headers)).not.toContain(SECRET);
  });
});

/** Test-local stand-in for verifyToken: extraction only, the token echoed back as the payload. */
function extractGuard(options?: TokenLocationOptions): RequestHandler {
  return function extractGuardMiddleware(req, _res, next) {
    let token: string | undefined;
    try {
      token = extractBearerToken(req, options);
    } catch (err) {
      return next(err);
    }
    if (token === undefined) return next(new UnauthorizedError());
    req.auth = { token, header: undefined, payload: { token }, source: 'jwt' };
    next();
  };
}

describe.each(EXPRESS_VERSIONS)('extractBearerToken over HTTP (%s)', (_name, express) => {
  const app = (options?: TokenLocationOptions) => createApp([extractGuard(options)], { express });

  it('passes a header token through', async () => {
    const res = await request(app()).get('/me').set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.payload.token).toBe(TOKEN);
  });

  it('answers 401 without an error code for a Basic header', async () => {
    const res = await request(app()).get('/me').set('Authorization', 'Basic dXNlcjpwYXNz');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
    expect(res.headers['www-authenticate']).not.toContain('error=');
  });

  it('answers 400 invalid_request for the Bearer scheme with empty credentials', async () => {
    const res = await request(app()).get('/me').set('Authorization', 'Bearer ');
    expect(res.status).toBe(400);
    expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    expect(res.body.reason).toBe('authorization_malformed');
  });

  it('passes a query token through when query is enabled', async () => {
    const res = await request(app({ query: true })).get(`/me?access_token=${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.body.payload.token).toBe(TOKEN);
  });

  it('reads the query token with the app query parser turned off', async () => {
    const plain = express();
    plain.set('query parser', false);
    plain.get('/me', extractGuard({ query: true }), (req, res) => {
      res.json({ token: req.auth?.token });
    });
    const res = await request(plain).get(`/me?access_token=${TOKEN}`);
    expect(res.body.token).toBe(TOKEN);
  });

  it.each([
    ['a query token while query is off', `/me?access_token=${TOKEN}`, {}, 'transport_not_allowed'],
    ['a repeated query token', `/me?access_token=${TOKEN}&access_token=${OTHER}`, { query: true }, 'parameter_repeated'],
  ])('answers 400 for %s', async (_label, url, options, reason) => {
    const res = await request(app(options)).get(url);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe(reason);
  });

  it('answers 400 token_in_multiple_places for a header and a query token', async () => {
    const res = await request(app({ query: true })).get(`/me?access_token=${TOKEN}`).set('Authorization', `Bearer ${TOKEN}`);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('token_in_multiple_places');
  });

  it('passes a form body token through when body is enabled', async () => {
    const res = await request(app({ body: true })).post('/me').type('form').send({ access_token: TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.payload.token).toBe(TOKEN);
  });

  it.each([
    ['a body token while body is off', `access_token=${TOKEN}`, {}, 'transport_not_allowed'],
    ['a repeated body token', `access_token=${TOKEN}&access_token=${OTHER}`, { body: true }, 'parameter_repeated'],
  ])('answers 400 for %s', async (_label, form, options, reason) => {
    const res = await request(app(options)).post('/me').type('form').send(form);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe(reason);
  });

  it.each([
    ['a header and a body token', '/me', true],
    ['a query and a body token', `/me?access_token=${TOKEN}`, false],
  ])('answers 400 token_in_multiple_places for %s', async (_label, url, withHeader) => {
    const req = request(app({ query: true, body: true })).post(url).type('form').send({ access_token: OTHER });
    const res = await (withHeader ? req.set('Authorization', `Bearer ${TOKEN}`) : req);
    expect(res.status).toBe(400);
    expect(res.body.reason).toBe('token_in_multiple_places');
  });

  describe('over a real socket', () => {
    let server: Server;
    let port: number;

    beforeAll(async () => {
      server = createServer(app());
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      port = (server.address() as AddressInfo).port;
    });

    afterAll(async () => {
      server.close();
      await once(server, 'close');
    });

    it('answers 400 authorization_duplicated for two Authorization headers', async () => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/me' });
      req.setHeader('Authorization', [`Bearer ${TOKEN}`, `Bearer ${OTHER}`]);
      req.end();
      const [res] = (await once(req, 'response')) as [IncomingMessage];
      let body = '';
      for await (const chunk of res) body += String(chunk);
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(body).reason).toBe('authorization_duplicated');
    });

    it('answers 400 authorization_duplicated for two Authorization headers of different case', async () => {
      const response = await rawRequest(port, [`Authorization: Bearer ${TOKEN}`, `AUTHORIZATION: Bearer ${TOKEN}`]);
      expect(response).toMatch(/^HTTP\/1\.1 400 /);
      expect(response).toContain('"reason":"authorization_duplicated"');
    });

    it('passes a single Authorization header sent over a raw socket', async () => {
      const response = await rawRequest(port, [`authorization: Bearer ${TOKEN}`]);
      expect(response).toMatch(/^HTTP\/1\.1 200 /);
    });
  });
});

/** Sends a hand-written GET /me, so header names and repetitions reach the server exactly as written. */
async function rawRequest(port: number, headerLines: string[]): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end(['GET /me HTTP/1.1', 'Host: 127.0.0.1', 'Connection: close', ...headerLines, '', ''].join('\r\n'));
  let response = '';
  for await (const chunk of socket) response += String(chunk);
  return response;
}
