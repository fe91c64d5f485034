import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { VerifyTokenOptions } from '../../lib/index.js';
import { createTestIssuer, type TestFault } from '../../lib/testing/index.js';
import { makeKey, type TestKey } from './keys.js';
import { TEST_AUDIENCE, TEST_ISSUER } from './tokens.js';

/** A way for an endpoint to misbehave; `setFault(null)` restores normal answers (the kit's faults). */
export type Fault = TestFault;

/** The endpoints a fault can target here (introspection and userinfo: see introspection-server.ts). */
export type Endpoint = 'jwks' | 'discovery';

/**
 * A loopback identity provider for bearer-guard's own tests: JWKS and issuer metadata, hit
 * counters, faults on demand. A thin view of `createTestIssuer()` from `bearer-guard/testing`
 * (introspection and userinfo off), so the kit our users get is the one our tests run on.
 */
export interface IdpServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `url`, plus `issuerPath` when one was given. */
  readonly issuer: string;
  /** `url` + `jwksPath` (default `/jwks`). */
  readonly jwksUri: string;
  /** Requests received since start or `resetHits()`, faulted ones included; `total` counts every path. */
  readonly hits: { readonly jwks: number; readonly discovery: number; readonly total: number };
  /** `METHOD /path?query` of every request since start or `resetHits()`, in order. */
  readonly requests: readonly string[];
  /** Overrides members of the metadata document; a member set to `undefined` is left out. Each call replaces the previous overrides. */
  setMetadata(overrides: Record<string, unknown>): void;
  /** Publishes these keys' public JWKs. */
  setKeys(...keys: TestKey[]): void;
  /** Publishes an arbitrary JSON body as the JWKS. */
  setJWKS(document: unknown): void;
  /** Makes an endpoint (default `'all'`) misbehave until `setFault(null, …)`. */
  setFault(fault: Fault | null, endpoint?: Endpoint | 'all'): void;
  resetHits(): void;
  /** Closes the server and every open socket, hanging ones included. */
  close(): Promise<void>;
}

/** What `startIdpServer()` takes: the keys published (default none), the JWKS path (default `/jwks`), an issuer path. */
export interface IdpServerOptions {
  keys?: TestKey[];
  jwksPath?: string;
  issuerPath?: string;
}

let placeholder: TestKey | undefined;

/** Starts an `IdpServer` on 127.0.0.1, port 0. Close it in `afterEach`/`afterAll`, or let `useIdpServer()` (use-idp-server.ts) do both. */
export async function startIdpServer(options: IdpServerOptions = {}): Promise<IdpServer> {
  const keys = options.keys ?? [];
  // The kit needs a key to start with; an empty set is published right after.
  placeholder ??= makeKey('placeholder');
  const issuer = await createTestIssuer({
    keys: keys.length > 0 ? keys : [placeholder],
    jwksPath: options.jwksPath ?? '/jwks',
    ...(options.issuerPath !== undefined && { issuerPath: options.issuerPath }),
    introspection: false,
    userinfo: false,
  });
  if (keys.length === 0) issuer.setKeys();
  return {
    url: issuer.url,
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    get hits() {
      return issuer.requestCounts;
    },
    get requests() {
      return issuer.requestLog;
    },
    setMetadata: (overrides) => issuer.setMetadata(overrides),
    setKeys: (...next) => issuer.setKeys(...next),
    setJWKS: (document) => issuer.setJWKS(document),
    setFault: (fault, endpoint = 'all') => issuer.setFault(fault, endpoint === 'all' ? undefined : endpoint),
    resetHits: () => issuer.resetRequests(),
    close: () => issuer.close(),
  };
}

/** Verifier options that accept `signToken()`'s tokens (`TEST_ISSUER`, `TEST_AUDIENCE`) signed by keys this server publishes. */
export function verifierOptions(idp: Pick<IdpServer, 'jwksUri'>): Pick<VerifyTokenOptions, 'issuer' | 'audience' | 'jwksUri' | 'allowHttpLoopback'> {
  return { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, jwksUri: idp.jwksUri, allowHttpLoopback: true };
}

/** A loopback URL on which nothing listens (connection refused). */
export async function refusedUrl(path = '/jwks'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
