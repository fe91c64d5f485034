import { ConfigError } from './errors.js';
import { stringOrStrings } from './internal/option-checks.js';

/** Signature algorithms bearer-guard verifies (RFC 7518 §3); `none` and HMAC are never accepted. */
export type SupportedAlgorithm = 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

const SUPPORTED_ALGORITHMS: ReadonlySet<string> = new Set<SupportedAlgorithm>(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);

/**
 * Checks an `algorithms` option (a string or a non-empty array) against `SupportedAlgorithm`: the
 * verifier, not the token's `alg`, decides what is accepted (RFC 8725 §3.1). `none` and `HS*` get
 * a message of their own: with public JWKS keys they would let anyone mint tokens (RFC 8725 §2.1).
 * @param where the start of every message, e.g. "verifyToken:" or "verifyToken: `issuers[1]`:"
 * @throws ConfigError naming the first algorithm refused
 */
export function resolveAlgorithms(where: string, value: unknown): readonly SupportedAlgorithm[] {
  const algorithms = stringOrStrings(`${where} \`algorithms\``, value);
  for (const alg of algorithms) {
    if (alg === 'none' || alg.startsWith('HS')) {
      throw new ConfigError(`${where} \`algorithms\` must not contain "${alg}": keys from a JWKS are public, so ${alg === 'none' ? 'unsigned tokens' : 'HMAC'} would let anyone mint tokens`);
    }
    if (!SUPPORTED_ALGORITHMS.has(alg)) {
      throw new ConfigError(`${where} \`algorithms\` contains unsupported "${alg}" (supported: ${[...SUPPORTED_ALGORITHMS].join(', ')})`);
    }
  }
  return algorithms as readonly SupportedAlgorithm[];
}
