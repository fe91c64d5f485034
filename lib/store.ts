/**
 * Where outage warnings go. bearer-guard calls `warn` once when a shared store becomes
 * unreachable (and once when a revocation mirror falls out of sync past its bound), and `info`,
 * when given, once when it is back. Messages never contain a token, a claim value or a secret.
 */
export interface StoreLogger {
  /** An outage began (or a revocation mirror fell out of sync). */
  warn(message: string): void;
  /** It ended. */
  info?(message: string): void;
}

/** A member of a set whose members expire one by one (revocations). */
export interface ExpiringMember {
  readonly member: string;
  /** `Date.now()`-based time after which the member is gone. */
  readonly expiresAtMs: number;
}

/** A live subscription to a channel; `close()` ends it. */
export interface StoreSubscription {
  /** Stops delivery to this subscription's listener. */
  close(): Promise<void>;
}

/**
 * State shared by a fleet of API instances: what `verifyToken({ store })` and
 * `createRevocationList({ store })` use. `createRedisStore()` (from `bearer-guard/redis`) is
 * the implementation bearer-guard ships; the core knows only this interface.
 *
 * Keys are logical (`introspection:…`); an implementation adds its own namespace. Every method
 * may reject: bearer-guard then falls back to per-process behaviour for that call. bearer-guard
 * itself abandons any call after `timeoutMs`, so a slow store costs at most that.
 * An implementation may sign what it stores (`createRedisStore({ secret })`): a value that fails
 * its check must then read as absent, never as an error.
 */
export interface SharedStore {
  /** Longest one call may take, in ms; bearer-guard gives up on a call after this. */
  readonly timeoutMs: number;
  /** Where outage warnings go; `undefined` for none. */
  readonly logger: StoreLogger | undefined;
  /**
   * True when `get` returns only values an instance of this fleet wrote (`createRedisStore({ secret })`
   * checks an HMAC tag). Absent or false (the default): whoever can write to the store is trusted
   * as far as an unsigned store allows (answers, key sets, the `jwks_uri` of the fleet's metadata
   * copy) but never with where the API sends its client credentials or its callers' tokens: the
   * `introspection_endpoint` and `userinfo_endpoint` of that copy are not used.
   */
  readonly signsValues?: boolean;
  /** The value, or `undefined` when absent or expired. */
  get(key: string): Promise<string | undefined>;
  /** Sets a value that expires after `ttlMs` (≥ 1). */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /** Sets a value only when the key is absent (a lock); true when this call set it. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  /** Removes a key (a lock that is no longer needed). */
  delete(key: string): Promise<void>;
  /** Adds (or re-dates) a member of a set; it expires at `expiresAtMs`. */
  addMember(key: string, member: string, expiresAtMs: number): Promise<void>;
  /** Every member of a set that has not expired by `nowMs`. */
  members(key: string, nowMs: number): Promise<readonly ExpiringMember[]>;
  /** Sends a message to every subscriber of a channel (delivery is best-effort). */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Calls `onMessage` for each message published on `channel` from now on, across reconnects.
   * Messages sent while the connection was down are lost: callers re-read what they need.
   */
  subscribe(channel: string, onMessage: (message: string) => void): Promise<StoreSubscription>;
}

const METHODS = ['get', 'set', 'setIfAbsent', 'delete', 'addMember', 'members', 'publish', 'subscribe'] as const;

/** True for an object with every `SharedStore` method and a positive `timeoutMs`. */
export function isSharedStore(value: unknown): value is SharedStore {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  const timeoutMs = candidate.timeoutMs;
  return typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs) && METHODS.every((name) => typeof candidate[name] === 'function');
}

const STORE_IDS = new WeakMap<SharedStore, number>();
let storeCount = 0;

/**
 * A number per store object (0 for none), for cache keys: what two verifiers share through
 * different stores, or one with a store and one without, must not be the same cache entry.
 */
export function storeId(store: SharedStore | undefined): number {
  if (store === undefined) return 0;
  let id = STORE_IDS.get(store);
  if (id === undefined) {
    id = ++storeCount;
    STORE_IDS.set(store, id);
  }
  return id;
}
