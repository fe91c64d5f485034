import { AT_JWT_REQUIRED_CLAIMS, type ClaimPolicy } from './claims.js';
import { MAX_TOKEN_LENGTH } from './decode.js';
import { ConfigError } from './errors.js';
import type { HeaderPolicy } from './header.js';
import { checkFetchURL } from './internal/url-policy.js';
import {
  optionalBoolean,
  optionalFunction,
  optionalNumber,
  rejectUnknownKeys,
  requiredString,
  stringOrStrings,
} from './internal/option-checks.js';
import type { MetadataDocument } from './discovery.js';
import type { JWKSClient, JWKSClientOptions } from './jwks-client.js';
import type { AuditHooks } from './audit.js';

/** Signature algorithms bearer-guard verifies (RFC 7518 §3); `none` and HMAC are never accepted. */
export type SupportedAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<SupportedAlgorithm>(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);

/** JWKS cache settings for the client bearer-guard creates from `jwksUri` (see `createJWKSClient`). */
export type JWKSCacheOptions = Omit<JWKSClientOptions, 'jwksUri' | 'allowHttpLoopback'>;

/** The policy for tokens of one issuer. */
export interface IssuerOptions {
  /** Expected `iss`, compared exactly. A URL enables discovery; a bare name (e.g. `auth.sophon.xyz`) needs `jwksUri`. */
  issuer: string;
  /** This API's identifier(s): one element of the token's `aud` must equal one of them. Required. */
  audience: string | readonly string[];
  /** Where the issuer's keys are; https (or loopback http with `allowHttpLoopback`). */
  jwksUri?: string;
  /**
   * Without `jwksUri`, the metadata document read from the issuer URL to find `jwks_uri`:
   * `'openid-configuration'` (OIDC Discovery) or `'oauth-authorization-server'` (RFC 8414).
   * Default `'openid-configuration'`.
   */
  discovery?: MetadataDocument;
  /** A client made with `createJWKSClient()`, instead of `jwksUri`. */
  jwksClient?: JWKSClient;
  /** Cache settings for the client made from `jwksUri`. */
  jwks?: JWKSCacheOptions;
  /** Accepted signature algorithms. Default `['RS256']`. */
  algorithms?: readonly SupportedAlgorithm[];
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`. Default 5. */
  clockTolerance?: number;
  /** Seconds after `iat` beyond which a token is refused (`iat` then required). Default: no limit. */
  maxTokenAge?: number;
  /** Claims that must be present, e.g. `['sub', 'jti']`. Default none. */
  requiredClaims?: readonly string[];
  /** `'at+jwt'`: accept only RFC 9068 JWT access tokens (typ and claims). Default: absent, `JWT` or `at+jwt`. */
  typ?: 'at+jwt';
  /**
   * Also accept tokens that carry no `aud` claim. Such a token was not issued for this API in
   * particular, so any service trusting this issuer could replay it here. Default false.
   */
  dangerouslyAllowMissingAudience?: boolean;
}

/** An audit event: never the token, only the claims that matter (unverified ones on rejection). */
export interface VerifyTokenOptions extends Partial<IssuerOptions>, AuditHooks {
  /** Several issuers, each with its own policy, in place of top-level `issuer` / `audience`. */
  issuers?: readonly IssuerOptions[];
  /** Allow `http:` key and metadata URLs on loopback hosts (tests, demos). Default false. */
  allowHttpLoopback?: boolean;
  /** Longest accepted token, in characters. Default 8192. */
  maxTokenLength?: number;
  /** Verified-token cache: `false` to turn off. Default on, 10 000 entries. */
  tokenCache?: false | { maxEntries?: number };
  /** `WWW-Authenticate` realm. Default `"api"`. (Express only.) */
  realm?: string;
  /** `false`: a request without a token passes with no `req.auth` (an invalid token is still refused). Default true. (Express only.) */
  credentialsRequired?: boolean;
  /** Accept `?access_token=` (RFC 6750 §2.3; tokens in URLs end up in logs). Default false. (Express only.) */
  allowQueryToken?: boolean;
  /** Accept a form-encoded `access_token` body field (RFC 6750 §2.2). Default false. (Express only.) */
  allowBodyToken?: boolean;
  /** Read the token yourself; replaces header, query and body extraction. (Express only.) */
  getToken?: (req: import('express').Request) => string | undefined | Promise<string | undefined>;
}

/** One issuer's policy, fully defaulted and frozen. */
export interface ResolvedIssuer extends ClaimPolicy, HeaderPolicy {
  readonly jwksUri: URL | undefined;
  readonly jwksClient: JWKSClient | undefined;
  readonly jwks: JWKSCacheOptions | undefined;
  readonly discovery: MetadataDocument;
}

/** Every option, fully defaulted and frozen. */
export interface ResolvedOptions {
  readonly issuers: readonly ResolvedIssuer[];
  readonly allowHttpLoopback: boolean;
  readonly maxTokenLength: number;
  readonly tokenCacheEntries: number;
  readonly hooks: AuditHooks;
  readonly realm: string;
  readonly credentialsRequired: boolean;
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly getToken: VerifyTokenOptions['getToken'];
}

const DEFAULTS = {
  algorithms: ['RS256'] as readonly SupportedAlgorithm[],
  clockTolerance: 5,
  maxTokenLength: MAX_TOKEN_LENGTH,
  tokenCacheEntries: 10_000,
  realm: 'api',
} as const;

const ISSUER_KEYS = ['issuer', 'audience', 'jwksUri', 'jwksClient', 'jwks', 'discovery', 'algorithms', 'clockTolerance', 'maxTokenAge', 'requiredClaims', 'typ', 'dangerouslyAllowMissingAudience'] as const;
/** Issuer fields that may also stand at the top level as defaults for every `issuers` entry. */
const SHARED_ISSUER_KEYS = ['jwks', 'discovery', 'algorithms', 'clockTolerance', 'maxTokenAge', 'requiredClaims', 'typ', 'dangerouslyAllowMissingAudience'] as const;
const TOP_LEVEL_KEYS = new Set<string>([
  ...ISSUER_KEYS, 'issuers', 'allowHttpLoopback', 'maxTokenLength', 'tokenCache', 'onVerified', 'onRejected',
  'realm', 'credentialsRequired', 'allowQueryToken', 'allowBodyToken', 'getToken',
]);

/**
 * Validates options once, at construction, and fills in defaults.
 * @param fn the public function name that starts every message (`verifyToken`, `createVerifier`)
 * @throws ConfigError naming the first wrong option
 */
export function resolveOptions(fn: string, input: VerifyTokenOptions): ResolvedOptions {
  rejectUnknownKeys(fn, input, TOP_LEVEL_KEYS);
  const allowHttpLoopback = optionalBoolean(`${fn}: \`allowHttpLoopback\``, input.allowHttpLoopback) ?? false;
  const issuers = resolveIssuers(fn, input, allowHttpLoopback);
  return Object.freeze({
    issuers,
    allowHttpLoopback,
    maxTokenLength: optionalNumber(`${fn}: \`maxTokenLength\``, input.maxTokenLength, 16) ?? DEFAULTS.maxTokenLength,
    tokenCacheEntries: resolveTokenCache(fn, input.tokenCache),
    hooks: Object.freeze({
      onVerified: optionalFunction<AuditHooks['onVerified']>(`${fn}: \`onVerified\``, input.onVerified),
      onRejected: optionalFunction<AuditHooks['onRejected']>(`${fn}: \`onRejected\``, input.onRejected),
    }),
    realm: input.realm === undefined ? DEFAULTS.realm : requiredString(`${fn}: \`realm\``, input.realm),
    credentialsRequired: optionalBoolean(`${fn}: \`credentialsRequired\``, input.credentialsRequired) ?? true,
    allowQueryToken: optionalBoolean(`${fn}: \`allowQueryToken\``, input.allowQueryToken) ?? false,
    allowBodyToken: optionalBoolean(`${fn}: \`allowBodyToken\``, input.allowBodyToken) ?? false,
    getToken: optionalFunction<VerifyTokenOptions['getToken']>(`${fn}: \`getToken\``, input.getToken),
  });
}

function resolveIssuers(fn: string, input: VerifyTokenOptions, allowHttpLoopback: boolean): readonly ResolvedIssuer[] {
  if (input.issuers === undefined) {
    if (input.issuer === undefined) throw new ConfigError(`${fn}: \`issuer\` is required (or \`issuers\` for several)`);
    return Object.freeze([resolveIssuer(`${fn}:`, input as IssuerOptions, allowHttpLoopback)]);
  }
  for (const key of ['issuer', 'audience', 'jwksUri', 'jwksClient'] as const) {
    if (input[key] !== undefined) throw new ConfigError(`${fn}: \`${key}\` belongs inside each \`issuers\` entry when \`issuers\` is used`);
  }
  if (!Array.isArray(input.issuers) || input.issuers.length === 0) {
    throw new ConfigError(`${fn}: \`issuers\` must be a non-empty array`);
  }
  const shared = Object.fromEntries(SHARED_ISSUER_KEYS.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
  const resolved = input.issuers.map((entry, index) => {
    rejectUnknownKeys(`${fn}: \`issuers[${index}]\``, entry, new Set(ISSUER_KEYS));
    return resolveIssuer(`${fn}: \`issuers[${index}]\`:`, { ...shared, ...definedOnly(entry) } as unknown as IssuerOptions, allowHttpLoopback);
  });
  const names = new Set<string>();
  for (const { issuer } of resolved) {
    if (names.has(issuer)) throw new ConfigError(`${fn}: \`issuers\` lists "${issuer}" twice`);
    names.add(issuer);
  }
  return Object.freeze(resolved);
}

function resolveIssuer(where: string, input: IssuerOptions, allowHttpLoopback: boolean): ResolvedIssuer {
  const issuer = requiredString(`${where} \`issuer\``, input.issuer);
  const audiences = stringOrStrings(`${where} \`audience\``, input.audience);
  const typ = input.typ;
  if (typ !== undefined && typ !== 'at+jwt') throw new ConfigError(`${where} \`typ\` must be 'at+jwt' or left out`);
  if (input.jwksUri !== undefined && input.jwksClient !== undefined) {
    throw new ConfigError(`${where} give \`jwksUri\` or \`jwksClient\`, not both`);
  }
  if (input.jwksClient !== undefined && input.jwks !== undefined) {
    throw new ConfigError(`${where} \`jwks\` cache settings belong to \`createJWKSClient()\` when \`jwksClient\` is given`);
  }
  const jwksUri = input.jwksUri === undefined ? undefined : checkFetchURL(`${where} \`jwksUri\``, input.jwksUri, allowHttpLoopback);
  if (jwksUri === undefined && input.jwksClient === undefined) checkDiscoverable(where, issuer, allowHttpLoopback);
  const discovery = input.discovery ?? 'openid-configuration';
  if (discovery !== 'openid-configuration' && discovery !== 'oauth-authorization-server') {
    throw new ConfigError(`${where} \`discovery\` must be 'openid-configuration' or 'oauth-authorization-server'`);
  }
  const requiredClaims = input.requiredClaims === undefined ? [] : stringOrStrings(`${where} \`requiredClaims\``, input.requiredClaims);
  return Object.freeze({
    issuer,
    audiences,
    allowMissingAudience: optionalBoolean(`${where} \`dangerouslyAllowMissingAudience\``, input.dangerouslyAllowMissingAudience) ?? false,
    algorithms: resolveAlgorithms(where, input.algorithms),
    clockTolerance: optionalNumber(`${where} \`clockTolerance\``, input.clockTolerance, 0) ?? DEFAULTS.clockTolerance,
    maxTokenAge: optionalNumber(`${where} \`maxTokenAge\``, input.maxTokenAge, 1),
    // RFC 9068 §2.2: an at+jwt must carry these, whatever else the API requires.
    requiredClaims: Object.freeze(typ === 'at+jwt' ? [...new Set([...AT_JWT_REQUIRED_CLAIMS, ...requiredClaims])] : [...requiredClaims]),
    typ,
    jwksUri,
    jwksClient: input.jwksClient,
    jwks: input.jwks === undefined ? undefined : Object.freeze({ ...input.jwks }),
    discovery,
  });
}

function resolveAlgorithms(where: string, value: unknown): readonly SupportedAlgorithm[] {
  if (value === undefined) return DEFAULTS.algorithms;
  const algorithms = stringOrStrings(`${where} \`algorithms\``, value);
  for (const alg of algorithms) {
    if (alg === 'none' || alg.startsWith('HS')) {
      throw new ConfigError(`${where} \`algorithms\` must not contain "${alg}": keys from a JWKS are public, so ${alg === 'none' ? 'unsigned tokens' : 'HMAC'} would let anyone mint tokens`);
    }
    if (!SUPPORTED_ALGORITHMS.has(alg)) {
      throw new ConfigError(`${where} \`algorithms\` contains unsupported "${alg}" (supported: ${[...SUPPORTED_ALGORITHMS].join(', ')})`);
    }
  }
  return algorithms as readonly SupportedAlgorithm[];
}

function checkDiscoverable(where: string, issuer: string, allowHttpLoopback: boolean): void {
  if (!/^https?:\/\//i.test(issuer)) {
    throw new ConfigError(`${where} \`issuer\` "${issuer}" is not a URL, so its keys cannot be discovered: give \`jwksUri\``);
  }
  checkFetchURL(`${where} \`issuer\` (used for discovery without \`jwksUri\`)`, issuer, allowHttpLoopback);
}

function resolveTokenCache(fn: string, value: VerifyTokenOptions['tokenCache']): number {
  if (value === undefined) return DEFAULTS.tokenCacheEntries;
  if (value === false) return 0;
  rejectUnknownKeys(`${fn}: \`tokenCache\``, value, new Set(['maxEntries']));
  return optionalNumber(`${fn}: \`tokenCache.maxEntries\``, value.maxEntries, 1) ?? DEFAULTS.tokenCacheEntries;
}

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
