import type { EndpointFaults } from './endpoint-faults.js';
import type { IssuerKeys } from './issuer-keys.js';
import { issuerHandler, routeTable, type IssuerState, type IssuerURLs, type RequestCounts } from './issuer-routes.js';
import type { ResolvedTestIssuerOptions } from './test-issuer-options.js';
import { startTestServer } from './test-server.js';
import type { TokenRegistry } from './token-registry.js';

/** The running HTTP side of a test issuer: where it listens and what it has seen. */
export interface IssuerServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly urls: IssuerURLs;
  /** Live counters, reset in place. */
  readonly counts: RequestCounts;
  /** Live request log, emptied in place. */
  readonly log: string[];
  /** Replaces the members set over the generated metadata. */
  setMetadata(overrides: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Starts the server of a test issuer, serving its keys, tokens and faults as they change. */
export async function startIssuerServer(
  config: ResolvedTestIssuerOptions,
  keys: IssuerKeys,
  tokens: TokenRegistry,
  faults: EndpointFaults,
): Promise<IssuerServer> {
  const counts: RequestCounts = { discovery: 0, jwks: 0, introspection: 0, userinfo: 0, total: 0 };
  const log: string[] = [];
  let metadata: Readonly<Record<string, unknown>> = {};
  let urls: IssuerURLs | undefined;
  const state: IssuerState = {
    get urls() {
      return urls!;
    },
    introspectionClient: config.introspection,
    tokens,
    counts,
    log,
    faults: faults.active,
    jwks: () => keys.jwks(),
    metadataOverrides: () => metadata,
    algorithms: () => keys.published.map((key) => key.alg),
  };
  const routes = routeTable(config.issuerPath, config.jwksPath, { introspection: config.introspection !== undefined, userinfo: config.userinfo });
  const server = await startTestServer(issuerHandler(routes, state));
  urls = Object.freeze({
    issuer: server.url + config.issuerPath,
    jwksUri: server.url + config.jwksPath,
    introspectionEndpoint: config.introspection === undefined ? undefined : `${server.url}/introspect`,
    userinfoEndpoint: config.userinfo ? `${server.url}/userinfo` : undefined,
  });
  return {
    url: server.url,
    urls,
    counts,
    log,
    setMetadata(overrides) {
      metadata = Object.freeze({ ...overrides });
    },
    close: () => server.close(),
  };
}
