// Jest (default CommonJS mode, `node` environment), run by `consumer-test.mjs --jest` with
// --detectOpenHandles: the kit needs no globals of its own and leaves nothing open after close().
const { BAD_TOKEN_KINDS, createTestIssuer } = require('bearer-guard/testing');

let issuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

test('serves discovery metadata and the JWKS', async () => {
  const metadata = await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json();
  expect(metadata.jwks_uri).toBe(issuer.jwksUri);
  expect((await (await fetch(issuer.jwksUri)).json()).keys).toEqual([issuer.currentKey.jwk]);
});

test.each(BAD_TOKEN_KINDS)('derives bad token %s', (kind) => {
  expect(issuer.badToken(kind, issuer.sign())).toMatch(/^[\w-]+\.[\w-]+\.[\w-]*$/);
});

test('close() cuts a request that a slow outage holds', async () => {
  const slow = await createTestIssuer({ slowResponseMs: 60_000 });
  slow.setOutage('slow');
  const pending = fetch(slow.jwksUri).then(() => 'answered', () => 'closed');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await slow.close();
  await expect(pending).resolves.toBe('closed');
});
