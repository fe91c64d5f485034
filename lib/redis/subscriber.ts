import type { StoreSubscription } from '../store.js';
import type { RedisClientLike, RedisSubscriberLike } from './redis-store.js';

/**
 * One pub/sub connection per store, opened on the first subscription and closed with the last.
 * node-redis reconnects it and re-subscribes by itself; messages sent meanwhile are lost, which
 * callers make up for by re-reading (see the revocation list's periodic check).
 */
export function createSubscriber(client: RedisClientLike, timeoutMs: number) {
  let connection: RedisSubscriberLike | undefined;
  let open = 0;

  return {
    async subscribe(channel: string, onMessage: (message: string) => void): Promise<StoreSubscription> {
      if (connection === undefined) {
        connection = client.duplicate();
        connection.on('error', () => undefined); // outages surface through the main client's calls
        connection.unref();
        connection.connect().catch(() => undefined);
      }
      const current = connection;
      const listener = (message: string): void => onMessage(message);
      open += 1;
      // Waits for the SUBSCRIBE to be acknowledged, but less than a store call may take: when
      // Redis is down, node-redis sends it once connected, and the caller gets its handle now.
      const acked = current.subscribe(channel, listener).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([acked, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs / 2)))]);
      clearTimeout(timer);
      let closed = false;
      return {
        async close() {
          if (closed) return;
          closed = true;
          open -= 1;
          await current.unsubscribe(channel, listener).catch(() => undefined);
          if (open === 0 && connection === current) {
            connection = undefined;
            current.destroy();
          }
        },
      };
    },
  };
}
