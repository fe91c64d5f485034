/**
 * Freezes a value and everything reachable from it. Verified results are shared by every request
 * that presents the same token (they come from a cache), so none may change them for the others.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const member of Object.values(value)) deepFreeze(member);
  }
  return value;
}
