import { randomUUID } from 'node:crypto';
import { elapsedMs } from './internal/elapsed.js';
import { parseRevocationMessage, type RevocationMirror } from './revocation-mirror.js';
import type { SharedStore, StoreSubscription } from './store.js';
import { guardStore, StoreUnavailableError } from './store-guard.js';

/** Where a mirror stands against the shared list. */
export type SyncState = 'loading' | 'synced' | 'stale';

/** Keeps a mirror in step with the shared list. */
export interface RevocationSync {
  /** Settles once the first full load has been tried (it may have failed). */
  readonly firstAttempt: Promise<void>;
  /** `loading` until the first load was tried; `stale` when never loaded or not confirmed for over `maxStalenessMs`. */
  state(nowMs: number): SyncState;
  /** When the mirror was last confirmed complete (ms), or `undefined` if never. */
  readonly syncedAtMs: number | undefined;
  /** Loads the whole list now (for `ready()`). */
  reload(): Promise<void>;
  /** Persists a revocation, marks the list changed and pushes it to every instance. */
  share(member: string, expiresAtMs: number): Promise<void>;
  close(): Promise<void>;
}

const SET_KEY = 'revocations';
const VERSION_KEY = 'revocations:version';
const CHANNEL = 'revocations';
/** The version marker outlives any revocation it describes; when it is gone, every instance reloads. */
const VERSION_TTL_MS = 400 * 24 * 3600 * 1000;

/**
 * Syncs a mirror with a store: pub/sub pushes each revocation to every instance at once, and a
 * check every `syncIntervalMs` (one GET of a version marker, rewritten on each change) catches
 * what pub/sub lost while a connection was down — then the whole list is reloaded. A reload also
 * writes back what the store lacks but the mirror holds (Redis restarted or flushed), so a
 * revocation survives as long as one instance remembers it.
 */
export function createRevocationSync(store: SharedStore, mirror: RevocationMirror, syncIntervalMs: number, maxStalenessMs: number): RevocationSync {
  const shared = guardStore(store);
  let seenVersion: string | undefined;
  let loaded = false;
  let firstDone = false;
  let subscribing = false;
  let syncedAtMs: number | undefined;
  let busy = false;
  let closed = false;
  let subscription: StoreSubscription | undefined;

  function onMessage(message: string): void {
    const entry = parseRevocationMessage(message);
    if (entry !== undefined) mirror.add(entry.member, entry.expiresAtMs);
  }

  async function reload(): Promise<void> {
    const startedAtMs = Date.now();
    let version = await shared.get(VERSION_KEY);
    const remote = await shared.members(SET_KEY, startedAtMs);
    const present = new Set<string>();
    for (const { member, expiresAtMs } of remote) {
      present.add(member);
      mirror.add(member, expiresAtMs, startedAtMs);
    }
    const missing = mirror.entries(startedAtMs).filter(({ member }) => !present.has(member));
    for (const { member, expiresAtMs } of missing) await shared.addMember(SET_KEY, member, expiresAtMs);
    if (missing.length > 0 || version === undefined) {
      version = randomUUID();
      await shared.set(VERSION_KEY, version, VERSION_TTL_MS);
    }
    seenVersion = version;
    loaded = true;
    syncedAtMs = Math.max(syncedAtMs ?? -Infinity, startedAtMs);
  }

  async function check(): Promise<void> {
    if (busy || closed) return;
    busy = true;
    try {
      const checkedAtMs = Date.now();
      const version = await shared.get(VERSION_KEY);
      if (loaded && version !== undefined && version === seenVersion) syncedAtMs = checkedAtMs;
      else await reload();
    } catch {
      // The store is down: the guard has logged it; the mirror keeps what it has.
    } finally {
      busy = false;
      mirror.sweep();
    }
  }

  /** Subscribes once; a failed attempt is retried by the next check (one attempt at a time). */
  async function subscribe(): Promise<void> {
    if (subscription !== undefined || subscribing || closed) return;
    subscribing = true;
    try {
      const made = await shared.subscribe(CHANNEL, onMessage);
      if (closed) await made.close();
      else subscription = made;
    } catch {
      // Without pub/sub the periodic check still finds every change, within syncIntervalMs.
    } finally {
      subscribing = false;
    }
  }

  const firstAttempt = (async () => {
    await subscribe(); // before loading: nothing published in between is missed
    await reload().catch(() => undefined);
    firstDone = true;
  })();
  const timer = setInterval(() => {
    if (!firstDone) return;
    void subscribe();
    void check();
  }, syncIntervalMs);
  timer.unref();

  return {
    firstAttempt,
    get syncedAtMs() {
      return syncedAtMs;
    },
    state(nowMs) {
      if (!loaded) return firstDone ? 'stale' : 'loading';
      // A last sync dated after now (the clock stepped back) proves nothing: stale, the safe answer.
      return elapsedMs(syncedAtMs ?? -Infinity, nowMs) > maxStalenessMs ? 'stale' : 'synced';
    },
    reload,
    async share(member, expiresAtMs) {
      try {
        await shared.addMember(SET_KEY, member, expiresAtMs);
        await shared.set(VERSION_KEY, randomUUID(), VERSION_TTL_MS);
        await shared.publish(CHANNEL, JSON.stringify({ m: member, x: expiresAtMs }));
      } catch (err) {
        throw new StoreUnavailableError('The revocation is in force on this instance only: the shared store did not take it', { cause: err });
      }
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await subscription?.close();
    },
  };
}
