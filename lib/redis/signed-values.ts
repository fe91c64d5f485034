import { createHmac, timingSafeEqual } from 'node:crypto';
import { ConfigError } from '../errors.js';
import type { StoreLogger } from '../store.js';

/** One integrity secret of `createRedisStore`: a string of ≥ 32 characters, or ≥ 32 bytes. */
export type RedisStoreSecret = string | Uint8Array;

/** Seals values before they go to Redis and opens them when they come back. */
export interface SignedValues {
  /** The value as stored under `redisKey`: tagged when there is a secret, as is otherwise. */
  seal(redisKey: string, value: string): string;
  /** The value read from `redisKey`, or `undefined` when its tag does not verify (reported once). */
  open(redisKey: string, stored: string): string | undefined;
}

const MIN_SECRET_LENGTH = 32;
/** `v1.` + the base64url HMAC-SHA256 tag (32 bytes: 43 characters) + `.` + the value. */
const SEALED = /^v1\.([A-Za-z0-9_-]{43})\./;
const TAG_END = 'v1.'.length + 43 + '.'.length;

const INTEGRITY_FAILED = 'bearer-guard: an entry in Redis failed its integrity check and was ignored (written without this `secret`, or by someone else)';
const SIGNED_WITHOUT_SECRET = 'bearer-guard: an entry in Redis is signed but this store has no `secret`, so it was ignored (give every instance the same `secret`)';

/**
 * Reads the `secret` option: `undefined` (values stay unsigned), one secret, or a non-empty
 * list for rotation (the first signs, any verifies). Each is copied, so that a caller who later
 * changes their buffer does not change the key.
 * @throws ConfigError naming `secret` (never its value) for a wrong type or a short secret
 */
export function resolveSecrets(value: unknown): readonly Buffer[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) return Object.freeze([toKey('`secret`', value)]);
  if (value.length === 0) throw new ConfigError('createRedisStore: `secret` must not be an empty array (omit it to store values unsigned)');
  return Object.freeze(value.map((item: unknown, i) => toKey(`\`secret[${i}]\``, item)));
}

function toKey(name: string, item: unknown): Buffer {
  if (typeof item === 'string') {
    if (item.length < MIN_SECRET_LENGTH) throw new ConfigError(`createRedisStore: ${name} must be at least ${MIN_SECRET_LENGTH} characters long`);
    return Buffer.from(item, 'utf8');
  }
  if (item instanceof Uint8Array) {
    if (item.byteLength < MIN_SECRET_LENGTH) throw new ConfigError(`createRedisStore: ${name} must be at least ${MIN_SECRET_LENGTH} bytes long`);
    return Buffer.from(item);
  }
  throw new ConfigError(`createRedisStore: ${name} must be a string of at least ${MIN_SECRET_LENGTH} characters or a Buffer/Uint8Array of at least ${MIN_SECRET_LENGTH} bytes (or an array of them)`);
}

/**
 * Integrity for what the store writes with `set`/`setIfAbsent`: with secrets, each value is
 * stored as `v1.<tag>.<value>`, the tag an HMAC-SHA256 over the Redis key (prefix included)
 * and the value, so an entry can be neither changed nor moved to another key. A value whose tag
 * does not verify under any secret is treated as absent. Without secrets values stay as they
 * are, and a signed value (from an instance that has a secret) is not understood: absent too.
 * Each kind of rejection is logged once per store, with no key, value or secret in the line.
 */
export function createSignedValues(secrets: readonly Buffer[] | undefined, logger: StoreLogger | undefined): SignedValues {
  const reported = new Set<string>();
  function ignore(message: string): undefined {
    if (reported.has(message)) return undefined;
    reported.add(message);
    try {
      logger?.warn(message);
    } catch {
      // A broken log sink must not turn a cache miss into a failed request.
    }
    return undefined;
  }

  if (secrets === undefined || secrets.length === 0) {
    return {
      seal: (_redisKey, value) => value,
      // bearer-guard's own unsigned values are JSON or UUIDs, which never look like this.
      open: (_redisKey, stored) => (SEALED.test(stored) ? ignore(SIGNED_WITHOUT_SECRET) : stored),
    };
  }
  const signing = secrets[0]!;
  return {
    seal: (redisKey, value) => `v1.${tagOf(signing, redisKey, value).toString('base64url')}.${value}`,
    open(redisKey, stored) {
      const match = SEALED.exec(stored);
      if (match === null) return ignore(INTEGRITY_FAILED);
      const given = Buffer.from(match[1]!, 'base64url');
      const value = stored.slice(TAG_END);
      const verified = secrets.some((secret) => timingSafeEqual(tagOf(secret, redisKey, value), given));
      return verified ? value : ignore(INTEGRITY_FAILED);
    },
  };
}

function tagOf(secret: Buffer, redisKey: string, value: string): Buffer {
  // The key's length first: no other split of the same characters into key and value has this input.
  return createHmac('sha256', secret).update(`bearer-guard/redis v1\n${Buffer.byteLength(redisKey)}\n${redisKey}\n`).update(value).digest();
}
