import { ConfigError } from './errors.js';
import { MAX_TIMER_MS, optionalNumber, rejectUnknownKeys, type NumberRules } from './internal/option-checks.js';
import { isPlainObject } from './internal/safe-json.js';
import { checkFetchURL } from './internal/url-policy.js';
import { isSharedStore, storeId, type SharedStore } from './store.js';

/** Options of `createJWKSClient`. Names and units follow jwks-rsa where it has the option. */
export interface JWKSClientOptions {
  /** The JWKS URL: `https:`, or `http:` on loopback with `allowHttpLoopback`. Required. */
  jwksUri: string;
  /** How long a fetched key set is fresh, in ms. Default 600 000 (10 min). */
  cacheMaxAge?: number;
  /**
   * How long past `cacheMaxAge` the last good set is still served, in ms, while it is refreshed
   * in the background or the endpoint fails: stale keys are used while
   * `now - lastFetchedAt < cacheMaxAge + cacheMaxAgeFallback`. `0` never serves a stale set.
   * Default 3 600 000 (1 h).
   */
  cacheMaxAgeFallback?: number;
  /**
   * Least interval between fetches not forced by an expired set, in ms: a refetch for an
   * unknown `kid`, or a retry after a failed fetch. Default 30 000.
   */
  cooldown?: number;
  /** Total deadline of one fetch (connect, headers and body), in ms. Default 5 000. */
  timeout?: number;
  /** Largest accepted JWKS body, in bytes. Default 524 288 (512 KiB). */
  maxResponseBytes?: number;
  /** Most keys kept from one set (the first ones that pass key policy). Default 100. */
  cacheMaxEntries?: number;
  /** Allows `http:` for loopback hosts (tests, demos). Default `false`. */
  allowHttpLoopback?: boolean;
  /** Shares fetched key sets with a fleet (see `createRedisStore`): a cold instance can start during an outage. */
  store?: SharedStore;
  /** Accepted so jwks-rsa configurations paste in unchanged; only `true` is allowed. */
  cache?: boolean;
  /** Accepted so jwks-rsa configurations paste in unchanged; only `true` is allowed. */
  rateLimit?: boolean;
}

/** `JWKSClientOptions` checked and with every default applied. */
export interface ResolvedJWKSClientOptions {
  readonly jwksUri: URL;
  readonly cacheMaxAge: number;
  readonly cacheMaxAgeFallback: number;
  readonly cooldown: number;
  readonly timeout: number;
  readonly maxResponseBytes: number;
  readonly cacheMaxEntries: number;
  readonly allowHttpLoopback: boolean;
  readonly store: SharedStore | undefined;
}

const WHERE = 'createJWKSClient';
const DEFAULTS = {
  cacheMaxAge: 600_000,
  cacheMaxAgeFallback: 3_600_000,
  cooldown: 30_000,
  timeout: 5_000,
  maxResponseBytes: 524_288,
  cacheMaxEntries: 100,
} as const;
const CACHE_OPTION_NAMES = new Set(['cache', 'rateLimit', ...Object.keys(DEFAULTS)]);
const OPTION_NAMES = new Set(['jwksUri', 'allowHttpLoopback', 'store', ...CACHE_OPTION_NAMES]);

/**
 * Checks `createJWKSClient` options once, at construction.
 * @throws ConfigError starting with `createJWKSClient:` and naming the option
 */
export function resolveJWKSClientOptions(input: unknown): ResolvedJWKSClientOptions {
  if (isPlainObject(input) && 'jwksRequestsPerMinute' in input) {
    throw new ConfigError(`${WHERE}: unknown option \`jwksRequestsPerMinute\`; use \`cooldown\` (ms between refetches for unknown kids)`);
  }
  rejectUnknownKeys(WHERE, input, OPTION_NAMES);
  if (!isPlainObject(input)) throw new ConfigError(`${WHERE}: options must be an object`);
  checkCompatibilityFlags((name) => `${WHERE}: \`${name}\``, input);
  if (input.allowHttpLoopback !== undefined && typeof input.allowHttpLoopback !== 'boolean') {
    throw new ConfigError(`${WHERE}: \`allowHttpLoopback\` must be a boolean`);
  }
  const allowHttpLoopback = input.allowHttpLoopback === true;
  if (input.store !== undefined && !isSharedStore(input.store)) {
    throw new ConfigError(`${WHERE}: \`store\` must be a shared store, e.g. from \`createRedisStore()\``);
  }
  return Object.freeze({
    jwksUri: checkFetchURL(`${WHERE}: \`jwksUri\``, input.jwksUri, allowHttpLoopback),
    ...cacheSettings((name) => `${WHERE}: \`${name}\``, input),
    allowHttpLoopback,
    store: input.store as SharedStore | undefined,
  });
}

/**
 * One string per distinct configuration: clients with equal keys are the same client. Settings
 * that change nothing leave the key alone: `allowHttpLoopback` only matters for an `http:` URL.
 */
export function registryKey(options: ResolvedJWKSClientOptions): string {
  const allowHttpLoopback = options.jwksUri.protocol === 'http:' && options.allowHttpLoopback;
  return JSON.stringify({ ...options, jwksUri: options.jwksUri.href, allowHttpLoopback, store: storeId(options.store) });
}


/**
 * Checks the cache settings `verifyToken` and `createVerifier` take as `jwks` (the same rules as
 * `createJWKSClient`'s), at startup, with messages naming them as the caller wrote them.
 * @param where the start of every message, e.g. "verifyToken:" or "verifyToken: `issuers[1]`:"
 * @throws ConfigError, e.g. "verifyToken: `jwks.timeout` must be a number > 0 and ≤ 2147483647"
 */
export function checkJWKSCacheOptions(where: string, input: unknown): void {
  rejectUnknownKeys(`${where} \`jwks\``, input, CACHE_OPTION_NAMES);
  if (!isPlainObject(input)) throw new ConfigError(`${where} \`jwks\` must be an object`);
  const label = (name: string): string => `${where} \`jwks.${name}\``;
  checkCompatibilityFlags(label, input);
  cacheSettings(label, input);
}

/** jwks-rsa's `cache` and `rateLimit`: accepted so its configurations paste in, but never turned off. */
function checkCompatibilityFlags(label: (name: string) => string, input: Record<string, unknown>): void {
  for (const name of ['cache', 'rateLimit'] as const) {
    if (input[name] !== undefined && input[name] !== true) {
      throw new ConfigError(`${label(name)} must be true or absent; bearer-guard always caches and rate-limits key fetches`);
    }
  }
}

/** The cache settings, checked, with defaults applied; `label` names an option in a message. */
function cacheSettings(label: (name: string) => string, input: Record<string, unknown>): Omit<ResolvedJWKSClientOptions, 'jwksUri' | 'allowHttpLoopback' | 'store'> {
  const number = (name: keyof typeof DEFAULTS, min: number, rules?: NumberRules) =>
    optionalNumber(label(name), input[name], min, rules) ?? DEFAULTS[name];
  return {
    cacheMaxAge: number('cacheMaxAge', 0, { exclusiveMin: true }),
    cacheMaxAgeFallback: number('cacheMaxAgeFallback', 0),
    cooldown: number('cooldown', 0, { exclusiveMin: true }),
    timeout: number('timeout', 0, { exclusiveMin: true, max: MAX_TIMER_MS }),
    maxResponseBytes: number('maxResponseBytes', 1, { integer: true }),
    cacheMaxEntries: number('cacheMaxEntries', 1, { integer: true }),
  };
}
