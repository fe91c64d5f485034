import type { AuditHooks } from './audit.js';
import { MAX_TOKEN_LENGTH } from './decode.js';
import { ConfigError } from './errors.js';
import { optionalBoolean, optionalFunction, optionalNumber, rejectUnknownKeys, requiredString } from './internal/option-checks.js';
import { ISSUER_KEYS, resolveIssuer, SHARED_ISSUER_KEYS, type IssuerOptions, type ResolvedIssuer } from './issuer-options.js';
import { revocationGateOf, type RevocationGate, type RevocationList } from './revocation.js';
import { isSharedStore, type SharedStore } from './store.js';

export type { SupportedAlgorithm } from './algorithms.js';
export type { IssuerOptions, JWKSCacheOptions, ResolvedIssuer } from './issuer-options.js';

/**
 * The options of `verifyToken` and `createVerifier`: one issuer's policy at the top level (or
 * several in `issuers`), plus how tokens are read, cached, audited, shared and revoked. Checked
 * once, at construction: a wrong one throws `ConfigError` naming it.
 */
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
  /**
   * Read the token yourself; replaces header, query and body extraction. Return `undefined` (or
   * `null`, as express-jwt's `getToken` does) when the request has none: 401, or passed on with
   * `credentialsRequired: false`. An empty string is empty credentials (400
   * `authorization_malformed`). (Express only.)
   */
  getToken?: (req: import('express').Request) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * State shared by a fleet (`createRedisStore()` from `bearer-guard/redis`): introspection
   * answers and the last good key sets. Default: none, every process stands alone.
   */
  store?: SharedStore;
  /** Rejects revoked tokens (`token_revoked`), cache hits included; from `createRevocationList()`. */
  revocations?: RevocationList;
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
  readonly store: SharedStore | undefined;
  readonly revocations: RevocationGate | undefined;
}

const DEFAULTS = {
  maxTokenLength: MAX_TOKEN_LENGTH,
  tokenCacheEntries: 10_000,
  realm: 'api',
} as const;

const TOP_LEVEL_KEYS = new Set<string>([
  ...ISSUER_KEYS, 'issuers', 'allowHttpLoopback', 'maxTokenLength', 'tokenCache', 'onVerified', 'onRejected',
  'realm', 'credentialsRequired', 'allowQueryToken', 'allowBodyToken', 'getToken', 'store', 'revocations',
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
  if (input.getToken !== undefined) {
    // `getToken` replaces extraction: turning these on next to it would be silently ignored.
    for (const key of ['allowQueryToken', 'allowBodyToken'] as const) {
      if (input[key] === true) throw new ConfigError(`${fn}: \`${key}\` has no effect with \`getToken\`, which replaces header, query and body extraction`);
    }
  }
  return Object.freeze({
    issuers,
    allowHttpLoopback,
    maxTokenLength: optionalNumber(`${fn}: \`maxTokenLength\``, input.maxTokenLength, 16, { integer: true }) ?? DEFAULTS.maxTokenLength,
    tokenCacheEntries: resolveTokenCache(fn, input.tokenCache),
    hooks: Object.freeze({
      onVerified: optionalFunction<AuditHooks['onVerified']>(`${fn}: \`onVerified\``, input.onVerified),
      onRejected: optionalFunction<AuditHooks['onRejected']>(`${fn}: \`onRejected\``, input.onRejected),
    }),
    realm: resolveRealm(fn, input.realm),
    credentialsRequired: optionalBoolean(`${fn}: \`credentialsRequired\``, input.credentialsRequired) ?? true,
    allowQueryToken: optionalBoolean(`${fn}: \`allowQueryToken\``, input.allowQueryToken) ?? false,
    allowBodyToken: optionalBoolean(`${fn}: \`allowBodyToken\``, input.allowBodyToken) ?? false,
    getToken: optionalFunction<VerifyTokenOptions['getToken']>(`${fn}: \`getToken\``, input.getToken),
    store: resolveStore(fn, input.store),
    revocations: resolveRevocations(fn, input.revocations),
  });
}

/** RFC 6750 §3: the realm is a quoted-string of these characters only; anything else is refused now, not rewritten per request. */
const REALM = /^[\x20-\x21\x23-\x5b\x5d-\x7e]+$/;

function resolveRealm(fn: string, value: unknown): string {
  if (value === undefined) return DEFAULTS.realm;
  const realm = requiredString(`${fn}: \`realm\``, value);
  if (!REALM.test(realm)) throw new ConfigError(`${fn}: \`realm\` may hold printable ASCII only, without \`"\` or \`\\\``);
  return realm;
}

function resolveStore(fn: string, value: unknown): SharedStore | undefined {
  if (value === undefined) return undefined;
  if (!isSharedStore(value)) throw new ConfigError(`${fn}: \`store\` must be a shared store, e.g. from \`createRedisStore()\``);
  return value;
}

function resolveRevocations(fn: string, value: unknown): RevocationGate | undefined {
  if (value === undefined) return undefined;
  const gate = revocationGateOf(value);
  if (gate === undefined) throw new ConfigError(`${fn}: \`revocations\` must come from \`createRevocationList()\``);
  return gate;
}

function resolveIssuers(fn: string, input: VerifyTokenOptions, allowHttpLoopback: boolean): readonly ResolvedIssuer[] {
  if (input.issuers === undefined) {
    if (input.issuer === undefined) throw new ConfigError(`${fn}: \`issuer\` is required (or \`issuers\` for several)`);
    return Object.freeze([resolveIssuer(`${fn}:`, input as IssuerOptions, allowHttpLoopback)]);
  }
  // Only the shared keys are defaults for every entry; any other issuer option at the top level
  // would be dropped, and silently dropping `introspection` or `tokenFormat` fails open.
  for (const key of ISSUER_KEYS) {
    if (input[key] !== undefined && !(SHARED_ISSUER_KEYS as readonly string[]).includes(key)) {
      throw new ConfigError(`${fn}: \`${key}\` belongs inside each \`issuers\` entry when \`issuers\` is used`);
    }
  }
  if (!Array.isArray(input.issuers) || input.issuers.length === 0) {
    throw new ConfigError(`${fn}: \`issuers\` must be a non-empty array`);
  }
  const shared = Object.fromEntries(SHARED_ISSUER_KEYS.filter((key) => input[key] !== undefined).map((key) => [key, input[key]]));
  const resolved = input.issuers.map((entry, index) => {
    rejectUnknownKeys(`${fn}: \`issuers[${index}]\``, entry, new Set(ISSUER_KEYS));
    return resolveIssuer(`${fn}: \`issuers[${index}]\`:`, { ...shared, ...definedOnly(entry) } as unknown as IssuerOptions, allowHttpLoopback);
  });
  if (resolved.filter((entry) => entry.opaque !== undefined).length > 1) {
    // An opaque token names no issuer, so only one issuer can be asked about it.
    throw new ConfigError(`${fn}: only one \`issuers\` entry may set \`introspection\` or \`userinfo\``);
  }
  const names = new Set<string>();
  for (const { issuer } of resolved) {
    if (names.has(issuer)) throw new ConfigError(`${fn}: \`issuers\` lists "${issuer}" twice`);
    names.add(issuer);
  }
  return Object.freeze(resolved);
}

function resolveTokenCache(fn: string, value: VerifyTokenOptions['tokenCache']): number {
  if (value === undefined) return DEFAULTS.tokenCacheEntries;
  if (value === false) return 0;
  rejectUnknownKeys(`${fn}: \`tokenCache\``, value, new Set(['maxEntries']));
  return optionalNumber(`${fn}: \`tokenCache.maxEntries\``, value.maxEntries, 1, { integer: true }) ?? DEFAULTS.tokenCacheEntries;
}

function definedOnly<T extends object>(record: T): Partial<T> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)) as Partial<T>;
}
