import { ConfigError } from './errors.js';
import type { ClientAuthMethod } from './introspection.js';
import { MAX_TIMER_MS, optionalBoolean, optionalNumber, rejectUnknownKeys, requiredString, type NumberRules } from './internal/option-checks.js';
import { checkFetchURL } from './internal/url-policy.js';

/** RFC 7662 introspection with this API's own client credentials. */
export interface IntrospectionOptions {
  /** This API's client id at the IdP (a client allowed to introspect other clients' tokens). Required. */
  clientId: string;
  /** Its client secret; sent only to the introspection endpoint, never logged. Required. */
  clientSecret: string;
  /** The introspection endpoint; default: `introspection_endpoint` from discovery. */
  endpoint?: string;
  /** `'client_secret_basic'` (HTTP Basic, the default) or `'client_secret_post'`. */
  authMethod?: ClientAuthMethod;
  /**
   * Accept an answer that carries no `aud` (one that has it must still name this API). For an IdP
   * whose tokens are issued without a resource indicator, as in the OIDC client-credentials flow,
   * whose answers then name no API: any active token of the IdP is accepted, and callers are told
   * apart by `sub` / `client_id`. Unlike `dangerouslyAllowMissingAudience`, this issuer's JWTs
   * verified locally still need an `aud` (with `tokenFormat: 'opaque'` every token is
   * introspected, and the answer decides). Default false.
   */
  allowMissingAudience?: boolean;
  /** Longest time an active answer is reused, in ms (never past the token's `exp`). Default 300 000. */
  cacheMaxAge?: number;
  /** How long an inactive answer is reused, in ms; 0 for never. Default 5 000. */
  negativeCacheMaxAge?: number;
  /**
   * Most accepted answers kept (also bounded to 64 MiB in all); refusals are kept apart, a tenth
   * as many, so a flood of unknown tokens never pushes accepted answers out. Default 10 000.
   */
  cacheMaxEntries?: number;
  /** Total deadline of one call, in ms. Default 5 000. */
  timeout?: number;
  /** Largest accepted answer, in bytes. Default 524 288. */
  maxResponseBytes?: number;
}

/** OIDC UserInfo as the check for opaque tokens (proves the IdP knows the token, not its audience). */
export type UserinfoOptions = Omit<IntrospectionOptions, 'clientId' | 'clientSecret' | 'authMethod'>;

/** Which tokens an issuer accepts: JWTs only, opaque only, or JWTs locally and anything else remotely. */
export type TokenFormat = 'jwt' | 'opaque' | 'jwt-or-opaque';

/** Resolved settings of the opaque-token path of one issuer. */
export interface ResolvedOpaqueOptions {
  readonly method: 'introspection' | 'userinfo';
  readonly endpoint: URL | undefined;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly authMethod: ClientAuthMethod;
  /** Introspection answers without `aud` are accepted (userinfo never checks an audience). */
  readonly allowMissingAudience: boolean;
  readonly cacheMaxAgeMs: number;
  readonly negativeTtlMs: number;
  readonly maxEntries: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

const DEFAULTS = { cacheMaxAge: 300_000, negativeCacheMaxAge: 5_000, cacheMaxEntries: 10_000, timeout: 5_000, maxResponseBytes: 524_288 } as const;
const COMMON_KEYS = ['endpoint', 'cacheMaxAge', 'negativeCacheMaxAge', 'cacheMaxEntries', 'timeout', 'maxResponseBytes'];
const INTROSPECTION_KEYS = new Set([...COMMON_KEYS, 'clientId', 'clientSecret', 'authMethod', 'allowMissingAudience']);
const USERINFO_KEYS = new Set(COMMON_KEYS);

/**
 * Checks the `introspection` / `userinfo` options of an issuer (at most one of them).
 * @returns `undefined` when the issuer accepts JWTs only
 * @throws ConfigError naming the option (never its value: it may be a secret)
 */
export function resolveOpaqueOptions(
  where: string,
  input: { introspection?: IntrospectionOptions | undefined; userinfo?: UserinfoOptions | boolean | undefined },
  allowHttpLoopback: boolean,
): ResolvedOpaqueOptions | undefined {
  const { introspection, userinfo } = input;
  if (introspection !== undefined && userinfo !== undefined && userinfo !== false) {
    throw new ConfigError(`${where} give \`introspection\` or \`userinfo\`, not both`);
  }
  if (introspection !== undefined) {
    rejectUnknownKeys(`${where} \`introspection\``, introspection, INTROSPECTION_KEYS);
    const authMethod = introspection.authMethod ?? 'client_secret_basic';
    if (authMethod !== 'client_secret_basic' && authMethod !== 'client_secret_post') {
      throw new ConfigError(`${where} \`introspection.authMethod\` must be 'client_secret_basic' or 'client_secret_post'`);
    }
    return {
      ...common(`${where} \`introspection`, introspection, allowHttpLoopback),
      method: 'introspection',
      clientId: requiredString(`${where} \`introspection.clientId\``, introspection.clientId),
      clientSecret: requiredString(`${where} \`introspection.clientSecret\``, introspection.clientSecret),
      authMethod,
      allowMissingAudience: optionalBoolean(`${where} \`introspection.allowMissingAudience\``, introspection.allowMissingAudience) ?? false,
    };
  }
  if (userinfo === undefined || userinfo === false) return undefined;
  const settings = userinfo === true ? {} : userinfo;
  rejectUnknownKeys(`${where} \`userinfo\``, settings, USERINFO_KEYS);
  return { ...common(`${where} \`userinfo`, settings, allowHttpLoopback), method: 'userinfo', clientId: '', clientSecret: '', authMethod: 'client_secret_basic', allowMissingAudience: false };
}

function common(prefix: string, input: UserinfoOptions, allowHttpLoopback: boolean) {
  const number = (name: keyof typeof DEFAULTS, min: number, rules?: NumberRules) => optionalNumber(`${prefix}.${name}\``, input[name], min, rules) ?? DEFAULTS[name];
  return {
    endpoint: input.endpoint === undefined ? undefined : checkFetchURL(`${prefix}.endpoint\``, input.endpoint, allowHttpLoopback),
    cacheMaxAgeMs: number('cacheMaxAge', 0),
    negativeTtlMs: number('negativeCacheMaxAge', 0),
    maxEntries: number('cacheMaxEntries', 1, { integer: true }),
    // Past the largest timer delay Node fires the timer at once: every call would time out.
    timeoutMs: number('timeout', 1, { max: MAX_TIMER_MS }),
    maxBytes: number('maxResponseBytes', 1, { integer: true }),
  };
}
