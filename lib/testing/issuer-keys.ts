import { createTestKey, TEST_KEY_ALGORITHMS, type TestKey, type TestKeyAlgorithm } from './test-key.js';

/** The keys of one test issuer: the one that signs, the ones published, and forgers' keys. */
export interface IssuerKeys {
  /** The key `sign()` uses by default. */
  readonly current: TestKey;
  /** The keys the JWKS publishes, newest first. */
  readonly published: readonly TestKey[];
  /** The JWKS body: the published keys' JWKs, unless `override` replaced it. */
  jwks(): unknown;
  /** Serves `document` as the JWKS body until the next `publish`/`rotate`; `undefined` ends it. */
  override(document: unknown): void;
  /** Publishes exactly `keys`; the first signs from now on. */
  publish(keys: readonly TestKey[]): void;
  /** A new key of the current key's algorithm signs from now on; the old one stays published only with `keepPrevious`. */
  rotate(keepPrevious: boolean): TestKey;
  /** The published key with this `kid`, else the current key. */
  forKid(kid: string | undefined): TestKey;
  /** A key of `alg` (or of the current key's when `alg` is not one a test key can have) that is never published. */
  stranger(alg: string): TestKey;
}

/** The key state of a new issuer: `keys` as given, or one fresh key of `alg`. */
export function createIssuerKeys(alg: TestKeyAlgorithm, keys: readonly TestKey[] | undefined): IssuerKeys {
  let published: readonly TestKey[] = keys ?? [createTestKey({ alg })];
  let current = published[0]!;
  let document: { value: unknown } | undefined;
  const strangers = new Map<string, TestKey>();

  return {
    get current() {
      return current;
    },
    get published() {
      return published;
    },
    jwks: () => (document === undefined ? { keys: published.map((key) => key.jwk) } : document.value),
    override(value) {
      document = value === undefined ? undefined : { value };
    },
    publish(next) {
      published = Object.freeze([...next]);
      if (next[0] !== undefined) current = next[0];
      document = undefined;
    },
    rotate(keepPrevious) {
      const next = createTestKey({ alg: current.alg });
      this.publish(keepPrevious ? [next, ...published] : [next]);
      return next;
    },
    forKid: (kid) => published.find((key) => key.kid === kid) ?? current,
    stranger(alg) {
      const keyAlg = (TEST_KEY_ALGORITHMS.has(alg) ? alg : current.alg) as TestKeyAlgorithm;
      let key = strangers.get(keyAlg);
      if (key === undefined) {
        key = createTestKey({ alg: keyAlg });
        strangers.set(keyAlg, key);
      }
      return key;
    },
  };
}
