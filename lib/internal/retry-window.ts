import { FetchError } from './fetch-json.js';

/** The longest an endpoint's own `Retry-After` may hold back retries; past it we try again anyway. */
export const MAX_HONOURED_RETRY_AFTER_MS = 300_000;

/**
 * How long to leave a failed key source alone: our own window, or longer when its answer asked
 * for it with `Retry-After` (RFC 9110 §10.2.3, e.g. on a 429 or 503), capped at 5 minutes so a
 * mistaken or hostile value cannot keep an API from its keys for a day.
 */
export function honouredRetryWindowMs(failure: unknown, ownWindowMs: number): number {
  const asked = failure instanceof FetchError ? failure.retryAfterSec : undefined;
  return asked === undefined ? ownWindowMs : Math.max(ownWindowMs, Math.min(asked * 1000, MAX_HONOURED_RETRY_AFTER_MS));
}
