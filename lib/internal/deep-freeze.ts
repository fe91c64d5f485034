/**
 * Freezes a value and everything reachable from it. Verified results are shared by every request
 * that presents the same token (they come from a cache), so none may change them for the others.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    // for…in rather than Object.values(): no array per object, which made this a third of the
    // miss path's own cost. Members that are not objects need no freezing.
    for (const name in value) {
      const member: unknown = value[name];
      if (typeof member === 'object' && member !== null) deepFreeze(member);
    }
  }
  return value;
}
