import { ConfigError } from './errors.js';
import { optionalNumber, rejectUnknownKeys } from './internal/option-checks.js';
import { RevocationMirror, subjectMember, tokenMember } from './revocation-mirror.js';
import { createRevocationGate, type RevocationGate, type StalePolicy } from './revocation-gate.js';
import { createRevocationSync, type RevocationSync } from './revocation-sync.js';
import { isSharedStore, type SharedStore } from './store.js';
import type { JWTPayload } from './types.js';

export type { RevocationGate, StalePolicy } from './revocation-gate.js';

/** Options of `createRevocationList`. */
export interface RevocationListOptions {
  /** Shares revocations with the fleet (see `createRedisStore`). Without it the list is this process's only. */
  store?: SharedStore;
  /** How long the mirror may go unconfirmed by the store before it counts as out of sync, in ms. Default 10 000. */
  maxStaleness?: number;
  /**
   * Out of sync past `maxStaleness` (or never loaded): `'serve'` keeps verifying against what
   * the mirror holds and logs a warning; `'reject'` answers 503 until it is back in sync.
   * Revocations the mirror holds are enforced either way. Default `'serve'`.
   */
  onStale?: StalePolicy;
  /** How long a `revokeSubject` entry is kept after its `before`, in ms: longer than any token lives. Default 30 days. */
  subjectRetention?: number;
  /** How often the mirror checks the store for changes pub/sub may have missed, in ms. Default 1 000. */
  syncInterval?: number;
}

/** A set of revoked tokens and subjects, consulted by `verifyToken({ revocations })` on every request. */
export interface RevocationList {
  /**
   * Revokes one token by its `jti` until its `exp` (seconds). With `iss`, only that issuer's
   * token; without, that `jti` from any issuer. Resolves once the fleet has it; rejects (the
   * revocation then holds on this instance only) when the store did not take it.
   */
  revokeToken(revocation: { jti: string; exp: number; iss?: string }): Promise<void>;
  /**
   * Revokes every token of `sub` at `iss` issued before `before` (seconds, compared with `iat`):
   * "log out everywhere". Without `before`, every token issued up to now, this second included:
   * `iat` counts whole seconds, so `before: Math.floor(Date.now() / 1000)` would spare a token
   * issued earlier in the current second (a login right after the revocation then waits a second).
   */
  revokeSubject(revocation: { iss: string; sub: string; before?: number }): Promise<void>;
  /** Whether verified claims are revoked, by the mirror alone (no I/O). `issuer` stands in for a missing `iss`. */
  isRevoked(claims: JWTPayload, issuer?: string): boolean;
  /** Resolves once the whole shared list is loaded; rejects when the store cannot be read. */
  ready(): Promise<void>;
  /** Stops syncing (timer and subscription); the store's client stays the app's. */
  close(): Promise<void>;
}

/** Revocations are kept this long past `exp`, so a `clockTolerance` never revives a revoked token. */
const EXP_MARGIN_MS = 10 * 60 * 1000;
const DEFAULTS = { maxStaleness: 10_000, onStale: 'serve', subjectRetention: 30 * 24 * 3600 * 1000, syncInterval: 1_000 } as const;
const OPTION_NAMES = new Set(['store', ...Object.keys(DEFAULTS)]);
const GATES = new WeakMap<object, RevocationGate>();

/**
 * Creates a revocation list. Requests consult an in-memory mirror (no store round trip); with a
 * `store`, revocations are persisted, pushed to every instance by pub/sub, and the whole list is
 * loaded before the mirror is trusted (a late starter rejects a revoked token from its first request).
 * @throws ConfigError for a bad option
 * @example
 * const revocations = createRevocationList({ store });
 * app.use(verifyToken({ issuer, audience, store, revocations }));
 * await revocations.revokeToken({ jti: claims.jti, exp: claims.exp, iss: claims.iss });
 */
export function createRevocationList(options: RevocationListOptions = {}): RevocationList {
  const fn = 'createRevocationList';
  rejectUnknownKeys(fn, options, OPTION_NAMES);
  if (options.store !== undefined && !isSharedStore(options.store)) throw new ConfigError(`${fn}: \`store\` must be a shared store, e.g. from \`createRedisStore()\``);
  const onStale = options.onStale ?? DEFAULTS.onStale;
  if (onStale !== 'serve' && onStale !== 'reject') throw new ConfigError(`${fn}: \`onStale\` must be 'serve' or 'reject'`);
  const maxStalenessMs = optionalNumber(`${fn}: \`maxStaleness\``, options.maxStaleness, 1) ?? DEFAULTS.maxStaleness;
  const syncIntervalMs = optionalNumber(`${fn}: \`syncInterval\``, options.syncInterval, 10) ?? DEFAULTS.syncInterval;
  if (syncIntervalMs >= maxStalenessMs) throw new ConfigError(`${fn}: \`syncInterval\` must be shorter than \`maxStaleness\``);
  const retentionMs = optionalNumber(`${fn}: \`subjectRetention\``, options.subjectRetention, 1) ?? DEFAULTS.subjectRetention;

  const mirror = new RevocationMirror();
  const store = options.store;
  const sync: RevocationSync | undefined = store && createRevocationSync(store, mirror, syncIntervalMs, maxStalenessMs);

  async function revoke(member: string, expiresAtMs: number): Promise<void> {
    if (expiresAtMs <= Date.now()) return;
    mirror.add(member, expiresAtMs);
    await sync?.share(member, expiresAtMs);
  }

  const gate = createRevocationGate(mirror, sync, onStale, store?.logger, syncIntervalMs / 1000);

  const list: RevocationList = Object.freeze({
    revokeToken(revocation: { jti: string; exp: number; iss?: string }) {
      const { jti, exp, iss } = checkFields('revokeToken', revocation, { jti: 'string', exp: 'number', iss: 'optional string' });
      return revoke(tokenMember(iss as string | undefined, jti as string), (exp as number) * 1000 + EXP_MARGIN_MS);
    },
    revokeSubject(revocation: { iss: string; sub: string; before?: number }) {
      const fields = checkFields('revokeSubject', revocation, { iss: 'string', sub: 'string', before: 'optional number' });
      const before = (fields.before as number | undefined) ?? Math.floor(Date.now() / 1000) + 1;
      return revoke(subjectMember(fields.iss as string, fields.sub as string, before), before * 1000 + retentionMs);
    },
    isRevoked: (claims: JWTPayload, issuer?: string) => mirror.isRevoked(claims, issuer ?? ''),
    async ready() {
      await sync?.firstAttempt;
      if (sync !== undefined && sync.state(Date.now()) !== 'synced') await sync.reload();
    },
    close: async () => sync?.close(),
  });
  GATES.set(list, gate);
  return list;
}

/** The gate of a list made by `createRevocationList`, or `undefined` for anything else. */
export function revocationGateOf(list: unknown): RevocationGate | undefined {
  return typeof list === 'object' && list !== null ? GATES.get(list) : undefined;
}

type FieldKind = 'string' | 'number' | 'optional string' | 'optional number';

/** Checks the argument of a revoke call; a wrong one is a programming error (TypeError), not a request failure. */
function checkFields(fn: string, input: unknown, fields: Record<string, FieldKind>): Record<string, unknown> {
  if (typeof input !== 'object' || input === null) throw new TypeError(`${fn}: expects an object`);
  const record = input as Record<string, unknown>;
  for (const [name, kind] of Object.entries(fields)) {
    const value = record[name];
    if (kind.startsWith('optional') && value === undefined) continue;
    const numeric = kind.endsWith('number');
    const ok = numeric ? typeof value === 'number' && Number.isFinite(value) : typeof value === 'string' && value !== '';
    if (!ok) throw new TypeError(`${fn}: \`${name}\` must be ${numeric ? 'a finite number (seconds since the epoch)' : 'a non-empty string'}`);
  }
  return record;
}
