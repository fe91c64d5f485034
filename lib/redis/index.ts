export { createRedisStore } from './redis-store.js';
export type { RedisStoreOptions, RedisClientLike, RedisSubscriberLike } from './redis-store.js';
export type { RedisStoreSecret } from './signed-values.js';
export type { SharedStore, StoreLogger, StoreSubscription, ExpiringMember } from '../store.js';
