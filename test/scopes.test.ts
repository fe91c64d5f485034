import type { ErrorRequestHandler, RequestHandler } from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ConfigError, InsufficientScopeError } from '../lib/errors.js';
import { parseScopes, requireAnyScope, requireScopes } from '../lib/scopes.js';
import type { AuthResult, AuthSource } from '../lib/types.js';
import { createApp, EXPRESS_VERSIONS } from './helpers/app.js';

/** Test-local stand-in for verifyToken: puts a fixed, already "verified" payload on req.auth. */
function fakeAuth(payload: Record<string, unknown>, source: AuthSource = 'jwt'): RequestHandler {
  return function fakeAuthMiddleware(req, _res, next) {
    const auth: AuthResult = { token: 'test-token', header: source === 'jwt' ? { alg: 'RS256' } : undefined, payload, source };
    req.auth = auth;
    next();
  };
}

const sorted = (scopes: ReadonlySet<string>): string[] => [...scopes].sort();

describe('parseScopes', () => {
  it.each([
    ['a `scope` string', { scope: 'email twitter' }, ['email', 'twitter']],
    ['a `scope` string with extra spaces, tabs and line breaks', { scope: '  email \t\ttwitter\n gmail ' }, ['email', 'gmail', 'twitter']],
    ['an `scp` array', { scp: ['read', 'write'] }, ['read', 'write']],
    ['an `scp` string', { scp: 'read write' }, ['read', 'write']],
    ['a `permissions` array', { permissions: ['read:orders', 'write:orders'] }, ['read:orders', 'write:orders']],
    ['all three claims together', { scope: 'a b', scp: ['c'], permissions: ['d', 'a'] }, ['a', 'b', 'c', 'd']],
    ['an introspection response', { active: true, client_id: 'api', scope: 'orders.read' }, ['orders.read']],
  ])('reads %s', (_label, payload, expected) => {
    expect(sorted(parseScopes(payload))).toEqual(expected);
  });

  it('keeps URI and colon scopes whole', () => {
    expect(sorted(parseScopes({ scope: 'https://api.example/read read:all' }))).toEqual(['https://api.example/read', 'read:all']);
  });

  it.each(['\u00a0', '\u3000', '\u2028', '\ufeff', '\u1680', '\u2003', '\v', '\f'])(
    'does not split on %j, which no scope-token contains: "read<it>admin" grants nothing',
    (separator) => {
      expect(sorted(parseScopes({ scope: `email read${separator}admin`, scp: `x${separator}admin` }))).toEqual(['email']);
    },
  );

  it('skips array entries that are not scope-tokens (a space, a quote, a backslash, non-ASCII)', () => {
    expect(sorted(parseScopes({ scp: ['read admin', 'say"hi', 'a\\b', 'caf\u00e9', 'ok'], permissions: ['write\u00a0admin'] }))).toEqual(['ok']);
  });

  it('skips non-string and empty array entries', () => {
    expect(sorted(parseScopes({ scp: ['read', 42, null, '', { x: 1 }], permissions: [true, 'write'] }))).toEqual(['read', 'write']);
  });

  it.each([
    ['a `permissions` string', { permissions: 'read write' }],
    ['a `scope` array', { scope: ['read'] }],
    ['a numeric `scope`', { scope: 42 }],
    ['an empty `scope` string', { scope: '' }],
    ['no scope claims', { sub: 'user-1' }],
  ])('grants nothing for %s', (_label, payload) => {
    expect(parseScopes(payload).size).toBe(0);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'email twitter'],
    ['a number', 7],
  ])('grants nothing for a payload that is %s', (_label, payload) => {
    expect(parseScopes(payload).size).toBe(0);
  });

  it('returns a fresh set on every call', () => {
    const payload = { scope: 'read' };
    expect(parseScopes(payload)).not.toBe(parseScopes(payload));
  });
});

describe.each([
  ['requireScopes', requireScopes],
  ['requireAnyScope', requireAnyScope],
] as const)('%s configuration', (name, guard) => {
  it.each([
    ['no scope', [], 'at least one scope'],
    ['an empty scope', [''], '`""`'],
    ['a scope with a space', ['read write'], '`"read write"`'],
    ['a scope with a tab', ['read\twrite'], '`"read\\twrite"`'],
    ['a scope with a double quote', ['say"hi'], '`"say\\"hi"`'],
    ['a scope with a backslash', ['a\\b'], '`"a\\\\b"`'],
    ['a non-ASCII scope', ['l\u00e9ger'], '`"l\u00e9ger"`'],
    ['a scope that is not a string', [42], '`42`'],
  ])('throws ConfigError for %s', (_label, scopes, quoted) => {
    const create = () => guard(...(scopes as string[]));
    expect(create).toThrow(ConfigError);
    expect(create).toThrow(new RegExp(`^${name}: `));
    expect(create).toThrow(quoted);
  });

  it('accepts every printable scope-token character', () => {
    expect(() => guard('!#$%&\'()*+,-./0123456789:;<=>?@AZ[]^_`az{|}~')).not.toThrow();
  });

  it(`returns a middleware named ${name}Middleware`, () => {
    expect(guard('read').name).toBe(`${name}Middleware`);
  });
});

describe.each(EXPRESS_VERSIONS)('scope middleware over HTTP (%s)', (_name, express) => {
  const app = (payload: Record<string, unknown> | undefined, guard: RequestHandler, options: { errorHandler?: boolean } = {}) =>
    createApp(payload === undefined ? [guard] : [fakeAuth(payload), guard], { express, ...options });

  describe('requireScopes', () => {
    it('lets the wallet-login token with `scope: "email twitter"` through a route requiring email', async () => {
      const res = await request(app({ sub: '0xabc', scope: 'email twitter' }, requireScopes('email'))).get('/me');
      expect(res.status).toBe(200);
    });

    it('answers 403 when the wallet-login token lacks email', async () => {
      const res = await request(app({ sub: '0xabc', scope: 'twitter discord' }, requireScopes('email'))).get('/me');
      expect(res.status).toBe(403);
      expect(res.body).toMatchObject({ code: 'insufficient_scope', reason: 'scope_missing' });
    });

    it.each([
      ['`scp` array', { scp: ['read', 'write'] }],
      ['`scp` string', { scp: 'write read' }],
      ['`permissions` array', { permissions: ['write', 'read'] }],
      ['`scope` string with tabs', { scope: 'read\twrite' }],
    ])('lets a token whose %s holds every scope through', async (_label, payload) => {
      const res = await request(app(payload, requireScopes('read', 'write'))).get('/me');
      expect(res.status).toBe(200);
    });

    it('answers 403 for a `scope` joined by a no-break space, which is one invalid scope, not two', async () => {
      const res = await request(app({ scope: 'read\u00a0admin' }, requireScopes('admin'))).get('/me');
      expect(res.status).toBe(403);
    });

    it('answers 403 when only some of the scopes are granted', async () => {
      const res = await request(app({ scope: 'read' }, requireScopes('read', 'write'))).get('/me');
      expect(res.status).toBe(403);
    });

    it('names every required scope in the challenge', async () => {
      const res = await request(app({ scope: 'read' }, requireScopes('read', 'write'))).get('/me');
      expect(res.headers['www-authenticate']).toMatch(/^Bearer /);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="read write"');
    });

    it('lets an opaque token whose introspection response grants the scope through', async () => {
      const guards = [fakeAuth({ active: true, scope: 'orders.read' }, 'introspection'), requireScopes('orders.read')];
      const res = await request(createApp(guards, { express })).get('/me');
      expect(res.status).toBe(200);
    });
  });

  describe('requireAnyScope', () => {
    it('lets a token with one of the scopes through', async () => {
      const res = await request(app({ scope: 'gmail' }, requireAnyScope('email', 'gmail'))).get('/me');
      expect(res.status).toBe(200);
    });

    it('answers 403 naming all accepted scopes when none is granted', async () => {
      const res = await request(app({ scope: 'twitter' }, requireAnyScope('email', 'gmail'))).get('/me');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="email gmail"');
    });
  });

  describe.each([
    ['requireScopes', requireScopes],
    ['requireAnyScope', requireAnyScope],
  ] as const)('%s matching', (_guardName, guard) => {
    it.each([
      ['read', 'read:all'],
      ['read:all', 'read'],
      ['admin', 'administrator'],
      ['administrator', 'admin'],
      ['email', 'Email'],
      ['orders', 'orders.read orders.write'],
      ['read write', 'read,write'],
    ])('does not let a token with `%s` satisfy `%s`', async (required, granted) => {
      const res = await request(app({ scope: granted }, guard(...required.split(' ')))).get('/me');
      expect(res.status).toBe(403);
    });

    it('answers 401 without an error code when req.auth is missing', async () => {
      const res = await request(app(undefined, guard('email'))).get('/me');
      expect(res.status).toBe(401);
      expect(res.body.reason).toBe('credentials_missing');
      expect(res.headers['www-authenticate']).not.toContain('error=');
    });

    it('answers 403 with the challenge through Express’s default error handler', async () => {
      const res = await request(app({ scope: 'twitter' }, guard('email'), { errorHandler: false })).get('/me');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('error="insufficient_scope"');
      expect(res.headers['www-authenticate']).toContain('scope="email"');
    });

    it('hands an InsufficientScopeError to next() without touching the response', async () => {
      let received: unknown;
      let headersSent: boolean | undefined;
      const capture: ErrorRequestHandler = (err, _req, res, _next) => {
        received = err;
        headersSent = res.headersSent;
        res.status(599).end();
      };
      const plain = express();
      plain.get('/me', fakeAuth({ scope: 'twitter' }), guard('email', 'gmail'), (_req, res) => {
        res.end();
      });
      plain.use(capture);
      await request(plain).get('/me');
      expect(received).toBeInstanceOf(InsufficientScopeError);
      expect((received as InsufficientScopeError).requiredScopes).toEqual(['email', 'gmail']);
      expect(headersSent).toBe(false);
    });
  });
});
