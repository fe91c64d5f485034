import { ConfigError } from '../errors.js';
import { optionalNumber, rejectUnknownKeys } from '../internal/option-checks.js';
import type { ExpiringMember, SharedStore, StoreLogger } from '../store.js';
import { readMembers } from './reply.js';
import { createSignedValues, resolveSecrets, type RedisStoreSecret } from './signed-values.js';
import { createSubscriber } from './subscriber.js';

/**
 * The parts of a node-redis (`redis` 6) client the store uses: what `createClient()` returns.
 * Typed structurally so that any of its generic variants (modules, RESP 2 or 3) fits.
 */
export interface RedisClientLike {
  /** True while connected: calls are made only then, never queued. */
  readonly isReady: boolean;
  /** Runs one command, with node-redis's own per-command `timeout` (ms). */
  sendCommand(args: string[], options?: { timeout?: number }): Promise<unknown>;
  /** A new client with the same options, for the pub/sub connection (RESP 2 needs its own). */
  duplicate(): RedisSubscriberLike;
}

/** The parts of a duplicated client the store's subscriber connection uses. */
export interface RedisSubscriberLike {
  /** True while connected. */
  readonly isReady: boolean;
  /** Opens the connection (node-redis retries by itself). */
  connect(): Promise<unknown>;
  /** Where connection errors go (handled: outages surface through the main client). */
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** Adds a listener to a channel; node-redis re-subscribes after a reconnect. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  /** Removes that listener. */
  unsubscribe(channel: string, listener: (message: string, channel: string) => void): Promise<void>;
  /** Closes the connection at once. */
  destroy(): void;
  /** Lets the process exit while the connection is open. */
  unref(): void;
}

/** Options of `createRedisStore`. */
export interface RedisStoreOptions {
  /** A connected node-redis client; the app owns it (connects, handles `'error'`, closes). Required. */
  client: RedisClientLike;
  /** Prepended to every key and channel, so several apps can share one Redis. Default `'bearer-guard:'`. */
  prefix?: string;
  /** Longest one Redis call may take, in ms; then that call falls back to per-process behaviour. Default 250. */
  timeout?: number;
  /** Where the once-per-outage warning goes; `false` for nowhere. Default `console`. */
  logger?: StoreLogger | false;
  /**
   * Signs what the fleet trusts, so that write access to Redis alone cannot make it accept a
   * token: a string of ≥ 32 characters (e.g. `randomBytes(32).toString('base64url')`) or a
   * Buffer/Uint8Array of ≥ 32 bytes, the same on every instance; or a list, to rotate (the
   * first signs, any verifies). Every `set`/`setIfAbsent` value (introspection answers, key
   * sets, issuer metadata, the revocation version marker; locks too, though they carry no
   * trusted data) gets an HMAC-SHA256 tag over its Redis key and value. A value that fails the
   * check reads as absent (the instance asks the IdP itself), logged once per store. Without a
   * secret, values are unsigned and a signed one reads as absent; an instance that falls back to
   * the fleet's copy of issuer metadata then takes only its `jwks_uri`, never the introspection or
   * userinfo endpoint that its client secret and its callers' tokens would be sent to
   * (`SharedStore.signsValues`). Revocations (set members, pub/sub messages) are not signed:
   * they only ever deny access, and whoever can write to Redis could delete them (un-revoke)
   * even if they were. Default: none (unsigned).
   */
  secret?: RedisStoreSecret | readonly RedisStoreSecret[];
}

const DEFAULTS = { prefix: 'bearer-guard:', timeout: 250 } as const;
const OPTION_NAMES = new Set(['client', 'prefix', 'timeout', 'logger', 'secret']);

/**
 * A `SharedStore` on Redis, for `verifyToken({ store })` and `createRevocationList({ store })`:
 * a fleet of API instances then shares introspection results (by token hash), revocations and
 * the last good key sets. Wraps a client the app owns: it never connects or closes that client;
 * it opens one extra connection (`client.duplicate()`) for pub/sub, which never holds the
 * process open. While the client is not connected every call fails at once (nothing is queued).
 * @throws ConfigError for a bad option
 * @example
 * import { createClient } from 'redis';
 * import { createRedisStore } from 'bearer-guard/redis';
 * const client = createClient({ url: process.env.REDIS_URL });
 * client.on('error', () => {}); // bearer-guard logs outages itself
 * await client.connect();
 * const store = createRedisStore({ client });
 */
export function createRedisStore(options: RedisStoreOptions): SharedStore {
  rejectUnknownKeys('createRedisStore', options, OPTION_NAMES);
  const { client } = options;
  if (typeof client !== 'object' || client === null || typeof client.sendCommand !== 'function' || typeof client.duplicate !== 'function') {
    throw new ConfigError('createRedisStore: `client` must be a node-redis client (from `createClient()`)');
  }
  const prefix = options.prefix ?? DEFAULTS.prefix;
  if (typeof prefix !== 'string') throw new ConfigError('createRedisStore: `prefix` must be a string');
  const timeoutMs = optionalNumber('createRedisStore: `timeout`', options.timeout, 1) ?? DEFAULTS.timeout;
  const logger = resolveLogger(options.logger);
  const secrets = resolveSecrets(options.secret);
  const values = createSignedValues(secrets, logger);
  const subscriber = createSubscriber(client, timeoutMs);

  async function send(args: string[]): Promise<unknown> {
    // A disconnected client would queue the command until it reconnects: fail now instead.
    if (!client.isReady) throw new Error('the Redis client is not connected');
    try {
      return await client.sendCommand(args, { timeout: timeoutMs });
    } catch (err) {
      // node-redis messages name the failure, never the arguments; keep only that.
      throw new Error(`Redis ${args[0]} failed: ${err instanceof Error ? err.message : 'unknown error'}`, { cause: err });
    }
  }

  return Object.freeze({
    timeoutMs,
    logger,
    signsValues: secrets !== undefined,
    async get(key: string) {
      const value = await send(['GET', prefix + key]);
      return typeof value === 'string' ? values.open(prefix + key, value) : undefined;
    },
    async set(key: string, value: string, ttlMs: number) {
      await send(['SET', prefix + key, values.seal(prefix + key, value), 'PX', String(ttlMs)]);
    },
    async setIfAbsent(key: string, value: string, ttlMs: number) {
      return (await send(['SET', prefix + key, values.seal(prefix + key, value), 'PX', String(ttlMs), 'NX'])) === 'OK';
    },
    async delete(key: string) {
      await send(['DEL', prefix + key]);
    },
    async addMember(key: string, member: string, expiresAtMs: number) {
      // GT: re-adding never shortens a member's life.
      await send(['ZADD', prefix + key, 'GT', String(expiresAtMs), member]);
    },
    async members(key: string, nowMs: number): Promise<readonly ExpiringMember[]> {
      await send(['ZREMRANGEBYSCORE', prefix + key, '-inf', String(nowMs)]);
      return readMembers(await send(['ZRANGE', prefix + key, `(${nowMs}`, '+inf', 'BYSCORE', 'WITHSCORES']));
    },
    async publish(channel: string, message: string) {
      await send(['PUBLISH', prefix + channel, message]);
    },
    subscribe: (channel: string, onMessage: (message: string) => void) => subscriber.subscribe(prefix + channel, onMessage),
  } satisfies SharedStore);
}

function resolveLogger(value: RedisStoreOptions['logger']): StoreLogger | undefined {
  if (value === undefined) return console;
  if (value === false) return undefined;
  if (typeof value !== 'object' || value === null || typeof value.warn !== 'function') {
    throw new ConfigError('createRedisStore: `logger` must have a `warn(message)` method, or be false');
  }
  return value;
}
