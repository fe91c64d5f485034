const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const POLLUTING_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

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
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    return undefined;
  }
  return parseJSONTextSafely(text);
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
  return POLLUTING_KEYS.has(key) ? undefined : value;
}
