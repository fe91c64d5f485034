const BASE64URL_ALPHABET = /^[A-Za-z0-9_-]*$/;

/**
 * Strict base64url (RFC 4648 §5, as RFC 7515 §2 requires): no padding, no whitespace, no
 * characters outside the alphabet and no non-zero trailing bits, so every byte string has
 * exactly one accepted encoding. Returns `undefined` for anything else.
 */
export function decodeBase64url(segment: string): Buffer | undefined {
  if (segment.length % 4 === 1 || !BASE64URL_ALPHABET.test(segment)) return undefined;
  const bytes = Buffer.from(segment, 'base64url');
  // Re-encoding catches non-canonical trailing bits (e.g. "AB" and "AC" decode alike).
  return bytes.toString('base64url') === segment ? bytes : undefined;
}
