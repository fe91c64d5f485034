import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { requireScopes, verifyToken, type VerifyTokenOptions } from '../lib/index.js';
import { createApp, EXPRESS_VERSIONS } from './helpers/app.js';
import { startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { makeKey, sharedKey } from './helpers/keys.js';
import { NOW, signToken, TEST_AUDIENCE, TEST_ISSUER, unsignedToken } from './helpers/tokens.js';

const KEY = sharedKey('k1');
const WEAK = makeKey('weak', 'RS256', { modulusLength: 1024 });
const PS_KEY_AS_RS = sharedKey('k1-ps', 'RS256'); // its JWK says alg RS256
const ROGUE = sharedKey('rogue');

let idp: IdpServer;
let jku: IdpServer;

beforeAll(async () => {
  idp = await startIdpServer({ keys: [KEY, WEAK, PS_KEY_AS_RS] });
  jku = await startIdpServer({ keys: [ROGUE] });
});
afterAll(async () => {
  await idp.close();
  await jku.close();
});

function guard(options: Partial<VerifyTokenOptions> = {}) {
  return verifyToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true, ...options });
}

function bearer(token: string): [string, string] {
  return ['Authorization', `Bearer ${token}`];
}

/** Sends two Authorization headers, which supertest cannot do. */
function getWithTwoAuthorizationHeaders(app: ReturnType<typeof createApp>, token: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  const server = app.listen(0, '127.0.0.1');
  return new Promise((resolve, reject) => {
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      const req = httpRequest({ host: '127.0.0.1', port, path: '/me', headers: { authorization: [`Bearer ${token}`, `Bearer ${token}`] as unknown as string } }, (res) => {
        res.resume();
        res.on('end', () => server.close(() => resolve({ status: res.statusCode ?? 0, headers: res.headers })));
      });
      req.on('error', reject);
      req.end();
    });
  });
}

describe.each(EXPRESS_VERSIONS)('verifyToken on %s', (_name, express) => {
  describe.each([
    ['an app error handler', true],
    ["Express's default error handler", false],
  ])('answered by %s', (_handler, errorHandler) => {
    const app = (guards = [guard()]) => createApp(guards, { express, errorHandler });

    it('sets req.auth and continues for a valid token', async () => {
      const token = signToken(KEY, { scope: 'read' });
      const res = await request(app()).get('/me').set(...bearer(token));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ authenticated: true, source: 'jwt', header: { alg: 'RS256', kid: 'k1' }, payload: { sub: 'user-1', scope: 'read' } });
    });

    it('answers a request without credentials with 401 and a bare challenge', async () => {
      const res = await request(app()).get('/me');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('answers another scheme like no credentials', async () => {
      const res = await request(app()).get('/me').set('Authorization', 'Basic dXNlcjpwYXNz');
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    });

    it('answers empty Bearer credentials with 400 invalid_request', async () => {
      const res = await request(app()).get('/me').set('Authorization', 'Bearer ');
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });

    it('answers two Authorization headers with 400 invalid_request', async () => {
      const res = await getWithTwoAuthorizationHeaders(app(), signToken(KEY));
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });

    it('answers a query token while query tokens are off with 400', async () => {
      const res = await request(app()).get(`/me?access_token=${signToken(KEY)}`);
      expect(res.status).toBe(400);
      expect(res.headers['www-authenticate']).toContain('error="invalid_request"');
    });

    it('answers a token sent by header and query with 400', async () => {
      const token = signToken(KEY);
      const res = await request(app([guard({ allowQueryToken: true })])).get(`/me?access_token=${token}`).set(...bearer(token));
      expect(res.status).toBe(400);
    });

    it('answers a repeated access_token parameter with 400', async () => {
      const token = signToken(KEY);
      const res = await request(app([guard({ allowQueryToken: true })])).get(`/me?access_token=${token}&access_token=${token}`);
      expect(res.status).toBe(400);
    });

    it.each([
      ['an expired', { exp: NOW - 60 }],
      ['a wrong-audience', { aud: 'https://other.test' }],
      ['a future', { nbf: NOW + 600 }],
    ])('answers %s token with 401 invalid_token', async (_label, claims) => {
      const res = await request(app()).get('/me').set(...bearer(signToken(KEY, claims)));
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/);
    });

    it('answers a valid token without the required scope with 403 insufficient_scope', async () => {
      const res = await request(app([guard(), requireScopes('write')])).get('/me').set(...bearer(signToken(KEY, { scope: 'read' })));
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="write"');
    });

    it('answers 503 with Retry-After and no challenge when the key source is down and nothing is cached', async () => {
      const down = await startIdpServer({ keys: [KEY] });
      down.setFault({ kind: 'status', status: 500 });
      try {
        const res = await request(app([guard({ jwksUri: down.jwksUri })])).get('/me').set(...bearer(signToken(KEY)));
        expect(res.status).toBe(503);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(res.headers['www-authenticate']).toBeUndefined();
      } finally {
        await down.close();
      }
    });
  });
});

describe('forged and malformed tokens', () => {
  let app: ReturnType<typeof createApp>;
  beforeAll(() => {
    app = createApp([guard({ algorithms: ['RS256', 'PS256'] })]);
  });

  async function rejectionOf(token: string): Promise<{ status: number; reason: string; challenge: string | undefined }> {
    const res = await request(app).get('/me').set(...bearer(token));
    return { status: res.status, reason: res.body.reason, challenge: res.headers['www-authenticate'] };
  }

  const payload = { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'attacker', iat: NOW, exp: NOW + 300 };
  const hmacToken = (secret: string | Buffer) => {
    const input = `${Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'k1' })).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };

  it.each([
    ['alg none, unsigned', () => unsignedToken({ alg: 'none', typ: 'JWT' }, payload), 'algorithm_not_allowed'],
    ['alg None', () => unsignedToken({ alg: 'None' }, payload), 'algorithm_not_allowed'],
    ['alg NONE with a kid', () => unsignedToken({ alg: 'NONE', kid: 'k1' }, payload), 'algorithm_not_allowed'],
    ['alg nOnE with a copied signature', () => unsignedToken({ alg: 'nOnE', kid: 'k1' }, payload, signToken(KEY).split('.')[2]), 'algorithm_not_allowed'],
    ['HS256 keyed with the public key PEM', () => hmacToken(KEY.publicKey.export({ format: 'pem', type: 'spki' }) as string), 'algorithm_not_allowed'],
    ['HS256 keyed with the public JWK modulus', () => hmacToken(Buffer.from(KEY.jwk.n as string, 'base64url')), 'algorithm_not_allowed'],
    ['a stripped signature', () => `${signToken(KEY).split('.').slice(0, 2).join('.')}.`, 'signature_invalid'],
    ['a signature from another key under a known kid', () => signToken(KEY, {}, { signingKey: ROGUE.privateKey }), 'signature_invalid'],
    ['a payload changed after signing', () => {
      const [h, , s] = signToken(KEY).split('.');
      return `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin' })).toString('base64url')}.${s}`;
    }, 'signature_invalid'],
    ['an embedded jwk header', () => signToken(ROGUE, {}, { header: { kid: 'rogue', jwk: ROGUE.jwk } }), 'header_invalid'],
    ['a jku header', () => signToken(ROGUE, {}, { header: { jku: jku.jwksUri } }), 'header_invalid'],
    ['an x5u header', () => signToken(ROGUE, {}, { header: { x5u: `${jku.url}/cert.pem` } }), 'header_invalid'],
    ['an unknown crit extension', () => signToken(KEY, {}, { header: { crit: ['exp-ext'], 'exp-ext': true } }), 'header_invalid'],
    ['b64: false', () => signToken(KEY, {}, { header: { b64: false, crit: ['b64'] } }), 'header_invalid'],
    ['b64: false without crit', () => signToken(KEY, {}, { header: { b64: false } }), 'header_invalid'],
    ['a nested JWT (cty JWT)', () => signToken(KEY, {}, { header: { cty: 'JWT' } }), 'header_invalid'],
    ['a cty that is not a string', () => signToken(KEY, {}, { header: { cty: { toString: 1 } } }), 'header_invalid'],
    ['an unexpected typ', () => signToken(KEY, {}, { header: { typ: 'dpop+jwt' } }), 'type_invalid'],
    ['a numeric kid', () => signToken(KEY, {}, { header: { kid: 7 } }), 'kid_invalid'],
    ['a kid of 10 000 characters', () => signToken(KEY, {}, { header: { kid: 'k'.repeat(10_000) } }), 'token_too_large'],
    ['a key of 1024 bits in the JWKS', () => signToken(WEAK), 'key_not_found'],
    ['an alg that differs from the JWK alg', () => signToken(PS_KEY_AS_RS, {}, { alg: 'PS256' }), 'key_not_found'],
    ['an alg outside the allow-list', () => signToken(KEY, {}, { alg: 'RS512' }), 'algorithm_not_allowed'],
    ['a non-object payload', () => `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('[1]').toString('base64url')}.c2ln`, 'malformed'],
    ['garbage', () => 'not-a-jwt', 'malformed'],
    ['no exp', () => signToken(KEY, { exp: undefined }), 'claim_missing'],
    ['an iat in the future', () => signToken(KEY, { iat: NOW + 3600 }), 'issued_in_future'],
    ['an unknown issuer', () => signToken(KEY, { iss: 'https://evil.test' }), 'issuer_mismatch'],
  ])('rejects %s with 401 invalid_token', async (_label, makeToken, reason) => {
    const result = await rejectionOf(makeToken());
    expect(result).toMatchObject({ status: 401, reason });
    expect(result.challenge).toContain('error="invalid_token"');
  });

  it('never fetches a key location named in a token header', async () => {
    jku.resetHits();
    await rejectionOf(signToken(ROGUE, {}, { header: { jku: jku.jwksUri, x5u: `${jku.url}/x`, jwk: ROGUE.jwk } }));
    expect(jku.hits.total).toBe(0);
  });

  it('fetches nothing for a token from an issuer that is not configured', async () => {
    const fresh = await startIdpServer({ keys: [KEY] });
    try {
      const res = await request(createApp([guard({ jwksUri: fresh.jwksUri })])).get('/me').set(...bearer(signToken(KEY, { iss: 'https://evil.test' })));
      expect(res.status).toBe(401);
      expect(fresh.hits.total).toBe(0);
    } finally {
      await fresh.close();
    }
  });

  it('never echoes token contents in the body or the challenge', async () => {
    const marker = 'SECRET-CLAIM-VALUE';
    const token = signToken(KEY, { exp: NOW - 60, sub: marker, aud: marker });
    const res = await request(app).get('/me').set(...bearer(token));
    expect(res.status).toBe(401);
    expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toContain(marker);
    expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toContain(token.split('.')[2]);
  });
});

describe('verifyToken options', () => {
  it('lets a request without a token through when credentialsRequired is false', async () => {
    const res = await request(createApp([guard({ credentialsRequired: false })])).get('/me');
    expect(res.status).toBe(200);
    expect(res.body.authenticated).toBe(false);
  });

  it('still rejects an invalid token when credentialsRequired is false', async () => {
    const res = await request(createApp([guard({ credentialsRequired: false })])).get('/me').set(...bearer(signToken(KEY, { exp: NOW - 60 })));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_expired');
  });

  it('challenges with the configured realm from requireScopes after an optional-auth request without a token', async () => {
    const res = await request(createApp([guard({ credentialsRequired: false, realm: 'orders' }), requireScopes('orders:read')])).get('/me');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"');
  });

  it('reads a getToken returning null as no token, as express-jwt does', async () => {
    const optional = await request(createApp([guard({ credentialsRequired: false, getToken: () => null })])).get('/me');
    expect(optional.status).toBe(200);
    expect(optional.body.authenticated).toBe(false);
    const required = await request(createApp([guard({ getToken: () => null })])).get('/me');
    expect(required.status).toBe(401);
    expect(required.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('names the configured realm in the challenge', async () => {
    const res = await request(createApp([guard({ realm: 'orders' })])).get('/me');
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"');
  });

  it('accepts a query token when allowed', async () => {
    const res = await request(createApp([guard({ allowQueryToken: true })])).get(`/me?access_token=${signToken(KEY)}`);
    expect(res.status).toBe(200);
  });

  it('accepts a form body token when allowed', async () => {
    const res = await request(createApp([guard({ allowBodyToken: true })])).post('/me').type('form').send({ access_token: signToken(KEY) });
    expect(res.status).toBe(200);
    expect(res.body.authenticated).toBe(true);
  });

  it('reads the token with a custom getToken', async () => {
    const getToken = (req: { headers: Record<string, unknown> }) => String(req.headers.cookie ?? '').replace(/^session=/, '') || undefined;
    const res = await request(createApp([guard({ getToken })])).get('/me').set('Cookie', `session=${signToken(KEY)}`);
    expect(res.status).toBe(200);
  });

  it('answers 400 when a custom getToken returns an empty string, and 401 without an error code for undefined', async () => {
    const empty = await request(createApp([guard({ getToken: () => '' })])).get('/me');
    expect(empty.status).toBe(400);
    expect(empty.body).toMatchObject({ reason: 'authorization_malformed' });
    const none = await request(createApp([guard({ getToken: () => undefined })])).get('/me');
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('answers 400 when a custom getToken throws', async () => {
    const res = await request(createApp([guard({ getToken: () => { throw new Error('boom'); } })])).get('/me');
    expect(res.status).toBe(400);
  });

  it('accepts ES256 and PS256 tokens when they are allowed', async () => {
    const es = sharedKey('es', 'ES256');
    const ps = sharedKey('ps', 'PS256');
    const server = await startIdpServer({ keys: [es, ps] });
    try {
      const app = createApp([guard({ jwksUri: server.jwksUri, algorithms: ['ES256', 'PS256'] })]);
      expect((await request(app).get('/me').set(...bearer(signToken(es)))).status).toBe(200);
      expect((await request(app).get('/me').set(...bearer(signToken(ps)))).status).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('rejects a token longer than maxTokenLength before decoding it', async () => {
    const res = await request(createApp([guard({ maxTokenLength: 100 })])).get('/me').set(...bearer(signToken(KEY)));
    expect(res.status).toBe(401);
    expect(res.body.reason).toBe('token_too_large');
  });

  describe("typ: 'at+jwt'", () => {
    const strict = () => createApp([guard({ typ: 'at+jwt' })]);
    const atClaims = { client_id: 'client-1', jti: 'j-1' };

    it('accepts an RFC 9068 access token', async () => {
      const res = await request(strict()).get('/me').set(...bearer(signToken(KEY, atClaims, { header: { typ: 'at+jwt' } })));
      expect(res.status).toBe(200);
    });

    it('rejects a plain JWT', async () => {
      const res = await request(strict()).get('/me').set(...bearer(signToken(KEY, atClaims)));
      expect(res.body.reason).toBe('type_invalid');
    });

    it('rejects an at+jwt without client_id', async () => {
      const res = await request(strict()).get('/me').set(...bearer(signToken(KEY, { jti: 'j-1' }, { header: { typ: 'application/at+jwt' } })));
      expect(res.body.reason).toBe('claim_missing');
    });
  });

  describe('audit hooks', () => {
    it('reports each verified request with the claims that matter and never the token', async () => {
      const onVerified = vi.fn();
      const app = createApp([guard({ onVerified })]);
      const token = signToken(KEY);
      await request(app).get('/me').set(...bearer(token));
      await request(app).get('/me').set(...bearer(token));
      expect(onVerified).toHaveBeenCalledTimes(2);
      expect(onVerified.mock.calls[0]![0]).toEqual({ source: 'jwt', cached: false, iss: TEST_ISSUER, sub: 'user-1', aud: TEST_AUDIENCE, kid: 'k1' });
      expect(onVerified.mock.calls[1]![0]).toMatchObject({ cached: true });
      expect(JSON.stringify(onVerified.mock.calls)).not.toContain(token.split('.')[2]);
    });

    it('reports each rejected token with its reason', async () => {
      const onRejected = vi.fn();
      await request(createApp([guard({ onRejected })])).get('/me').set(...bearer(signToken(KEY, { aud: 'https://other.test' })));
      expect(onRejected).toHaveBeenCalledWith({ status: 401, code: 'invalid_token', reason: 'audience_mismatch', iss: TEST_ISSUER, sub: 'user-1', aud: 'https://other.test', kid: 'k1' });
    });

    it('keeps answering when a hook throws or rejects', async () => {
      const app = createApp([guard({ onVerified: () => { throw new Error('sink down'); }, onRejected: () => Promise.reject(new Error('sink down')) as never })]);
      expect((await request(app).get('/me').set(...bearer(signToken(KEY)))).status).toBe(200);
      expect((await request(app).get('/me').set(...bearer(signToken(KEY, { exp: NOW - 60 })))).status).toBe(401);
    });
  });
});

describe('realm across middleware', () => {
  it('challenges a missing scope with the realm verifyToken was given', async () => {
    const app = createApp([guard({ realm: 'orders' }), requireScopes('write')]);
    const res = await request(app).get('/me').set(...bearer(signToken(KEY, { scope: 'read' })));
    expect(res.status).toBe(403);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="orders", error="insufficient_scope"/);
  });
});

describe('verifyToken without I/O', () => {
  /** A request as Node hands it to Express, carrying one bearer token. */
  function requestWith(token: string) {
    const authorization = `Bearer ${token}`;
    return { method: 'GET', url: '/me', originalUrl: '/me', headers: { host: '127.0.0.1', authorization }, rawHeaders: ['Host', '127.0.0.1', 'Authorization', authorization] };
  }

  it.each([['a new token with its key set cached', { tokenCache: false }], ['a reused token (cache hit)', {}]] as const)(
    'calls next() before returning for %s, with req.auth set',
    async (_label, options) => {
      const middleware = guard(options);
      const token = signToken(KEY);
      // Loads the key set (and, with the cache on, the token): from then on no I/O is needed.
      await new Promise<void>((resolve, reject) => middleware(requestWith(token) as never, {} as never, (err?: unknown) => (err ? reject(err) : resolve())));
      const req = requestWith(token) as ReturnType<typeof requestWith> & { auth?: { payload: { sub?: unknown } } };
      const next = vi.fn();
      middleware(req as never, {} as never, next);
      expect(next).toHaveBeenCalledExactlyOnceWith();
      expect(req.auth?.payload.sub).toBe('user-1');
    },
  );
});
