import { ConfigError } from '../errors.js';
import { MAX_TIMER_MS, optionalBoolean, optionalNumber, rejectUnknownKeys, requiredString, stringOrStrings } from '../internal/option-checks.js';
import { endpointPaths } from './issuer-routes.js';
import type { IntrospectionClient } from './oauth-endpoints.js';
import { checkTestKeyAlgorithm, isTestKey, type TestKey, type TestKeyAlgorithm } from './test-key.js';

/** Options of `createTestIssuer`; every one is optional. */
export interface TestIssuerOptions {
  /** Algorithm of the key generated for the issuer. Default `'RS256'`. */
  alg?: TestKeyAlgorithm;
  /** Keys to publish instead of a generated one (e.g. made once with `createTestKey`); the first signs. */
  keys?: readonly TestKey[];
  /** The `aud` of tokens `sign()` and `issueOpaque()` mint. Default `'https://api.example'`. */
  audience?: string | readonly string[];
  /**
   * Path appended to the origin to form the issuer URL, e.g. `'/tenant-1'`, or `'/'` for an
   * issuer with a trailing slash (as Auth0's). Default `''`.
   */
  issuerPath?: string;
  /**
   * Path of the JWKS endpoint. Default `'/.well-known/jwks.json'`. It must differ from the
   * discovery paths and from `/introspect` and `/userinfo` while those are served.
   */
  jwksPath?: string;
  /**
   * The RFC 7662 introspection endpoint and the client credentials it requires, or `false` to
   * serve none (and leave `introspection_endpoint` out of the metadata).
   * Default `{ clientId: 'test-client', clientSecret: 'test-secret' }`.
   */
  introspection?: false | Partial<IntrospectionClient>;
  /** Serve an OIDC userinfo endpoint; `false` leaves `userinfo_endpoint` out of the metadata. Default `true`. */
  userinfo?: boolean;
  /**
   * How long `setOutage('slow')` delays each answer, in ms, at most 2 147 483 647 (the longest
   * timer Node honours). Default 6 000 (above bearer-guard's 5 s fetch deadline).
   */
  slowResponseMs?: number;
}

/** `TestIssuerOptions` checked and with every default applied. */
export interface ResolvedTestIssuerOptions {
  readonly alg: TestKeyAlgorithm;
  readonly keys: readonly TestKey[] | undefined;
  readonly audience: string | readonly string[];
  readonly issuerPath: string;
  readonly jwksPath: string;
  readonly introspection: IntrospectionClient | undefined;
  readonly userinfo: boolean;
  readonly slowResponseMs: number;
}

const WHERE = 'createTestIssuer';
const DEFAULTS = {
  alg: 'RS256',
  audience: 'https://api.example',
  issuerPath: '',
  jwksPath: '/.well-known/jwks.json',
  clientId: 'test-client',
  clientSecret: 'test-secret',
  slowResponseMs: 6_000,
} as const;
const OPTION_NAMES: ReadonlySet<string> = new Set(['alg', 'keys', 'audience', 'issuerPath', 'jwksPath', 'introspection', 'userinfo', 'slowResponseMs']);

/**
 * Checks `createTestIssuer` options and fills in defaults.
 * @throws ConfigError naming the first wrong option
 */
export function resolveTestIssuerOptions(input: TestIssuerOptions): ResolvedTestIssuerOptions {
  rejectUnknownKeys(WHERE, input, OPTION_NAMES);
  if (input.keys !== undefined && input.alg !== undefined) throw new ConfigError(`${WHERE}: give \`alg\` or \`keys\`, not both`);
  // Checked here rather than left to createTestKey, so the message names the function called.
  if (input.alg !== undefined) checkTestKeyAlgorithm(WHERE, input.alg);
  const introspection = resolveIntrospection(input.introspection);
  const userinfo = optionalBoolean(`${WHERE}: \`userinfo\``, input.userinfo) ?? true;
  const issuerPath = path('issuerPath', input.issuerPath ?? DEFAULTS.issuerPath, true);
  const jwksPath = path('jwksPath', input.jwksPath ?? DEFAULTS.jwksPath, false);
  checkJWKSPathIsFree(jwksPath, issuerPath, { introspection: introspection !== undefined, userinfo });
  return Object.freeze({
    alg: input.alg ?? DEFAULTS.alg,
    keys: resolveKeys(input.keys),
    audience: input.audience === undefined ? DEFAULTS.audience : stringOrStrings(`${WHERE}: \`audience\``, input.audience),
    issuerPath,
    jwksPath,
    introspection,
    userinfo,
    // Node fires a longer timer at once, which would make 'slow' answer immediately.
    slowResponseMs: optionalNumber(`${WHERE}: \`slowResponseMs\``, input.slowResponseMs, 0, { max: MAX_TIMER_MS }) ?? DEFAULTS.slowResponseMs,
  });
}

/** Keys that fail later (a `null` JWKS entry, a crash in `sign()`) are refused here, where the mistake is. */
function resolveKeys(keys: unknown): readonly TestKey[] | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`${WHERE}: \`keys\` must be a non-empty array of keys from createTestKey()`);
  keys.forEach((key: unknown, i) => {
    if (!isTestKey(key)) throw new ConfigError(`${WHERE}: \`keys[${i}]\` is not a key from createTestKey()`);
  });
  return Object.freeze([...(keys as TestKey[])]);
}

/** A JWKS path that another endpoint also has would be shadowed by it (or shadow it). */
function checkJWKSPathIsFree(jwksPath: string, issuerPath: string, serve: { introspection: boolean; userinfo: boolean }): void {
  const taken = endpointPaths(issuerPath, jwksPath, serve).find(([path, endpoint]) => path === jwksPath && endpoint !== 'jwks');
  if (taken !== undefined) throw new ConfigError(`${WHERE}: \`jwksPath\` "${jwksPath}" is already the path of the ${taken[1]} endpoint`);
}

function resolveIntrospection(value: TestIssuerOptions['introspection']): IntrospectionClient | undefined {
  if (value === false) return undefined;
  if (value === undefined) return { clientId: DEFAULTS.clientId, clientSecret: DEFAULTS.clientSecret };
  rejectUnknownKeys(`${WHERE}: \`introspection\``, value, new Set(['clientId', 'clientSecret']));
  return Object.freeze({
    clientId: value.clientId === undefined ? DEFAULTS.clientId : requiredString(`${WHERE}: \`introspection.clientId\``, value.clientId),
    clientSecret: value.clientSecret === undefined ? DEFAULTS.clientSecret : requiredString(`${WHERE}: \`introspection.clientSecret\``, value.clientSecret),
  });
}

function path(name: string, value: string, allowEmpty: boolean): string {
  if (typeof value !== 'string' || (value === '' && !allowEmpty) || (value !== '' && !/^\/[\w\-./~%]*$/.test(value))) {
    throw new ConfigError(`${WHERE}: \`${name}\` must be ${allowEmpty ? 'empty or ' : ''}a path starting with "/"`);
  }
  return value;
}
