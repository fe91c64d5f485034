import { isPlainObject, MAX_JSON_DEPTH, parseJSONTextSafely } from './internal/safe-json.js';
import { elapsedMs } from './internal/elapsed.js';
import type { SharedStore, StoreLogger } from './store.js';

/** A shared-store call that failed, timed out or was not tried because the store is down. */
export class StoreUnavailableError extends Error {
  override readonly name = 'StoreUnavailableError';
}

/** While a store is down, calls fail at once except one probe per this many ms. */
const PROBE_INTERVAL_MS = 1_000;
/** Longest store error text that reaches a log line. */
const MAX_DETAIL = 200;

const GUARDS = new WeakMap<SharedStore, SharedStore>();

/**
 * The store as bearer-guard uses it: every call bounded by `store.timeoutMs`, failures turned
 * into `StoreUnavailableError`, one warning per outage. After a failure the store counts as down:
 * calls fail fast (no waiting on a dead or slow store) except one probe per second, and the
 * first call that succeeds ends the outage, so sharing resumes without a restart.
 * One guard per store object, shared by every verifier and revocation list that uses it.
 */
export function guardStore(store: SharedStore): SharedStore {
  let guarded = GUARDS.get(store);
  if (guarded === undefined) {
    guarded = createGuard(store);
    GUARDS.set(store, guarded);
  }
  return guarded;
}

/**
 * The JSON object stored under `key` in a guarded store, or `undefined` when it is absent, is not
 * a JSON object (or nests deeper than any IdP document may), or the store fails: what another instance shared is an optimisation, never an error.
 */
export async function readSharedObject(shared: SharedStore, key: string): Promise<Record<string, unknown> | undefined> {
  let stored: string | undefined;
  try {
    stored = await shared.get(key);
  } catch {
    return undefined;
  }
  // The shared entry wraps an IdP document (a key set, metadata) one level deeper than the document.
  const value = stored === undefined ? undefined : parseJSONTextSafely(stored, MAX_JSON_DEPTH + 1);
  return isPlainObject(value) ? value : undefined;
}

function createGuard(store: SharedStore): SharedStore {
  let down = false;
  /** When the last call failed: the store is probed again `PROBE_INTERVAL_MS` after it. */
  let failedAtMs = 0;
  let probing = false;

  function failed(err: unknown): void {
    failedAtMs = Date.now();
    if (down) return;
    down = true;
    log(store.logger, 'warn', `bearer-guard: the shared store is unavailable (${detail(err)}); each instance falls back to its own caches until it answers again`);
  }

  function succeeded(): void {
    if (!down) return;
    down = false;
    log(store.logger, 'info', 'bearer-guard: the shared store answers again; sharing resumed');
  }

  function call<T>(run: () => Promise<T>): Promise<T> {
    let probe = false;
    if (down) {
      // `elapsedMs`: a clock stepped back brings the probe forward rather than putting it off.
      if (probing || elapsedMs(failedAtMs, Date.now()) < PROBE_INTERVAL_MS) return Promise.reject(new StoreUnavailableError('The shared store is unavailable'));
      probing = probe = true;
    }
    const settled = withTimeout(run, store.timeoutMs).then(
      (value) => {
        succeeded();
        return value;
      },
      (err: unknown) => {
        failed(err);
        throw err instanceof StoreUnavailableError ? err : new StoreUnavailableError(`The shared store failed: ${detail(err)}`, { cause: err });
      },
    );
    if (probe) {
      const done = (): void => {
        probing = false;
      };
      settled.then(done, done);
    }
    return settled;
  }

  return Object.freeze({
    timeoutMs: store.timeoutMs,
    logger: store.logger,
    signsValues: store.signsValues === true,
    get: (key) => call(() => store.get(key)),
    set: (key, value, ttlMs) => call(() => store.set(key, value, Math.max(1, Math.ceil(ttlMs)))),
    setIfAbsent: (key, value, ttlMs) => call(() => store.setIfAbsent(key, value, Math.max(1, Math.ceil(ttlMs)))),
    delete: (key) => call(() => store.delete(key)),
    addMember: (key, member, expiresAtMs) => call(() => store.addMember(key, member, expiresAtMs)),
    members: (key, nowMs) => call(() => store.members(key, nowMs)),
    publish: (channel, message) => call(() => store.publish(channel, message)),
    // A subscription lives on; only setting it up is bounded.
    subscribe: (channel, onMessage) => call(() => store.subscribe(channel, onMessage)),
  } satisfies SharedStore);
}

/** Calls `logger[level]`, so that a throwing logger can never fail a request. */
export function log(logger: StoreLogger | undefined, level: 'warn' | 'info', message: string): void {
  try {
    if (level === 'warn') logger?.warn(message);
    else logger?.info?.(message);
  } catch {
    // A broken log sink must not change an authentication outcome.
  }
}

function withTimeout<T>(run: () => Promise<T>, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // On expiry, wait one turn of the event loop: an answer that arrived while the loop was busy
    // is read before the deadline is declared missed (timers run before pending I/O).
    const expire = (): void => void setImmediate(() => reject(new StoreUnavailableError(`The shared store did not answer within ${timeoutMs} ms`)));
    const timer = setTimeout(expire, timeoutMs);
    timer.unref();
    const finish = (): void => clearTimeout(timer);
    let pending: Promise<T>;
    try {
      pending = run();
    } catch (err) {
      pending = Promise.reject(err);
    }
    pending.then(
      (value) => {
        finish();
        resolve(value);
      },
      (err: unknown) => {
        finish();
        reject(err);
      },
    );
  });
}

/** A store error's own message, capped: store adapters keep tokens and secrets out of them. */
function detail(err: unknown): string {
  const message = err instanceof Error ? err.message : 'unknown error';
  return message.length > MAX_DETAIL ? `${message.slice(0, MAX_DETAIL)}…` : message;
}
