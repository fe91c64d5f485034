import { ConfigError } from '../errors.js';

// Small validators for options, shared by every public factory. `where` starts each message,
// e.g. "verifyToken: `clockTolerance`".

/** Throws when `input` is not an object or has a key that is not in `known` (typo detection). */
export function rejectUnknownKeys(fn: string, input: unknown, known: ReadonlySet<string>): void {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError(`${fn}: options must be an object`);
  }
  for (const key of Object.keys(input)) {
    if (!known.has(key)) {
      const hint = closestName(key, known);
      throw new ConfigError(`${fn}: unknown option \`${key}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}`);
    }
  }
}

/** Longest delay `setTimeout` honours (2³¹ − 1 ms); Node fires a longer one at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** What `optionalNumber` asks of a value besides being finite and at least `min`. */
export interface NumberRules {
  /** Refuses `min` itself: the value must be greater (a duration that cannot be 0, say). */
  readonly exclusiveMin?: boolean;
  /** The largest value accepted. Default: no limit. */
  readonly max?: number;
  /** Accepts whole numbers only (counts, sizes in bytes). */
  readonly integer?: boolean;
  /** Named in the message ("a number of seconds ≥ 0"), where a wrong unit is the likely mistake. */
  readonly unit?: string;
}

/**
 * `undefined`, or a finite number ≥ `min` (> `min` with `exclusiveMin`) that meets `rules`.
 * Every failure gets the one message saying what is wanted, e.g. "… must be an integer ≥ 1",
 * "… must be a number > 0 and ≤ 2147483647".
 */
export function optionalNumber(where: string, value: unknown, min: number, rules: NumberRules = {}): number | undefined {
  if (value === undefined) return undefined;
  const { exclusiveMin = false, max = Infinity, integer = false } = rules;
  const wrongKind = typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value));
  if (wrongKind || value < min || (exclusiveMin && value === min) || value > max) {
    throw new ConfigError(`${where} must be ${wantedNumber(min, rules)}`);
  }
  return value;
}

/** `undefined`, or a boolean. */
export function optionalBoolean(where: string, value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ConfigError(`${where} must be true or false`);
  return value;
}

/** A non-empty string. */
export function requiredString(where: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where} is required (a non-empty string)`);
  return value;
}

/** A string or a non-empty array of non-empty strings, as an array. */
export function stringOrStrings(where: string, value: unknown): readonly string[] {
  const values = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(values) || values.length === 0 || !values.every((v) => typeof v === 'string' && v !== '')) {
    throw new ConfigError(`${where} is required (a non-empty string or array of strings)`);
  }
  return Object.freeze([...values]);
}

/** `undefined`, or a function. */
export function optionalFunction<F>(where: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new ConfigError(`${where} must be a function`);
  return value as F;
}

function wantedNumber(min: number, { exclusiveMin, max, integer, unit }: NumberRules): string {
  const bounds: string[] = [];
  if (min > -Infinity) bounds.push(`${exclusiveMin === true ? '>' : '≥'} ${min}`);
  if (max !== undefined) bounds.push(`≤ ${max}`);
  const kind = `${integer === true ? 'an integer' : 'a number'}${unit === undefined ? '' : ` of ${unit}`}`;
  return [kind, bounds.join(' and ')].filter(Boolean).join(' ');
}

/** The known name `key` most likely misspells (same but for case, a prefix, or within two edits), if any. */
export function closestName(key: string, known: ReadonlySet<string>): string | undefined {
  const lower = key.toLowerCase();
  for (const name of known) {
    const candidate = name.toLowerCase();
    if (candidate === lower || candidate.startsWith(lower) || lower.startsWith(candidate) || editDistance(candidate, lower) <= 2) return name;
  }
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}
