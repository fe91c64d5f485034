/**
 * Builds a `WWW-Authenticate` value (RFC 6750 §3, RFC 9110 §11.6.1): `Bearer realm="api", error="…"`.
 * Values are quoted strings holding only the characters RFC 6750 §3 allows in them
 * (%x20-21 / %x23-5B / %x5D-7E): `"` becomes `'`, and `\` and anything outside printable ASCII
 * are dropped, so a header can never be split, rejected by Node or misparsed by a client.
 */
export function buildChallenge(scheme: string, params: Readonly<Record<string, string>>): string {
  const parts = Object.entries(params).map(([name, value]) => `${name}="${quoteValue(value)}"`);
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`;
}

function quoteValue(value: string): string {
  return value.replace(/"/g, "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '');
}
