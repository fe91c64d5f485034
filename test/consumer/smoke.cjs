// CommonJS consumers (and Jest's default CommonJS mode): require() both entry points, verify the
// kit's tokens with the real verifier, then close. The script must exit by itself: a server,
// socket or timer left open would keep it alive past the consumer test's time limit.
const assert = require('node:assert/strict');
const { AuthError, createVerifier } = require('bearer-guard');
const { BAD_TOKEN_KINDS, BAD_TOKEN_REASONS, createTestIssuer } = require('bearer-guard/testing');

async function main() {
  const issuer = await createTestIssuer({ slowResponseMs: 60_000 });
  const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true });
  assert.equal((await verifier.verify(issuer.sign({ sub: 'cjs-user' }))).payload.sub, 'cjs-user');
  for (const kind of BAD_TOKEN_KINDS) {
    await assert.rejects(verifier.verify(issuer.badToken(kind)), (err) => err instanceof AuthError && err.reason === BAD_TOKEN_REASONS[kind]);
  }
  const { clientId, clientSecret } = issuer.introspectionClient;
  const introspection = await fetch(issuer.introspectionEndpoint, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: issuer.issueOpaque({ scope: 'read' }) }),
  });
  assert.deepEqual(await introspection.json().then(({ active, scope }) => ({ active, scope })), { active: true, scope: 'read' });
  issuer.setOutage('slow');
  const pending = fetch(issuer.jwksUri).then(() => 'answered', () => 'closed');
  await new Promise((resolve) => setTimeout(resolve, 50));
  await issuer.close();
  assert.equal(await pending, 'closed');
  console.log('smoke.cjs: ok');
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
