import { createPublicKey, type KeyObject } from 'node:crypto';
import { classifyKey, keyFitsAlg, type KeyFamily } from './key-policy.js';

/** A key the verifier may check a signature with, imported once per JWKS fetch. */
export interface VerificationKey {
  /** The JWK `kid`, when it had one. */
  readonly kid: string | undefined;
  /** The JWK `alg`, when it had one: the key then verifies only tokens of that `alg`. */
  readonly alg: string | undefined;
  readonly key: KeyObject;
}

/** What jwks-rsa's `getSigningKeys()` hands back, as far as bearer-guard reads it. */
export interface SigningKeyLike {
  kid?: string;
  alg?: string;
  getPublicKey(): string;
}

interface Entry {
  readonly key: VerificationKey;
  readonly family: KeyFamily;
}

/** An immutable snapshot of one successfully fetched JWKS. */
export class KeySet {
  /** `Date.now()` when the fetch that produced it completed. */
  readonly fetchedAtMs: number;
  readonly #entries: readonly Entry[];
  readonly #members: ReadonlySet<VerificationKey>;
  /** Non-empty answers of `candidates`, by alg then kid (`undefined` for none): bounded by the keys in the set, never by what tokens name. */
  readonly #found = new Map<string, Map<string | undefined, readonly VerificationKey[]>>();

  private constructor(entries: readonly Entry[], fetchedAtMs: number) {
    this.#entries = entries;
    this.#members = new Set(entries.map((entry) => entry.key));
    this.fetchedAtMs = fetchedAtMs;
  }

  /**
   * Builds a key set from jwks-rsa's signing keys: each becomes a `KeyObject` here, once per
   * fetch. Keys policy refuses (RSA < 2048 bits) are left out. A key equal to one in `previous`
   * (same `kid`, `alg` and key material) keeps its old `VerificationKey` object, so `has()`
   * stays true across a refresh that did not rotate it.
   */
  static build(signingKeys: readonly SigningKeyLike[], previous: KeySet | undefined, nowMs: number): KeySet {
    const old = previous === undefined ? [] : previous.#entries;
    const entries: Entry[] = [];
    for (const signingKey of signingKeys) {
      const { kid, alg } = signingKey;
      const key = createPublicKey(signingKey.getPublicKey());
      const family = classifyKey(key);
      if (family === undefined) continue;
      const kept = old.find((entry) => entry.key.kid === kid && entry.key.alg === alg && entry.key.key.equals(key));
      entries.push(kept ?? { key: Object.freeze({ kid, alg, key }), family });
    }
    return new KeySet(entries, nowMs);
  }

  /** The keys as public JWKs with their `kid` and `alg` (for sharing a set with a fleet). */
  toJWKs(): Record<string, unknown>[] {
    return this.#entries.map(({ key: { kid, alg, key } }) => ({
      ...key.export({ format: 'jwk' }),
      ...(kid === undefined ? {} : { kid }),
      ...(alg === undefined ? {} : { alg }),
    }));
  }

  /** Number of keys kept. */
  get size(): number {
    return this.#entries.length;
  }

  /** True when this exact object is in the set. */
  has(key: VerificationKey): boolean {
    return this.#members.has(key);
  }

  /**
   * Keys that may verify a token with this header: same `kid` and fitting `alg`; with no `kid`,
   * the one key fitting `alg` when there is exactly one (as jwks-rsa's `getSigningKey()`).
   * Several keys under one `kid` are all returned, so the verifier can try each.
   */
  candidates(kid: string | undefined, alg: string): readonly VerificationKey[] {
    // Two lookups rather than one on `${alg} ${kid}`: no string is built per request.
    const known = this.#found.get(alg)?.get(kid);
    if (known !== undefined) return known;
    const fitting = this.#entries.filter((entry) => keyFitsAlg(entry.family, entry.key.alg, alg));
    const found = kid === undefined ? (fitting.length === 1 ? [fitting[0]!.key] : []) : fitting.filter((entry) => entry.key.kid === kid).map((entry) => entry.key);
    // Only non-empty answers are kept: a kid can only produce one by naming a key of this set.
    if (found.length > 0) {
      let byKid = this.#found.get(alg);
      if (byKid === undefined) this.#found.set(alg, (byKid = new Map()));
      byKid.set(kid, Object.freeze(found));
    }
    return found;
  }
}
