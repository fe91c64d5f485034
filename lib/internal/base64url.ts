const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;

/**
 * True when `segment` is strict base64url (RFC 4648 §5, as RFC 7515 §2 requires): no padding, no
 * whitespace, nothing outside the alphabet, and no non-zero trailing bits, so every byte string
 * has exactly one accepted encoding. Checked without decoding anything.
 */
export function isCanonicalBase64url(segment: string): boolean {
  return BASE64URL_ALPHABET.test(segment) && endsCanonically(segment, 0, segment.length);
}

/**
 * The part of `isCanonicalBase64url` that is not about the alphabet, for `text[start, end)`
 * already known to hold only base64url characters: a length that encodes whole bytes, and no
 * non-zero trailing bits. Reads no more than the last character.
 */
export function endsCanonically(text: string, start: number, end: number): boolean {
  const remainder = (end - start) % 4;
  if (remainder === 1) return false;
  if (remainder === 0) return true;
  // The last character carries 6 bits of which only 2 (remainder 2) or 4 (remainder 3) are data;
  // the rest must be zero, or "AB" and "AC" would both decode to the same byte.
  const unusedBits = remainder === 2 ? 0b1111 : 0b11;
  return (sextet(text.charCodeAt(end - 1)) & unusedBits) === 0;
}

/** The 6-bit value of a base64url character already known to be in the alphabet. */
function sextet(code: number): number {
  if (code >= 97) return code - 71; // a-z → 26..51
  if (code === 95) return 63; // "_"
  if (code >= 65) return code - 65; // A-Z → 0..25
  if (code >= 48) return code + 4; // 0-9 → 52..61
  return 62; // "-"
}
