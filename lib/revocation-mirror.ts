import { isPlainObject, parseJSONTextSafely } from './internal/safe-json.js';
import type { ExpiringMember } from './store.js';
import type { JWTPayload } from './types.js';

/**
 * The member that revokes one token. Revocations are stored and sent as a member string plus
 * when it expires.
 * `["t", iss | null, jti]` revokes one token (`null`: that `jti` from any issuer);
 * `["s", iss, sub, before]` revokes a subject's tokens issued before `before` (seconds).
 */
export function tokenMember(iss: string | undefined, jti: string): string {
  return JSON.stringify(['t', iss ?? null, jti]);
}

/** The member that revokes `sub` at `iss` for tokens issued before `beforeSec` (see `tokenMember`). */
export function subjectMember(iss: string, sub: string, beforeSec: number): string {
  return JSON.stringify(['s', iss, sub, beforeSec]);
}

/** How often, at most, expired revocations are swept out of memory. */
const SWEEP_INTERVAL_MS = 10_000;

/**
 * The in-memory copy of a revocation list that every request consults: a few Map look-ups,
 * no I/O. Entries only ever leave by expiring, so a store that was flushed or is unreachable
 * never makes this instance forget a revocation it has seen.
 */
export class RevocationMirror {
  /** Every member → when it expires (ms). */
  readonly #members = new Map<string, number>();
  /** `tokenMember()` → expiry (ms). */
  readonly #tokens = new Map<string, number>();
  /** `[iss, sub]` → the latest `before` (s) and until when it applies (ms). */
  readonly #subjects = new Map<string, { beforeSec: number; untilMs: number }>();
  #sweptAtMs = Date.now();

  /** Adds a member; malformed or expired ones are ignored. Returns true when it was new. */
  add(member: string, expiresAtMs: number, nowMs = Date.now()): boolean {
    if (!(expiresAtMs > nowMs) || (this.#members.get(member) ?? -Infinity) >= expiresAtMs) return false;
    const parsed = parseJSONTextSafely(member);
    if (!Array.isArray(parsed)) return false;
    const [kind, iss, second, beforeSec] = parsed as unknown[];
    if (kind === 't' && (typeof iss === 'string' || iss === null) && typeof second === 'string') {
      this.#tokens.set(member, expiresAtMs);
    } else if (kind === 's' && typeof iss === 'string' && typeof second === 'string' && typeof beforeSec === 'number') {
      const key = JSON.stringify([iss, second]);
      const known = this.#subjects.get(key);
      // Several revocations of one subject: the latest `before` and the longest life win.
      this.#subjects.set(key, { beforeSec: Math.max(beforeSec, known?.beforeSec ?? -Infinity), untilMs: Math.max(expiresAtMs, known?.untilMs ?? -Infinity) });
    } else {
      return false;
    }
    this.#members.set(member, expiresAtMs);
    this.#sweep(nowMs);
    return true;
  }

  /**
   * True when the claims match a revocation: the token's `jti` (for its issuer, or for any), or
   * its subject revoked before the token's `iat`. A token without `iat` whose subject is
   * revoked counts as revoked: nothing shows it was issued after the revocation.
   * @param issuer the issuer to assume when the claims carry no `iss` (an introspection answer)
   */
  isRevoked(claims: JWTPayload, issuer: string, nowMs = Date.now()): boolean {
    if (this.#members.size === 0) return false;
    const iss = typeof claims.iss === 'string' ? claims.iss : issuer;
    if (typeof claims.jti === 'string') {
      if ((this.#tokens.get(tokenMember(iss, claims.jti)) ?? 0) > nowMs) return true;
      if ((this.#tokens.get(tokenMember(undefined, claims.jti)) ?? 0) > nowMs) return true;
    }
    if (typeof claims.sub === 'string') {
      const subject = this.#subjects.get(JSON.stringify([iss, claims.sub]));
      if (subject !== undefined && subject.untilMs > nowMs) return !(typeof claims.iat === 'number' && claims.iat >= subject.beforeSec);
    }
    return false;
  }

  /** Every live member, for writing back to a store that lost them. */
  entries(nowMs = Date.now()): ExpiringMember[] {
    return [...this.#members].filter(([, expiresAtMs]) => expiresAtMs > nowMs).map(([member, expiresAtMs]) => ({ member, expiresAtMs }));
  }

  get size(): number {
    return this.#members.size;
  }

  #sweep(nowMs: number): void {
    if (nowMs - this.#sweptAtMs < SWEEP_INTERVAL_MS) return;
    this.#sweptAtMs = nowMs;
    for (const [member, expiresAtMs] of this.#members) if (expiresAtMs <= nowMs) this.#members.delete(member);
    for (const [member, expiresAtMs] of this.#tokens) if (expiresAtMs <= nowMs) this.#tokens.delete(member);
    for (const [key, { untilMs }] of this.#subjects) if (untilMs <= nowMs) this.#subjects.delete(key);
  }

  /** Sweeps now if due (called by the periodic sync too). */
  sweep(nowMs = Date.now()): void {
    this.#sweep(nowMs);
  }
}

/** Reads a pushed message `{ m, x }`; `undefined` when malformed. */
export function parseRevocationMessage(message: string): ExpiringMember | undefined {
  const parsed = parseJSONTextSafely(message);
  if (!isPlainObject(parsed) || typeof parsed.m !== 'string' || typeof parsed.x !== 'number') return undefined;
  return { member: parsed.m, expiresAtMs: parsed.x };
}
