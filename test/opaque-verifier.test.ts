import { describe, expect, it, vi } from 'vitest';
import { createVerifier } from '../lib/index.js';
import { startIntrospectionServer } from './helpers/introspection-server.js';
import { useServer } from './helpers/use-server.js';
import { NOW, TEST_AUDIENCE, TEST_ISSUER } from './helpers/tokens.js';

// What an IdP answer can make fail that no claim rule foresaw — here, as the reviewer found it,
// the stack overflow of freezing an absurdly deep answer — is an endpoint fault: 503, never the
// 401 `verification_failed` a client would give up on. The depth cap (safe-json.ts) now stops
// such answers before they are frozen, so the failure is staged: answers with `sub: 'overflows'`
// make `deepFreeze` throw what it threw then.
vi.mock('../lib/internal/deep-freeze.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../lib/internal/deep-freeze.js')>();
  return {
    deepFreeze<T>(value: T): T {
      if ((value as { sub?: unknown } | null)?.sub === 'overflows') throw new RangeError('Maximum call stack size exceeded');
      return actual.deepFreeze(value);
    },
  };
});

const SECRET = 's3cret-value';
const idp = useServer(() => startIntrospectionServer({ clientId: 'api', clientSecret: SECRET }), { name: 'introspection server' });
let counter = 0;

describe.each(['introspection', 'userinfo'] as const)('an unexpected failure while checking an answer from %s', (method) => {
  function verifier() {
    const check = method === 'introspection'
      ? { introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint } }
      : { userinfo: { endpoint: idp.userinfoEndpoint } };
    return createVerifier({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE, allowHttpLoopback: true, tokenFormat: 'opaque', ...check });
  }

  function tokenAnswered(sub: string): string {
    counter += 1;
    const token = `opaque-verifier-${counter}-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q`;
    const body = { iss: TEST_ISSUER, sub, exp: NOW + 600 };
    if (method === 'introspection') idp.answer(token, { kind: 'json', body: { active: true, aud: TEST_AUDIENCE, ...body } });
    else idp.answerUserinfo(token, { kind: 'json', body });
    return token;
  }

  it('answers 503 with Retry-After, keeping the failure as its cause', async () => {
    const error = await verifier().verify(tokenAnswered('overflows')).catch((err: unknown) => err);
    expect(error).toMatchObject({ name: 'KeySourceError', status: 503, reason: 'key_source_unavailable', headers: { 'Retry-After': '5' } });
    expect((error as Error).cause).toBeInstanceOf(RangeError);
  });

  it('is not remembered: the next request asks the IdP again', async () => {
    const token = tokenAnswered('overflows');
    const v = verifier();
    await v.verify(token).catch(() => undefined);
    await v.verify(token).catch(() => undefined);
    expect(idp.requests.filter((r) => r.form.get('token') === token || r.authorization === `Bearer ${token}`)).toHaveLength(2);
  });

  it('leaves ordinary answers alone', async () => {
    expect((await verifier().verify(tokenAnswered('client-1'))).payload.sub).toBe('client-1');
  });
});
