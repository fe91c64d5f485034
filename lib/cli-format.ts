// Pure text formatting for the `bearer-guard` CLI: durations, times, safe terminal text, colour.

const UNITS: readonly (readonly [suffix: string, seconds: number])[] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];

/**
 * A duration in its two largest units: `252` → `"4m 12s"`, `7200` → `"2h"`, `90061` → `"1d 1h"`.
 * Fractions of a second are dropped; the sign is ignored.
 */
export function formatDuration(seconds: number): string {
  let rest = Math.floor(Math.abs(seconds));
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [suffix, size] of UNITS) {
    if (parts.length === 2) break;
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0) parts.push(`${count}${suffix}`);
    else if (parts.length > 0) break; // "1d 5s" would read as precise when it is not
  }
  return parts.join(' ');
}

/** A signed offset from now, in seconds: `252` → `"in 4m 12s"`, `-7200` → `"2h ago"`, `0` → `"now"`. */
export function formatRelative(deltaSec: number): string {
  if (Math.abs(deltaSec) < 1) return 'now';
  return deltaSec > 0 ? `in ${formatDuration(deltaSec)}` : `${formatDuration(deltaSec)} ago`;
}

/** A NumericDate (seconds since the epoch) as ISO 8601 UTC, without `.000` when whole. */
export function isoTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  if (Number.isNaN(date.getTime())) return String(seconds);
  return date.toISOString().replace('.000Z', 'Z');
}

/** Claims holding a NumericDate (RFC 7519 §2; `auth_time` from OIDC Core §2). */
export const TIME_CLAIMS: ReadonlySet<string> = new Set(['exp', 'nbf', 'iat', 'auth_time']);

/** What a time claim means relative to now: "expires in 4m 12s", "expired 2h ago", "issued 3m ago". */
export function describeTime(claim: string, valueSec: number, nowSec: number): string {
  const delta = valueSec - nowSec;
  const relative = formatRelative(delta);
  switch (claim) {
    case 'exp':
      return delta > 0 ? `expires ${relative}` : `expired ${relative}`;
    case 'nbf':
      return delta > 0 ? `becomes valid ${relative}` : `became valid ${relative}`;
    case 'iat':
      return `issued ${relative}`;
    default:
      return relative;
  }
}

// C0/C1 controls (ESC starts terminal sequences), and the bidi overrides that make text display
// in another order than it is read: a token's claims must not be able to drive the terminal.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The part of `UNSAFE` that `JSON.stringify` leaves unescaped. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeChar(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/** Text from a token, made safe to print: control and bidi characters shown as `\uXXXX`. */
export function safeText(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/**
 * `JSON.stringify`, with the characters it leaves raw but a terminal might act on (C1 controls,
 * bidi overrides, U+2028/9) escaped too. They can only occur inside strings, so the output stays valid JSON.
 */
export function safeJSON(value: unknown, indent?: number): string {
  return (JSON.stringify(value, null, indent) ?? 'null').replace(UNSAFE_IN_JSON, escapeChar);
}

/** A claim value for one line of human output. */
export function formatValue(value: unknown): string {
  return typeof value === 'string' ? safeText(value) : safeJSON(value);
}

/** ANSI styles, or identity functions when colour is off. */
export interface Style {
  readonly bold: (text: string) => string;
  readonly dim: (text: string) => string;
  readonly red: (text: string) => string;
  readonly green: (text: string) => string;
  readonly yellow: (text: string) => string;
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const PLAIN: Style = Object.freeze({ bold: String, dim: String, red: String, green: String, yellow: String });
const ANSI: Style = Object.freeze({ bold: sgr(1, 22), dim: sgr(2, 22), red: sgr(31, 39), green: sgr(32, 39), yellow: sgr(33, 39) });

/**
 * Colour only for a terminal, and never when `NO_COLOR` is set to a non-empty value (no-color.org).
 * @param isTTY the output stream's `isTTY`
 */
export function createStyle(isTTY: boolean | undefined, env: Readonly<Record<string, string | undefined>>): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return isTTY === true && !noColor ? ANSI : PLAIN;
}
