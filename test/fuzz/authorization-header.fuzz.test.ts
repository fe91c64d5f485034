import type { Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import fc from 'fast-check';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requireScopes, verifyToken } from '../../lib/index.js';
import { createApp, EXPRESS_VERSIONS } from '../helpers/app.js';
import { startFaultyServer, type FaultyServer } from '../helpers/faulty-server.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/tokens.js';
import { anyTokenCase, compact, createFuzzReport, fcParams, JWKS_DOCUMENT, POLICY, record, RS, VALID_TOKENS } from './support.js';

// The HTTP properties: arbitrary strings and bytes as the Authorization header, and every kind
// of mutated token as a Bearer credential, through a real Express app (both majors, both kinds
// of error handler, requireScopes) backed by a loopback JWKS. Nothing a client sends may produce
// a 5xx, and only a corpus token (or one the oracle accepts) may produce a 200.

const report = createFuzzReport('authorization-header');
let jwks: FaultyServer<'jwks'>;
const servers: Server[] = [];

/** RFC 6750 §2.1 b64token: what a Bearer credential may contain at all. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
  jwks = await startFaultyServer({ jwks: { path: '/fuzz-http/jwks', document: () => JWKS_DOCUMENT } });
});
afterAll(async () => {
  report.finish();
  vi.useRealTimers();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await jwks.close();
});

/** An app listening on a loopback port for the whole file (supertest then reuses it). */
async function listeningApp(options: Parameters<typeof createApp>[1] = {}, scopes: string[] = []): Promise<Server> {
  const guard = verifyToken({ ...POLICY, jwksUri: jwks.urlOf('jwks'), allowHttpLoopback: true });
  const app = createApp(scopes.length === 0 ? [guard] : [guard, requireScopes(...scopes)], options);
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  return server;
}

/** Sends raw bytes as the Authorization header value over a plain socket; resolves to the status (0 if none). */
function rawStatus(server: Server, value: Uint8Array): Promise<number> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const done = (status: number): void => {
      socket.destroy();
      resolve(status);
    };
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(received);
      if (match) done(Number(match[1]));
    });
    socket.on('error', () => done(0));
    socket.on('close', () => done(0));
    socket.write(Buffer.concat([Buffer.from('GET /me HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: '), value, Buffer.from('\r\nConnection: close\r\n\r\n')]));
  });
}

/** Characters Node lets a client put in a header value: HTAB, visible ASCII, SP and obs-text. */
const headerChar = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 1, arbitrary: fc.constant(0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
).map((code) => String.fromCharCode(code));

const SCHEMES = ['Bearer', 'bearer', 'BEARER', 'bEaReR', 'Bearer\t', 'Bearerx', 'Basic', 'Digest', 'DPoP', 'Token', 'B', '', '"Bearer"', 'Bearer,'];
const SEPARATORS = [' ', '  ', '\t', ' \t', '', ',', '=', ' , '];

describe.each(EXPRESS_VERSIONS)('verifyToken on %s under arbitrary Authorization headers', (_name, express) => {
  let app: Server;
  let defaultHandlerApp: Server;
  let scopedApp: Server;
  beforeAll(async () => {
    app = await listeningApp({ express });
    defaultHandlerApp = await listeningApp({ express, errorHandler: false });
    scopedApp = await listeningApp({ express }, ['read']);
  });

  it('answers any header value Node can send with 400 or 401 and a Bearer challenge, 200 only for a valid credential', async () => {
    const stats = report.property(`header strings (${_name})`);
    const value = fc.oneof(
      fc.string({ unit: headerChar, maxLength: 200 }),
      fc.tuple(fc.constantFrom(...SCHEMES), fc.constantFrom(...SEPARATORS), fc.oneof(fc.constantFrom(...VALID_TOKENS), fc.string({ unit: headerChar, maxLength: 120 })))
        .map(([scheme, separator, credential]) => `${scheme}${separator}${credential}`),
    );
    await fc.assert(fc.asyncProperty(value, async (header) => {
      report.tick();
      const res = await request(app).get('/me').set('Authorization', header);
      // Node trims the header value's surrounding whitespace before the app sees it.
      const match = /^bearer +(\S+)$/i.exec(header.trim());
      const valid = match !== null && VALID_TOKENS.includes(match[1]!);
      const challenge = String(res.headers['www-authenticate'] ?? '');
      record(stats, res.status === 200 ? 'accepted' : res.status >= 500 ? 'server_error' : 'rejected', valid);
      if (valid) return res.status === 200;
      if (res.status === 400) return challenge.startsWith('Bearer realm="api", error="invalid_request"');
      return res.status === 401 && challenge.startsWith('Bearer realm="api"');
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
  });

  it('answers arbitrary bytes as the header value, CR and LF included, with a 4xx', async () => {
    const stats = report.property(`header bytes (${_name})`);
    await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      report.tick();
      const status = await rawStatus(app, bytes);
      record(stats, status >= 500 || status === 0 ? 'server_error' : 'rejected', false);
      return status >= 400 && status < 500;
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
  });

  it.each([
    ['an app error handler', () => app],
    ["Express's default error handler", () => defaultHandlerApp],
  ])('answers mutated tokens with 401 (400 when no b64token) and only valid ones with 200, through %s', async (handler, server) => {
    const stats = report.property(`mutated tokens (${_name}, ${handler})`);
    await fc.assert(fc.asyncProperty(anyTokenCase(true), async ({ token, shouldAccept }) => {
      report.tick();
      const res = await request(server()).get('/me').set('Authorization', `Bearer ${token}`);
      const right = record(stats, res.status === 200 ? 'accepted' : res.status >= 500 ? 'server_error' : 'rejected', shouldAccept);
      if (!right) return false;
      if (res.status === 400) return !B64TOKEN.test(token);
      return res.status === 200 || res.status === 401;
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
    expect(stats).toMatchObject({ acceptedForged: 0, serverErrors: 0 });
  });

  it('answers scope, scp and permissions claims of every JSON type with 200 or 403 behind requireScopes, never 5xx', async () => {
    const stats = report.property(`scope claims (${_name})`);
    const scopeValue = fc.option(fc.oneof(
      fc.constantFrom<unknown>('read', 'read write', 'write read', ' read ', 'read\twrite', 'READ', 'readwrite', 'read:all', '', ['read'], ['write', 'read'], ['read write'], [1, 'read'], [null], {}, 1, true),
      fc.jsonValue({ maxDepth: 2 }),
    ), { nil: undefined });
    await fc.assert(fc.asyncProperty(fc.record({ scope: scopeValue, scp: scopeValue, permissions: scopeValue }), async (claims) => {
      report.tick();
      const token = compact({ alg: 'RS256', kid: 'k1' }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: NOW, exp: NOW + 300, ...claims }, { key: RS, alg: 'RS256' });
      const res = await request(scopedApp).get('/me').set('Authorization', `Bearer ${token}`);
      // The documented rule: `read` is a whitespace-separated word of scope (or of scp as a string), or an element of scp or permissions arrays.
      const decoded = JSON.parse(JSON.stringify(claims)) as Record<string, unknown>;
      const words = (value: unknown) => (typeof value === 'string' ? value.split(/\s+/) : []);
      const elements = (value: unknown) => (Array.isArray(value) ? value : []);
      const granted = [...words(decoded.scope), ...words(decoded.scp), ...elements(decoded.scp), ...elements(decoded.permissions)].includes('read');
      record(stats, res.status === 200 ? 'accepted' : res.status >= 500 ? 'server_error' : 'rejected', granted);
      return res.status === (granted ? 200 : 403);
    }), fcParams('http'));
    await report.expectNoUnhandledRejection();
  });
});
