import { definedMembers } from './mint-claims.js';
import { answerIntrospection, answerUserinfo, json, type IntrospectionClient } from './oauth-endpoints.js';
import { sendResponse, type TestEndpoint, type TestFault, type TestResponse } from './test-faults.js';
import type { TestRequest, TestRequestHandler } from './test-server.js';
import type { TokenRegistry } from './token-registry.js';

/** Requests received per endpoint; `total` counts every request, unknown paths included. */
export type RequestCounts = Record<TestEndpoint | 'total', number>;

/** Where a test issuer's endpoints live, as its metadata lists them. */
export interface IssuerURLs {
  /** The issuer URL (`iss`), `http://127.0.0.1:PORT` plus `issuerPath`: the verifier's `issuer`. */
  readonly issuer: string;
  /** The JWKS URL, `jwks_uri` in the metadata. */
  readonly jwksUri: string;
  /** The RFC 7662 endpoint, `POST`; `undefined` when introspection is off. */
  readonly introspectionEndpoint: string | undefined;
  /** The OIDC userinfo endpoint; `undefined` when userinfo is off. */
  readonly userinfoEndpoint: string | undefined;
}

/** What the routes read on every request: the issuer's current state. */
export interface IssuerState {
  readonly urls: IssuerURLs;
  readonly introspectionClient: IntrospectionClient | undefined;
  readonly tokens: TokenRegistry;
  readonly counts: RequestCounts;
  /** `METHOD /path?query` of each request, in order. */
  readonly log: string[];
  readonly faults: ReadonlyMap<TestEndpoint, TestFault>;
  /** The JWKS body. */
  jwks(): unknown;
  /** Members set over the generated metadata; `undefined` ones are left out. */
  metadataOverrides(): Readonly<Record<string, unknown>>;
  /** Algorithms of the published keys. */
  algorithms(): readonly string[];
}

/**
 * The path of each endpoint served, from the issuer URL's path and the JWKS path, in the order
 * they are routed. Two entries may share a path; `routeTable` refuses that.
 */
export function endpointPaths(issuerPath: string, jwksPath: string, serve: { introspection: boolean; userinfo: boolean }): readonly (readonly [string, TestEndpoint])[] {
  const base = issuerPath.replace(/\/+$/, '');
  return [
    // OIDC Discovery §4 appends to the issuer path; RFC 8414 §3 inserts before it.
    [`${base}/.well-known/openid-configuration`, 'discovery'],
    [`/.well-known/oauth-authorization-server${base}`, 'discovery'],
    ...(serve.introspection ? [['/introspect', 'introspection'] as const] : []),
    ...(serve.userinfo ? [['/userinfo', 'userinfo'] as const] : []),
    [jwksPath, 'jwks'],
  ];
}

/** The endpoint served at each path; `endpointPaths` must not repeat a path (the options check that). */
export function routeTable(issuerPath: string, jwksPath: string, serve: { introspection: boolean; userinfo: boolean }): ReadonlyMap<string, TestEndpoint> {
  return new Map(endpointPaths(issuerPath, jwksPath, serve));
}

/** The OpenID Provider Metadata (OIDC Discovery §3), also served as RFC 8414 metadata, with the test's overrides. */
export function metadataOf(state: IssuerState): Record<string, unknown> {
  const { urls } = state;
  return definedMembers({
    issuer: urls.issuer,
    jwks_uri: urls.jwksUri,
    ...(urls.introspectionEndpoint !== undefined && {
      introspection_endpoint: urls.introspectionEndpoint,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    }),
    ...(urls.userinfoEndpoint !== undefined && { userinfo_endpoint: urls.userinfoEndpoint }),
    grant_types_supported: ['client_credentials'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [...new Set(state.algorithms())],
    ...state.metadataOverrides(),
  });
}

/** The request handler of a test issuer: counts, routes, answers, and applies the endpoint's fault. */
export function issuerHandler(routes: ReadonlyMap<string, TestEndpoint>, state: IssuerState): TestRequestHandler {
  return (request, res, schedule) => {
    state.counts.total += 1;
    state.log.push(`${request.method} ${request.target}`);
    const endpoint = routes.get(request.path);
    if (endpoint === undefined) return sendResponse(res, json(404, { error: 'not_found' }), undefined, schedule);
    state.counts[endpoint] += 1;
    sendResponse(res, answer(endpoint, request, state), state.faults.get(endpoint), schedule);
  };
}

function answer(endpoint: TestEndpoint, request: TestRequest, state: IssuerState): TestResponse {
  const nowSec = Math.floor(Date.now() / 1000);
  switch (endpoint) {
    case 'introspection':
      return answerIntrospection(request, state.introspectionClient!, state.tokens, nowSec);
    case 'userinfo':
      return answerUserinfo(request, state.tokens, nowSec);
    case 'discovery':
    case 'jwks':
      if (request.method !== 'GET') return json(405, { error: 'invalid_request' }, { allow: 'GET' });
      return json(200, endpoint === 'jwks' ? state.jwks() : metadataOf(state));
  }
}
