import { expect } from 'vitest';
import type { AuthError } from '../../lib/index.js';

/** The error a promise rejects with; fails the test if it resolves. */
export async function rejection<E = AuthError>(promise: Promise<unknown>): Promise<E> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: E) => err,
  );
}

/** `'accepted'`, or the `reason` of the AuthError the verification rejected with. */
export function reasonOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'accepted',
    (err: { reason: string }) => err.reason,
  );
}
