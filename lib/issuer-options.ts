import { resolveAlgorithms, type SupportedAlgorithm } from './algorithms.js';
import { AT_JWT_REQUIRED_CLAIMS, type ClaimPolicy } from './claims.js';
import type { MetadataDocument } from './discovery.js';
import { ConfigError } from './errors.js';
import type { HeaderPolicy } from './header.js';
import { optionalBoolean, optionalNumber, requiredString, stringOrStrings } from './internal/option-checks.js';
import { checkFetchURL } from './internal/url-policy.js';
import { isJWKSClient, type JWKSClient, type JWKSClientOptions } from './jwks-client.js';
import { checkJWKSCacheOptions } from './jwks-options.js';
import { resolveOpaqueOptions, type IntrospectionOptions, type ResolvedOpaqueOptions, type TokenFormat, type UserinfoOptions } from './opaque-options.js';

/** JWKS cache settings for the client bearer-guard creates from `jwksUri` (see `createJWKSClient`). */
export type JWKSCacheOptions = Omit<JWKSClientOptions, 'jwksUri' | 'allowHttpLoopback' | 'store'>;

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
  /** Seconds of clock skew allowed on `exp`, `nbf` and `iat`, at most 600. Default 5. */
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
  /** Check opaque tokens by RFC 7662 introspection with this API's own client credentials. */
  introspection?: IntrospectionOptions;
  /**
   * Check opaque tokens with the OIDC UserInfo endpoint (`true`, or settings). It proves the IdP
   * knows the token, not that it was meant for this API: for APIs that accept any token of this IdP.
   */
  userinfo?: UserinfoOptions | boolean;
  /**
   * Which tokens this issuer's path takes: `'jwt'` (verified locally), `'opaque'` (every token
   * by introspection/userinfo) or `'jwt-or-opaque'` (three-segment tokens locally, anything else
   * remotely; a JWT that fails locally is never retried remotely). Default `'jwt'`, or
   * `'jwt-or-opaque'` when `introspection` or `userinfo` is set.
   */
  tokenFormat?: TokenFormat;
}

/** One issuer's policy, fully defaulted and frozen. */
export interface ResolvedIssuer extends ClaimPolicy, HeaderPolicy {
  readonly jwksUri: URL | undefined;
  readonly jwksClient: JWKSClient | undefined;
  readonly jwks: JWKSCacheOptions | undefined;
  readonly discovery: MetadataDocument;
  readonly tokenFormat: TokenFormat;
  /** The opaque-token path, when `introspection` or `userinfo` is configured. */
  readonly opaque: ResolvedOpaqueOptions | undefined;
}

/** Option names an `issuers` entry may have. */
export const ISSUER_KEYS = [
  'issuer', 'audience', 'jwksUri', 'jwksClient', 'jwks', 'discovery', 'algorithms', 'clockTolerance', 'maxTokenAge',
  'requiredClaims', 'typ', 'dangerouslyAllowMissingAudience', 'introspection', 'userinfo', 'tokenFormat',
] as const;
/** Issuer fields that may also stand at the top level as defaults for every `issuers` entry. */
export const SHARED_ISSUER_KEYS = ['jwks', 'discovery', 'algorithms', 'clockTolerance', 'maxTokenAge', 'requiredClaims', 'typ', 'dangerouslyAllowMissingAudience'] as const;

const DEFAULTS = {
  algorithms: ['RS256'] as readonly SupportedAlgorithm[],
  clockTolerance: 5,
} as const;

/**
 * The most skew `clockTolerance` may allow: every expired token is accepted for that long. Real
 * skew is seconds; a larger value is almost always milliseconds given for seconds (5000 for 5 s).
 */
const MAX_CLOCK_TOLERANCE_SEC = 600;

/**
 * Validates one issuer's policy and fills in defaults.
 * @param where the start of every message, e.g. "verifyToken:" or "verifyToken: `issuers[1]`:"
 * @throws ConfigError naming the first wrong option
 */
export function resolveIssuer(where: string, input: IssuerOptions, allowHttpLoopback: boolean): ResolvedIssuer {
  const issuer = requiredString(`${where} \`issuer\``, input.issuer);
  const audiences = stringOrStrings(`${where} \`audience\``, input.audience);
  const typ = input.typ;
  if (typ !== undefined && typ !== 'at+jwt') throw new ConfigError(`${where} \`typ\` must be 'at+jwt' or left out`);
  if (input.jwksUri !== undefined && input.jwksClient !== undefined) {
    throw new ConfigError(`${where} give \`jwksUri\` or \`jwksClient\`, not both`);
  }
  if (input.jwksClient !== undefined && !isJWKSClient(input.jwksClient)) {
    throw new ConfigError(`${where} \`jwksClient\` must come from \`createJWKSClient()\``);
  }
  if (input.jwksClient !== undefined && input.jwks !== undefined) {
    throw new ConfigError(`${where} \`jwks\` cache settings belong to \`createJWKSClient()\` when \`jwksClient\` is given`);
  }
  if (input.jwks !== undefined) checkJWKSCacheOptions(where, input.jwks);
  const jwksUri = input.jwksUri === undefined ? undefined : checkFetchURL(`${where} \`jwksUri\``, input.jwksUri, allowHttpLoopback);
  // Discovery is needed for keys without `jwksUri`/`jwksClient`, and for an opaque endpoint not given.
  if (jwksUri === undefined && input.jwksClient === undefined && input.tokenFormat !== 'opaque') checkDiscoverable(where, issuer, allowHttpLoopback, 'jwksUri');
  const discovery = input.discovery ?? 'openid-configuration';
  if (discovery !== 'openid-configuration' && discovery !== 'oauth-authorization-server') {
    throw new ConfigError(`${where} \`discovery\` must be 'openid-configuration' or 'oauth-authorization-server'`);
  }
  const opaque = resolveOpaqueOptions(where, input, allowHttpLoopback);
  const tokenFormat = input.tokenFormat ?? (opaque === undefined ? 'jwt' : 'jwt-or-opaque');
  if (tokenFormat !== 'jwt' && tokenFormat !== 'opaque' && tokenFormat !== 'jwt-or-opaque') {
    throw new ConfigError(`${where} \`tokenFormat\` must be 'jwt', 'opaque' or 'jwt-or-opaque'`);
  }
  if (tokenFormat !== 'jwt' && opaque === undefined) {
    throw new ConfigError(`${where} \`tokenFormat: '${tokenFormat}'\` needs \`introspection\` or \`userinfo\` to check opaque tokens`);
  }
  if (opaque !== undefined && opaque.endpoint === undefined) checkDiscoverable(where, issuer, allowHttpLoopback, `${opaque.method}.endpoint`);
  const requiredClaims = input.requiredClaims === undefined ? [] : stringOrStrings(`${where} \`requiredClaims\``, input.requiredClaims);
  return Object.freeze({
    issuer,
    audiences,
    allowMissingAudience: optionalBoolean(`${where} \`dangerouslyAllowMissingAudience\``, input.dangerouslyAllowMissingAudience) ?? false,
    algorithms: input.algorithms === undefined ? DEFAULTS.algorithms : resolveAlgorithms(where, input.algorithms),
    clockTolerance: optionalNumber(`${where} \`clockTolerance\``, input.clockTolerance, 0, { max: MAX_CLOCK_TOLERANCE_SEC, unit: 'seconds' }) ?? DEFAULTS.clockTolerance,
    maxTokenAge: optionalNumber(`${where} \`maxTokenAge\``, input.maxTokenAge, 1, { unit: 'seconds' }),
    // RFC 9068 §2.2: an at+jwt must carry these, whatever else the API requires.
    requiredClaims: Object.freeze(typ === 'at+jwt' ? [...new Set([...AT_JWT_REQUIRED_CLAIMS, ...requiredClaims])] : [...requiredClaims]),
    typ,
    jwksUri,
    jwksClient: input.jwksClient,
    jwks: input.jwks === undefined ? undefined : Object.freeze({ ...input.jwks }),
    discovery,
    tokenFormat,
    opaque,
  });
}

function checkDiscoverable(where: string, issuer: string, allowHttpLoopback: boolean, missing: string): void {
  if (!/^https?:\/\//i.test(issuer)) {
    throw new ConfigError(`${where} \`issuer\` "${issuer}" is not a URL, so its keys cannot be discovered: give \`${missing}\``);
  }
  checkFetchURL(`${where} \`issuer\` (used for discovery without \`${missing}\`)`, issuer, allowHttpLoopback);
}

