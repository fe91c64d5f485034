// Type-checks both entry points as a CommonJS consumer sees them (moduleResolution node16).
import bearerGuard = require('bearer-guard');
import testing = require('bearer-guard/testing');

async function main(): Promise<string> {
  const issuer: testing.TestIssuer = await testing.createTestIssuer({ audience: ['a', 'b'] });
  const verifier: bearerGuard.Verifier = bearerGuard.createVerifier({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true });
  const kind: testing.BadTokenKind = testing.BAD_TOKEN_KINDS[0]!;
  await verifier.verify(issuer.badToken(kind)).catch((err: unknown) => err instanceof bearerGuard.AuthError);
  await issuer.close();
  return issuer.sign();
}

export = main;
