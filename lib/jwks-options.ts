import { ConfigError } from './errors.js';
import { MAX_TIMER_MS, optionalNumber, rejectUnknownKeys, type NumberRules } from './internal/option-checks.js';
import { isPlainObject } from './internal/safe-json.js';
import { checkFetchURL } from './internal/url-policy.js';
import { isSharedStore, type SharedStore } from './store.js';

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
const OPTION_NAMES = new Set(['jwksUri', 'allowHttpLoopback', 'store', 'cache', 'rateLimit', ...Object.keys(DEFAULTS)]);

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
  for (const name of ['cache', 'rateLimit'] as const) {
    if (input[name] !== undefined && input[name] !== true) {
      throw new ConfigError(`${WHERE}: \`${name}\` must be true or absent; bearer-guard always caches and rate-limits key fetches`);
    }
  }
  if (input.allowHttpLoopback !== undefined && typeof input.allowHttpLoopback !== 'boolean') {
    throw new ConfigError(`${WHERE}: \`allowHttpLoopback\` must be a boolean`);
  }
  const allowHttpLoopback = input.allowHttpLoopback === true;
  if (input.store !== undefined && !isSharedStore(input.store)) {
    throw new ConfigError(`${WHERE}: \`store\` must be a shared store, e.g. from \`createRedisStore()\``);
  }
  const number = (name: keyof typeof DEFAULTS, min: number, rules?: NumberRules) =>
    // `?? undefined`: a `null` here has always meant the default, like an absent option
    optionalNumber(`${WHERE}: \`${name}\``, input[name] ?? undefined, min, rules) ?? DEFAULTS[name];
  return Object.freeze({
    jwksUri: checkFetchURL(`${WHERE}: \`jwksUri\``, input.jwksUri, allowHttpLoopback),
    cacheMaxAge: number('cacheMaxAge', 0, { exclusiveMin: true }),
    cacheMaxAgeFallback: number('cacheMaxAgeFallback', 0),
    cooldown: number('cooldown', 0, { exclusiveMin: true }),
    timeout: number('timeout', 0, { exclusiveMin: true, max: MAX_TIMER_MS }),
    maxResponseBytes: number('maxResponseBytes', 1, { integer: true }),
    cacheMaxEntries: number('cacheMaxEntries', 1, { integer: true }),
    allowHttpLoopback,
    store: input.store as SharedStore | undefined,
  });
}

/** One string per distinct configuration: clients with equal keys are the same client. */
export function registryKey(options: ResolvedJWKSClientOptions): string {
  return JSON.stringify({ ...options, jwksUri: options.jwksUri.href, store: storeId(options.store) });
}

const STORE_IDS = new WeakMap<SharedStore, number>();
let storeCount = 0;

/** A number per store object: clients sharing keys through different stores are different clients. */
function storeId(store: SharedStore | undefined): number {
  if (store === undefined) return 0;
  let id = STORE_IDS.get(store);
  if (id === undefined) {
    id = ++storeCount;
    STORE_IDS.set(store, id);
  }
  return id;
}
