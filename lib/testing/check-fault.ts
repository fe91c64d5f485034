import { ConfigError } from '../errors.js';
import { MAX_TIMER_MS, optionalNumber, rejectUnknownKeys } from '../internal/option-checks.js';
import type { TestFault } from './test-faults.js';

/** The members each fault kind may have, besides `kind`. */
const FAULT_MEMBERS: Readonly<Record<TestFault['kind'], readonly string[]>> = Object.freeze({
  status: ['status', 'retryAfter'],
  reset: [],
  hang: [],
  delay: ['ms'],
  drip: ['bytesPerSecond'],
  garbage: [],
  huge: ['bytes'],
  redirect: ['location'],
});

/** What node:http refuses in a header value (its own check throws from inside `writeHead`). */
const INVALID_HEADER_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

/**
 * Checks a `TestFault` as `setFault` receives it and returns a frozen copy. A fault that the
 * server cannot send would otherwise throw inside its request handler (crashing the test
 * process) or leave the request hanging, far from the mistake.
 * @param where the public method name that starts each message
 * @throws ConfigError naming the wrong kind or member
 */
export function checkFault(where: string, fault: unknown): TestFault {
  if (typeof fault !== 'object' || fault === null || Array.isArray(fault)) {
    throw new ConfigError(`${where}: the fault must be an object with a \`kind\`, or null`);
  }
  const { kind } = fault as { kind?: unknown };
  if (typeof kind !== 'string' || !Object.hasOwn(FAULT_MEMBERS, kind)) {
    throw new ConfigError(`${where}: unknown fault kind "${String(kind)}" (one of ${Object.keys(FAULT_MEMBERS).join(', ')})`);
  }
  const members = FAULT_MEMBERS[kind as TestFault['kind']];
  rejectUnknownKeys(where, fault, new Set(['kind', ...members]));
  const f = fault as Record<string, unknown>;
  const name = (member: string): string => `${where}: \`${member}\` of a '${kind}' fault`;
  switch (kind) {
    case 'status':
      // 1xx would be an interim answer that leaves the client waiting for a final one.
      required(name('status'), f.status, 200, { max: 599, integer: true });
      if (f.retryAfter !== undefined && (typeof f.retryAfter !== 'string' || INVALID_HEADER_CHAR.test(f.retryAfter))) {
        throw new ConfigError(`${name('retryAfter')} must be a string that can be a header value`);
      }
      break;
    case 'delay':
      // Node fires a longer timer at once: the "delay" would vanish.
      required(name('ms'), f.ms, 0, { max: MAX_TIMER_MS });
      break;
    case 'drip':
      optionalNumber(name('bytesPerSecond'), f.bytesPerSecond, 0, { exclusiveMin: true });
      break;
    case 'huge':
      required(name('bytes'), f.bytes, 0, { max: Number.MAX_SAFE_INTEGER, integer: true });
      break;
    case 'redirect':
      if (typeof f.location !== 'string' || f.location === '' || INVALID_HEADER_CHAR.test(f.location)) {
        throw new ConfigError(`${name('location')} is required (a non-empty string that can be a header value)`);
      }
      break;
  }
  return Object.freeze({ ...f }) as TestFault;
}

/** `optionalNumber`, with a missing value refused by the same "must be …" message. */
function required(where: string, value: unknown, min: number, rules: Parameters<typeof optionalNumber>[3]): void {
  optionalNumber(where, value === undefined ? null : value, min, rules);
}
