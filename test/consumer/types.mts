// Type-checks both entry points as an ESM consumer sees them (moduleResolution node16).
import type { VerifyTokenOptions } from 'bearer-guard';
import {
  BAD_TOKEN_KINDS,
  BAD_TOKEN_REASONS,
  TEST_ENDPOINTS,
  createTestIssuer,
  createTestKey,
  signJWT,
  type BadTokenKind,
  type OutageMode,
  type RequestCounts,
  type TestEndpoint,
  type TestFault,
  type TestIssuer,
  type TestIssuerOptions,
  type TestKey,
  type TestSignOptions,
} from 'bearer-guard/testing';

const issuerOptions: TestIssuerOptions = { alg: 'ES256', introspection: { clientId: 'api', clientSecret: 's' }, slowResponseMs: 100 };
const issuer: TestIssuer = await createTestIssuer(issuerOptions);
const verifyOptions: VerifyTokenOptions = { issuer: issuer.issuer, audience: issuer.audience, jwksUri: issuer.jwksUri, allowHttpLoopback: true };
const signOptions: TestSignOptions = { expiresIn: 60, notBefore: 0, typ: 'at+jwt', header: { kid: undefined } };
const token: string = issuer.sign({ scope: 'read' }, signOptions);
const kinds: readonly BadTokenKind[] = BAD_TOKEN_KINDS;
const reason: string = BAD_TOKEN_REASONS['alg-none'];
const endpoints: readonly TestEndpoint[] = TEST_ENDPOINTS;
const mode: OutageMode = 'garbage';
const fault: TestFault = { kind: 'status', status: 503, retryAfter: '5' };
issuer.setOutage(mode, ['jwks', 'discovery']);
issuer.setFault(fault, 'introspection');
// @ts-expect-error 'off' is not an outage mode
issuer.setOutage('off');
const counts: Readonly<RequestCounts> = issuer.requestCounts;
const rotated: TestKey = issuer.rotateKeys({ keepPrevious: true });
const opaque: string = issuer.issueOpaque({ client_id: 'svc' }, { expiresIn: 30, userinfo: { sub: 'svc' } });
const key: TestKey = createTestKey({ alg: 'PS256', kid: 'k1' });
const forged: string = signJWT({ alg: 'none' }, {}, undefined);
const closed: Promise<void> = issuer.close();
export { verifyOptions, token, kinds, reason, endpoints, counts, rotated, opaque, key, forged, closed };
