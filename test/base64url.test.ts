import { describe, expect, it } from 'vitest';
import { endsCanonically, isCanonicalBase64url } from '../lib/internal/base64url.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The reference: what decodes and re-encodes to itself is canonical. */
function roundTrips(segment: string): boolean {
  return segment.length % 4 !== 1 && Buffer.from(segment, 'base64url').toString('base64url') === segment;
}

describe('isCanonicalBase64url', () => {
  it('agrees with a decode-and-re-encode round trip on every string of 2 and 3 characters', () => {
    let disagreements = 0;
    for (const a of ALPHABET) {
      for (const b of ALPHABET) {
        if (isCanonicalBase64url(a + b) !== roundTrips(a + b)) disagreements += 1;
        for (const c of ALPHABET) if (isCanonicalBase64url(a + b + c) !== roundTrips(a + b + c)) disagreements += 1;
      }
    }
    expect(disagreements).toBe(0);
  });

  it.each(['', 'AAAA', 'c2ln', 'c2k', 'QUI'])('accepts %j', (segment) => {
    expect(isCanonicalBase64url(segment)).toBe(true);
  });

  it.each(['c2l', 'QUJ', 'A', 'c2ln=', 'c2l+', 'c2l/', 'c2 l', 'c2ln\n'])('refuses %j', (segment) => {
    expect(isCanonicalBase64url(segment)).toBe(false);
  });

  it('checks the end of a segment inside a longer string without slicing it', () => {
    // "c2ln.c2l.QUI": a whole-bytes segment, one with non-zero trailing bits, one without.
    const text = 'c2ln.c2l.QUI';
    expect(endsCanonically(text, 0, 4)).toBe(true);
    expect(endsCanonically(text, 5, 8)).toBe(false);
    expect(endsCanonically(text, 9, 12)).toBe(true);
    expect(endsCanonically(text, 0, 5)).toBe(false); // 5 characters cannot encode whole bytes
  });
});
