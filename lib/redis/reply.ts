import type { ExpiringMember } from '../store.js';

/**
 * Reads a `ZRANGE … WITHSCORES` reply: a flat `[member, score, …]` list (RESP 2) or a list of
 * `[member, score]` pairs (RESP 3). Anything malformed is skipped, never trusted.
 */
export function readMembers(reply: unknown): ExpiringMember[] {
  if (!Array.isArray(reply)) return [];
  const pairs: unknown[][] = reply.every(Array.isArray) ? (reply as unknown[][]) : chunk(reply);
  const members: ExpiringMember[] = [];
  for (const [member, score] of pairs) {
    const expiresAtMs = Number(typeof score === 'object' && score !== null ? String(score) : score);
    if (typeof member === 'string' && Number.isFinite(expiresAtMs)) members.push({ member, expiresAtMs });
  }
  return members;
}

function chunk(flat: readonly unknown[]): unknown[][] {
  const pairs: unknown[][] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) pairs.push([flat[i], flat[i + 1]]);
  return pairs;
}
