/**
 * Milliseconds from `sinceMs` to `nowMs`, two `Date.now()` readings, for interval checks such as
 * `elapsedMs(failedAtMs, nowMs) < windowMs`.
 *
 * The wall clock can step backwards (an NTP step, a VM resumed from a snapshot), putting the
 * recorded moment after `nowMs`. The plain difference is then negative and the interval would
 * last as long as the step (an hour's step: an hour without a refetch). Such a moment is treated
 * as long past: the result is `Infinity`, so a backward step may end a cooldown or hold-off early
 * (each ends with one fetch, which records a new moment on the stepped clock) but never stretches
 * one. `sinceMs = -Infinity` ("never") also gives `Infinity`. Allocation-free: it runs per request.
 * @returns `nowMs - sinceMs` when that is ≥ 0, else `Infinity`
 */
export function elapsedMs(sinceMs: number, nowMs: number): number {
  return nowMs >= sinceMs ? nowMs - sinceMs : Number.POSITIVE_INFINITY;
}
