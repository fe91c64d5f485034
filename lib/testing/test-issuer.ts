import { randomBytes } from 'node:crypto';
import { rejectUnknownKeys } from '../internal/option-checks.js';
import { checkBadTokenKind, deriveBadToken, type BadTokenKind } from './bad-tokens.js';
import { createEndpointFaults } from './endpoint-faults.js';
import { createIssuerKeys } from './issuer-keys.js';
import type { IssuerURLs, RequestCounts } from './issuer-routes.js';
import { startIssuerServer } from './issuer-server.js';
import { definedMembers, mintClaims, OPAQUE_OPTION_NAMES, SIGN_OPTION_NAMES, type OpaqueTokenOptions, type TestSignOptions } from './mint-claims.js';
import type { IntrospectionClient } from './oauth-endpoints.js';
import type { OutageMode, TestEndpoint, TestFault } from './test-faults.js';
import { signJWT } from './sign-jwt.js';
import { resolveTestIssuerOptions, type TestIssuerOptions } from './test-issuer-options.js';
import type { TestKey } from './test-key.js';
import { createTokenRegistry } from './token-registry.js';

/** A running loopback identity provider for tests; see `createTestIssuer`. */
export interface TestIssuer extends IssuerURLs {
  /** `http://127.0.0.1:PORT`, the server's origin. */
  readonly url: string;
  /** The `aud` minted tokens carry: give it to the verifier as `audience`. */
  readonly audience: string | readonly string[];
  /** The credentials the introspection endpoint requires; `undefined` when it is off. */
  readonly introspectionClient: IntrospectionClient | undefined;
  /** The key that signs by default. */
  readonly currentKey: TestKey;
  /** The keys the JWKS publishes, newest first. */
  readonly publishedKeys: readonly TestKey[];
  /** A snapshot of the requests received per endpoint (faulted ones included) since start or `resetRequests()`. */
  readonly requestCounts: Readonly<RequestCounts>;
  /** `METHOD /path?query` of every request since start or `resetRequests()`, in order. */
  readonly requestLog: readonly string[];
  /**
   * Mints a signed JWT that a verifier configured with `issuer`, `audience` and
   * `allowHttpLoopback: true` accepts: `iss`, `sub: 'test-user'`, `aud`, `iat` = now, `exp` in
   * 5 minutes, a random `jti`; `claims` go over these (`undefined` removes one). The token is
   * also known to the introspection and userinfo endpoints, unless it is a forgery: one signed
   * with a `signingKey` other than the key its `kid` names, or with an `alg` (option or `header`)
   * other than that key's own, or by a key no longer published. Those get `active: false`, as
   * from a real provider.
   * @throws ConfigError for an unknown option (a misspelt `expiresIn` would otherwise mint a valid token)
   */
  sign(claims?: Record<string, unknown>, options?: TestSignOptions): string;
  /**
   * Registers a random opaque token with these claims (defaults as `sign`) for introspection and userinfo.
   * @throws ConfigError for an unknown option
   */
  issueOpaque(claims?: Record<string, unknown>, options?: OpaqueTokenOptions): string;
  /**
   * A bad token of `kind` derived from `token` (default: a fresh `sign()`); see `BadTokenKind`.
   * Re-signed kinds use the key `token`'s `kid` names, or, when the JWKS no longer holds it, the
   * current key with its own `kid` and `alg`, so that the token fails for the reason claimed.
   * @throws ConfigError for a `kind` not in `BAD_TOKEN_KINDS` (a `Bearer undefined` would also get a 401)
   */
  badToken(kind: BadTokenKind, token?: string): string;
  /**
   * Makes introspection answer `{ active: false }` and userinfo 401 for this token. A JWT
   * verified locally stays valid until it expires: revocation is only visible where a verifier asks.
   */
  revoke(token: string): void;
  /**
   * Signs with a new key (same algorithm, new `kid`) from now on. The old key leaves the JWKS at
   * once unless `keepPrevious` (both then published, as during a real rollover). A verifier
   * accepts the new tokens after refetching the JWKS for the unknown `kid`; once it has, tokens
   * of a removed key are rejected (`key_not_found`).
   */
  rotateKeys(options?: { keepPrevious?: boolean }): TestKey;
  /** Publishes exactly these keys (none: an empty JWKS); the first signs from now on. */
  setKeys(...keys: TestKey[]): void;
  /** Serves any JSON value as the JWKS body (e.g. keys that key policy refuses); `undefined` or `setKeys()` ends it. */
  setJWKS(document: unknown): void;
  /**
   * Sets members over the generated metadata, e.g. `{ issuer: 'https://other.example' }`; one
   * set to `undefined` is left out (`{ jwks_uri: undefined }`). Each call replaces the previous
   * overrides; `setMetadata({})` restores the generated document.
   */
  setMetadata(overrides: Record<string, unknown>): void;
  /** Makes `endpoints` (default all) fail as `mode` says until `setOutage(null)`; see `OutageMode`. */
  setOutage(mode: OutageMode | null, endpoints?: TestEndpoint | readonly TestEndpoint[]): void;
  /**
   * `setOutage` with full control: a status, a hang, a drip, a huge body, a redirect; see `TestFault`.
   * @throws ConfigError for an unknown kind, a missing or wrong member, or an unknown endpoint
   */
  setFault(fault: TestFault | null, endpoints?: TestEndpoint | readonly TestEndpoint[]): void;
  /** Sets every request count back to 0 and empties the request log. */
  resetRequests(): void;
  /** Stops the server and destroys every connection and timer; nothing keeps the process alive afterwards. */
  close(): Promise<void>;
}

/**
 * Starts a loopback identity provider for tests on 127.0.0.1 (a free port): OIDC discovery
 * (and RFC 8414 metadata), a JWKS, and unless turned off RFC 7662 introspection and OIDC
 * userinfo. Keys are generated per issuer (RS256 unless `alg` says otherwise). Close it in
 * `afterAll`; it uses no globals and works alike under vitest and Jest, ESM and CommonJS.
 * @throws ConfigError for a wrong option
 * @example
 * const issuer = await createTestIssuer();
 * const app = express().get('/me', verifyToken({ issuer: issuer.issuer, audience: issuer.audience, allowHttpLoopback: true }), handler);
 * await request(app).get('/me').auth(issuer.sign({ sub: 'user-1' }), { type: 'bearer' }).expect(200);
 * await issuer.close();
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const config = resolveTestIssuerOptions(options);
  const keys = createIssuerKeys(config.alg, config.keys);
  const tokens = createTokenRegistry();
  const faults = createEndpointFaults(config.slowResponseMs);
  const server = await startIssuerServer(config, keys, tokens, faults);
  const { urls, counts, log } = server;
  const nowSec = (): number => Math.floor(Date.now() / 1000);
  const base = { iss: urls.issuer, aud: config.audience };

  function sign(claims: Record<string, unknown> = {}, signOptions: TestSignOptions = {}): string {
    rejectUnknownKeys('issuer.sign', signOptions, SIGN_OPTION_NAMES);
    const payload = mintClaims('issuer.sign', base, claims, signOptions, nowSec());
    const key = keys.forKid(signOptions.kid);
    const header = definedMembers({ alg: signOptions.alg ?? key.alg, typ: signOptions.typ ?? 'JWT', kid: signOptions.kid ?? key.kid, ...signOptions.header });
    const signingKey = signOptions.signingKey ?? key.privateKey;
    const token = signJWT(header, payload, signingKey);
    // Only what the issuer really signed is known to introspection and userinfo: a forgery
    // answered `active: true` would let an opaque-token test pass for the wrong reason.
    const genuine = signingKey === key.privateKey && header.alg === key.alg && keys.published.includes(key);
    if (genuine) tokens.add(token, payload);
    return token;
  }

  return Object.freeze({
    ...urls,
    url: server.url,
    audience: config.audience,
    introspectionClient: config.introspection,
    get currentKey() {
      return keys.current;
    },
    get publishedKeys() {
      return keys.published;
    },
    get requestCounts() {
      return Object.freeze({ ...counts });
    },
    get requestLog() {
      return Object.freeze([...log]);
    },
    sign,
    issueOpaque(claims = {}, opaqueOptions = {}) {
      rejectUnknownKeys('issuer.issueOpaque', opaqueOptions, OPAQUE_OPTION_NAMES);
      const token = randomBytes(32).toString('base64url');
      tokens.add(token, mintClaims('issuer.issueOpaque', base, claims, opaqueOptions, nowSec()), opaqueOptions.userinfo);
      return token;
    },
    badToken(kind, token) {
      // Before sign(): a wrong kind mints nothing.
      checkBadTokenKind('issuer.badToken', kind);
      return deriveBadToken(kind, token ?? sign(), keys, nowSec());
    },
    revoke: (token) => tokens.revoke(token),
    rotateKeys: ({ keepPrevious = false } = {}) => keys.rotate(keepPrevious),
    setKeys: (...next) => keys.publish(next),
    setJWKS: (document) => keys.override(document),
    setMetadata: server.setMetadata,
    setOutage: faults.setOutage,
    setFault: faults.setFault,
    resetRequests() {
      for (const name of Object.keys(counts) as (keyof RequestCounts)[]) counts[name] = 0;
      log.length = 0;
    },
    close: () => server.close(),
  } satisfies TestIssuer);
}

