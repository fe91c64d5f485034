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
 * Decodes strict UTF-8 and parses JSON, dropping `__proto__`, `constructor` and `prototype`
 * members at any depth so that later merges of the result cannot pollute prototypes.
 * Returns `undefined` when the bytes are not valid UTF-8 or not valid JSON.
 */
export function parseJSONSafely(bytes: Uint8Array): unknown {
  // isUtf8 is a native check, several times cheaper than a fatal TextDecoder on small inputs.
  if (!isUtf8(bytes)) return undefined;
  return parseJSONTextSafely(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
}

/** `parseJSONSafely` for text that is already a string. */
export function parseJSONTextSafely(text: string): unknown {
  try {
    // The reviver costs several times a plain parse, so it runs only when a risky key could be
    // present; `\u` covers keys spelled with escapes, e.g. "\u005f_proto__".
    return mayHoldPollutingKey(text) ? JSON.parse(text, dropPollutingKeys) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

function mayHoldPollutingKey(text: string): boolean {
  return text.includes('__proto__') || text.includes('constructor') || text.includes('prototype') || text.includes('\\u');
}

function dropPollutingKeys(key: string, value: unknown): unknown {
  return isPollutingKey(key) ? undefined : value;
}
