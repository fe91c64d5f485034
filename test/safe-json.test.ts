import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, parseJSONSafely, parseJSONTextSafely } from '../lib/internal/safe-json.js';

/** `depth` levels of arrays, innermost first: `nested(2)` is `[[]]`. */
const nested = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('parseJSONTextSafely with maxDepth', () => {
  it.each([
    ['a bare value', '7', 0, 7],
    ['an object at depth 1', '{"a":1}', 1, { a: 1 }],
    ['arrays exactly maxDepth deep', nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH, JSON.parse(nested(MAX_JSON_DEPTH))],
  ])('parses %s', (_label, text, maxDepth, expected) => {
    expect(parseJSONTextSafely(text, maxDepth)).toEqual(expected);
  });

  it.each([
    ['arrays one level deeper than maxDepth', nested(MAX_JSON_DEPTH + 1)],
    ['objects one level deeper than maxDepth', `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`],
    ['20 000 levels', nested(20_000)],
  ])('reads %s as invalid JSON', (_label, text) => {
    expect(parseJSONTextSafely(text, MAX_JSON_DEPTH)).toBeUndefined();
  });

  it('does not count brackets inside strings, escaped quotes included', () => {
    const text = `{"a":"${'['.repeat(100)}","b":"\\"${'{'.repeat(100)}"}`;
    expect(parseJSONTextSafely(text, 1)).toEqual({ a: '['.repeat(100), b: `"${'{'.repeat(100)}` });
  });

  it('applies the limit to bytes too', () => {
    expect(parseJSONSafely(Buffer.from(nested(3)), 2)).toBeUndefined();
    expect(parseJSONSafely(Buffer.from(nested(2)), 2)).toEqual([[]]);
  });

  it('has no limit when none is given (decodeJWT parses this way)', () => {
    expect(parseJSONTextSafely(nested(20_000))).toBeDefined();
    expect(parseJSONSafely(Buffer.from(nested(20_000)))).toBeDefined();
  });
});
