// ESM consumers outside a test runner: import both entry points by name. ESM and CommonJS share
// one implementation, so errors thrown through either entry point are instances of the same classes.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { AuthError, ConfigError, createVerifier } from 'bearer-guard';
import { createTestIssuer, createTestKey, signJWT } from 'bearer-guard/testing';

const require = createRequire(import.meta.url);
assert.equal(require('bearer-guard').AuthError, AuthError);
assert.equal(require('bearer-guard/testing').createTestIssuer, createTestIssuer);
await assert.rejects(createTestIssuer({ nope: true }), ConfigError);

for (const alg of ['ES256', 'PS256']) {
  const issuer = await createTestIssuer({ alg });
  const verifier = createVerifier({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true, algorithms: [alg] });
  assert.equal((await verifier.verify(issuer.sign())).header.alg, alg);
  await issuer.close();
}
const key = createTestKey({ alg: 'ES256', kid: 'k' });
assert.equal(signJWT({ alg: 'ES256', kid: key.kid }, { sub: 'x' }, key.privateKey).split('.').length, 3);
console.log('smoke.mjs: ok');
