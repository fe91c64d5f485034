import { describe, expect, it } from 'vitest';
import { LruMap } from '../lib/internal/lru-map.js';

/** Keys from least to most recently used, read by evicting them all (the only order the map exposes). */
function drain<K, V>(map: LruMap<K, V>): K[] {
  const order: K[] = [];
  for (let key = map.oldestKey(); key !== undefined; key = map.oldestKey()) {
    order.push(key);
    map.delete(key);
  }
  return order;
}

function filled(...keys: string[]): LruMap<string, number> {
  const map = new LruMap<string, number>();
  keys.forEach((key, i) => map.set(key, i));
  return map;
}

describe('LruMap', () => {
  it('evicts in insertion order when nothing is read', () => {
    expect(drain(filled('a', 'b', 'c'))).toEqual(['a', 'b', 'c']);
  });

  it('makes a key read with get the most recently used, wherever it was', () => {
    for (const [read, order] of [
      ['a', ['b', 'c', 'a']],
      ['b', ['a', 'c', 'b']],
      ['c', ['a', 'b', 'c']],
    ] as const) {
      const map = filled('a', 'b', 'c');
      expect(map.get(read)).toBe(['a', 'b', 'c'].indexOf(read));
      expect(drain(map)).toEqual(order);
    }
  });

  it('replaces the value of a key set again and makes it the most recently used', () => {
    const map = filled('a', 'b', 'c');
    map.set('a', 10);
    expect(map.size).toBe(3);
    expect(map.get('a')).toBe(10);
    expect(drain(map)).toEqual(['b', 'c', 'a']);
  });

  it('keeps the order of the others when a key is deleted from the middle or either end', () => {
    for (const [gone, order] of [
      ['a', ['b', 'c']],
      ['b', ['a', 'c']],
      ['c', ['a', 'b']],
    ] as const) {
      const map = filled('a', 'b', 'c');
      expect(map.delete(gone)).toBe(true);
      expect(map.get(gone)).toBeUndefined();
      expect(map.size).toBe(2);
      expect(drain(map)).toEqual(order);
    }
  });

  it('reports a missing key on get and delete, and has no oldest key when empty', () => {
    const map = filled('a');
    expect(map.get('b')).toBeUndefined();
    expect(map.delete('b')).toBe(false);
    expect(map.delete('a')).toBe(true);
    expect(map.size).toBe(0);
    expect(map.oldestKey()).toBeUndefined();
    map.set('c', 1);
    expect(drain(map)).toEqual(['c']);
  });

  it('keeps a hot key and evicts the rest in order under long churn', () => {
    // One key read between every insert, as a service reusing one token while others come and go.
    const map = filled('hot');
    for (let i = 0; i < 5_000; i += 1) {
      map.set(`k${i}`, i);
      expect(map.get('hot')).toBe(0);
      if (map.size > 100) map.delete(map.oldestKey()!);
    }
    expect(map.size).toBe(100);
    const order = drain(map);
    expect(order.at(-1)).toBe('hot');
    expect(order.slice(0, -1)).toEqual(Array.from({ length: 99 }, (_, i) => `k${4_901 + i}`));
  });
});
