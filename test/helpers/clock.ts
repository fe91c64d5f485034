import { afterEach, beforeEach, vi } from 'vitest';

/**
 * Fakes `Date` alone, frozen, around each test of the file or `describe` it is called in: cache
 * ages and retry windows are stepped with `advance()`, while sockets, deadlines, `setTimeout`
 * and `performance.now()` stay real.
 */
export function useFrozenDate(): void {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
}

/** Moves the frozen `Date` on by `ms`. */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}
