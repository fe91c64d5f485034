import { isUtf8 } from 'node:buffer';
/** True for a member name `parseJSONSafely` drops: one that a later merge could turn into prototype pollution. */
export function isPollutingKey(key: string): boolean {
  return key === '__proto__' || key === 'constructor' || key === 'prototype';
}

/** True for a non-null, non-array object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * How deeply the documents an IdP answers (JWKS, metadata, introspection and userinfo answers)
 * may nest arrays and objects. `JSON.parse` itself copes with any depth, but what walks the
 * result recursively afterwards (freezing, `JSON.stringify` for the fleet's store) overflows the
 * stack past some thousands of levels: 40 KB of brackets, well under any byte cap. Real
 * documents nest 2 to 5 deep; 64 leaves room for any custom claim.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Decodes strict UTF-8 and parses JSON, dropping `__proto__`, `constructor` and `prototype`
 * members at any depth so that later merges of the result cannot pollute prototypes.
 * Returns `undefined` when the bytes are not valid UTF-8 or not valid JSON.
 * @param maxDepth deepest nesting of arrays and objects accepted (a bare value is 0, `{}` is 1);
 *   deeper text counts as invalid JSON. Default: no limit.
 */
export function parseJSONSafely(bytes: Uint8Array, maxDepth?: number): unknown {
  // isUtf8 is a native check, several times cheaper than a fatal TextDecoder on small inputs.
  if (!isUtf8(bytes)) return undefined;
  return parseJSONTextSafely(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'), maxDepth);
}

/** `parseJSONSafely` for text that is already a string. */
export function parseJSONTextSafely(text: string, maxDepth?: number): unknown {
  // Checked before parsing, so a deep document costs one scan and no allocation at all.
  if (maxDepth !== undefined && nestsDeeperThan(text, maxDepth)) return undefined;
  try {
    // The reviver costs several times a plain parse, so it runs only when a risky key could be
    // present; `\u` covers keys spelled with escapes, e.g. "\u005f_proto__".
    return mayHoldPollutingKey(text) ? JSON.parse(text, dropPollutingKeys) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * True when valid JSON `text` nests arrays and objects deeper than `maxDepth`. Brackets inside
 * strings do not count. For text that is not JSON the answer does not matter: it fails to parse.
 */
function nestsDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 0x5c) i++; // a backslash: the next character is escaped, even a quote
      else if (code === 0x22) inString = false;
    } else if (code === 0x22) {
      inString = true;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > maxDepth) return true;
    } else if (code === 0x5d || code === 0x7d) {
      depth--;
    }
  }
  return false;
}

function mayHoldPollutingKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('prototype') || text.includes('\\u');
}

function dropPollutingKeys(key: string, value: unknown): unknown {
  return isPollutingKey(key) ? undefined : value;
}
