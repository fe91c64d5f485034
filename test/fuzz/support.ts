import { appendFileSync } from 'node:fs';
import { createHmac, sign, type KeyObject } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, vi } from 'vitest';
import { createVerifier, isAuthError, type Verifier } from '../../lib/index.js';
import { startFaultyServer, type FaultyServer } from '../helpers/faulty-server.js';
import { sharedKey, type TestKey } from '../helpers/keys.js';
import { encodeJSON, NOW, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/tokens.js';

// Shared pieces of the property-based suites in test/fuzz: run counts, the token corpus and its
// mutations, the oracle that says which tokens must be accepted, and the run report.

// ---------------------------------------------------------------------------------------------
// Run counts and reporting

/**
 * Runs per property. Bounded by default so the whole fuzz suite stays well under a minute in CI;
 * `FUZZ_RUNS=n` sets the count of each fast (in-process) property to `n`, and of each HTTP one
 * to `n / 10` (`npm run fuzz` sets it for the long run). `FUZZ_SEED` replays a reported seed.
 */
export function numRuns(kind: 'fast' | 'http' | 'signing'): number {
  const requested = Number(process.env.FUZZ_RUNS);
  const defaults = { fast: 400, signing: 250, http: 120 } as const;
  if (!Number.isFinite(requested) || requested <= 0) return defaults[kind];
  return kind === 'http' ? Math.max(defaults.http, Math.round(requested / 10)) : Math.max(defaults[kind], Math.round(requested));
}

/** fast-check parameters for one property: run count, and the seed when replaying. */
export function fcParams(kind: 'fast' | 'http' | 'signing'): fc.Parameters<unknown> {
  const seed = Number(process.env.FUZZ_SEED);
  return { numRuns: numRuns(kind), ...(Number.isInteger(seed) && { seed }) };
}

/** What one property saw; written to `FUZZ_REPORT` (JSON lines) for `npm run fuzz`. */
export interface PropertyStats {
  property: string;
  cases: number;
  /** Tokens accepted that the oracle says are valid (string-equal to a validly signed one). */
  accepted: number;
  /** Tokens accepted that the oracle says must be refused: must stay 0. */
  acceptedForged: number;
  /** 5xx answers, or (in process) rejections that are not a 4xx AuthError: must stay 0. */
  serverErrors: number;
  /** For the long-run resource properties: RSS (`rssAtTenths` after a GC at each tenth of the run) and heap + external memory after GC, in bytes. */
  memory?: { rssStart: number; rssEnd: number; rssPeak: number; usedStart: number; usedEnd: number; rssAtTenths: number[] };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after a full GC, in bytes. */
export function heapAfterGC(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** RSS right after a full GC, in bytes: without the sawtooth of garbage not yet collected. */
export function rssAfterGC(): number {
  gc();
  return process.memoryUsage.rss();
}

/** Heap plus memory outside it (Buffers, array buffers) after a full GC, in bytes. */
export function usedAfterGC(): number {
  gc();
  gc();
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

/**
 * Collects per-property stats and the file's RSS (start, peak sampled every 500 cases, end),
 * and counts unhandled rejections from the moment it is created.
 */
export function createFuzzReport(file: string) {
  const stats: PropertyStats[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  const rssStart = process.memoryUsage.rss();
  const heapStart = heapAfterGC();
  let rssPeak = rssStart;
  let sampled = 0;

  return {
    unhandled,
    /** Starts the stats of one property. */
    property(name: string): PropertyStats {
      const entry: PropertyStats = { property: name, cases: 0, accepted: 0, acceptedForged: 0, serverErrors: 0 };
      stats.push(entry);
      return entry;
    },
    /** Call once per case: samples RSS now and then. */
    tick(): void {
      sampled += 1;
      if (sampled % 500 === 0) rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    },
    /** Fails when an unhandled rejection happened; waits a macrotask first so Node can report them. */
    async expectNoUnhandledRejection(): Promise<void> {
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    },
    /** Writes the report line (when `FUZZ_REPORT` names a file) and stops listening. */
    finish(): void {
      process.off('unhandledRejection', onUnhandled);
      const rssEnd = process.memoryUsage.rss();
      rssPeak = Math.max(rssPeak, rssEnd);
      const target = process.env.FUZZ_REPORT;
      if (target === undefined || target === '') return;
      const line = { file, properties: stats, unhandledRejections: unhandled.length, rss: { start: rssStart, end: rssEnd, peak: rssPeak }, heap: { start: heapStart, end: heapAfterGC() } };
      appendFileSync(target, `${JSON.stringify(line)}\n`);
    },
  };
}

/** How a verification ended, as the properties classify it. */
export type Outcome = 'accepted' | 'rejected' | 'server_error';

/** Classifies a settled verification: a 4xx AuthError is a rejection; anything else is a server error. */
export function outcomeOf(settled: PromiseSettledResult<unknown>): Outcome {
  if (settled.status === 'fulfilled') return 'accepted';
  const err = settled.reason;
  return isAuthError(err) && err.status >= 400 && err.status < 500 ? 'rejected' : 'server_error';
}

/** Records one case in `stats` and returns whether it was right: accepted exactly when it should be, never a server error. */
export function record(stats: PropertyStats, outcome: Outcome, shouldAccept: boolean): boolean {
  stats.cases += 1;
  if (outcome === 'server_error') stats.serverErrors += 1;
  if (outcome === 'accepted') {
    if (shouldAccept) stats.accepted += 1;
    else stats.acceptedForged += 1;
  }
  return outcome !== 'server_error' && (outcome === 'accepted') === shouldAccept;
}

// ---------------------------------------------------------------------------------------------
// Keys, policy and the valid corpus

/** The keys the JWKS publishes: one RSA (RS256) and one EC (ES256) key. */
export const RS = sharedKey('k1');
export const ES = sharedKey('e1', 'ES256');
/** Keys the JWKS does not publish: the attacker's. */
export const ROGUE_RS = sharedKey('rogue-rs');
export const ROGUE_ES = sharedKey('rogue-es', 'ES256');

/** The policy every fuzzed verifier runs with (besides its JWKS URL). */
export const POLICY = { issuer: TEST_ISSUER, audience: TEST_AUDIENCE, algorithms: ['RS256', 'ES256'], clockTolerance: 5 } as const;

/** The published JWKS document. */
export const JWKS_DOCUMENT = { keys: [RS.jwk, ES.jwk] };

/** A signer: which key makes the signature and with which JWS algorithm. */
export interface Signer {
  readonly key: TestKey;
  readonly alg: 'RS256' | 'ES256';
}

const GENUINE_SIGNERS: readonly Signer[] = [{ key: RS, alg: 'RS256' }, { key: ES, alg: 'ES256' }];

/** Signs `header.payload` text (already base64url) with a signer; the header's own `alg` plays no part. */
export function signInput(signingInput: string, signer: Signer | { privateKey: KeyObject; alg: 'RS256' | 'ES256' }): string {
  const privateKey = 'key' in signer ? signer.key.privateKey : signer.privateKey;
  const options = signer.alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' as const } : privateKey;
  return sign('sha256', Buffer.from(signingInput), options).toString('base64url');
}

/** Encodes and signs a header object and payload object. */
export function compact(header: unknown, payload: unknown, signer: Signer): string {
  const input = `${encodeJSON(header)}.${encodeJSON(payload)}`;
  return `${input}.${signInput(input, signer)}`;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: 'user-1', iat: NOW, exp: NOW + 300, ...extra };
}

/** Validly signed tokens that the policy accepts: the only strings a verifier may ever accept unmodified. */
export const VALID_TOKENS: readonly string[] = [
  compact({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, claims(), { key: RS, alg: 'RS256' }),
  compact({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, claims({ scope: 'read write', aud: ['https://other.test', TEST_AUDIENCE] }), { key: RS, alg: 'RS256' }),
  compact({ alg: 'RS256' }, claims({ nbf: NOW - 10 }), { key: RS, alg: 'RS256' }),
  compact({ alg: 'ES256', typ: 'JWT', kid: 'e1' }, claims({ sub: 'wallet-0x01' }), { key: ES, alg: 'ES256' }),
  compact({ alg: 'RS256', typ: 'at+jwt', kid: 'k1' }, claims({ client_id: 'c-1', jti: 'j-1' }), { key: RS, alg: 'RS256' }),
];
const VALID_SET = new Set(VALID_TOKENS);

/** True when `token` is string-equal to one of the validly signed corpus tokens. */
export function isValidToken(token: string): boolean {
  return VALID_SET.has(token);
}

// ---------------------------------------------------------------------------------------------
// The oracle: the documented rules, restated independently of lib/

const ACCEPTED_TYPES = new Set(['jwt', 'application/jwt', 'at+jwt', 'application/at+jwt']);

/**
 * Whether a header signed by `signer` must be accepted: `alg` equal to the signature's algorithm
 * (in the allow-list), `typ` absent or a JWT type (case-insensitive, RFC 7515 §4.1.9), no
 * `crit` (§4.1.11) or `b64` (RFC 7797), no key-carrying member (`jku`, `jwk`, `x5u`, `x5c`), no
 * nested-JWT `cty`, and `kid` the signer's or absent (exactly one published key fits each alg).
 */
export function headerShouldBeAccepted(header: Record<string, unknown>, signer: Signer): boolean {
  if (header.alg !== signer.alg) return false;
  if (header.typ !== undefined && !(typeof header.typ === 'string' && ACCEPTED_TYPES.has(header.typ.toLowerCase()))) return false;
  for (const member of ['crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c']) if (header[member] !== undefined) return false;
  if (header.cty !== undefined && String(header.cty).toUpperCase() === 'JWT') return false;
  return header.kid === undefined || header.kid === signer.key.kid;
}

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * Whether verified claims must be accepted at `NOW` (RFC 7519 §4.1): `iss` equal to the issuer,
 * `aud` the audience or an array of strings holding it, `exp` a NumericDate with
 * `now < exp + tolerance`, `nbf`/`iat`, when present, NumericDates not beyond `now + tolerance`,
 * and `sub`, `jti`, `client_id`, when present, strings (RFC 7519 §4.1.2, §4.1.7; RFC 8693 §4.3).
 */
export function claimsShouldBeAccepted(payload: Record<string, unknown>): boolean {
  const tolerance = POLICY.clockTolerance;
  const { iss, aud, exp, nbf, iat } = payload;
  if (iss !== TEST_ISSUER) return false;
  const audiences = Array.isArray(aud) ? aud : [aud];
  if (!audiences.every((value) => typeof value === 'string') || !audiences.includes(TEST_AUDIENCE)) return false;
  if (!isFiniteNumber(exp) || !(NOW < exp + tolerance)) return false;
  if (nbf !== undefined && !(isFiniteNumber(nbf) && NOW + tolerance >= nbf)) return false;
  if (iat !== undefined && !(isFiniteNumber(iat) && iat <= NOW + tolerance)) return false;
  return ['sub', 'jti', 'client_id'].every((claim) => payload[claim] === undefined || typeof payload[claim] === 'string');
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** A token to try and whether the policy must accept it. */
export interface TokenCase {
  readonly kind: string;
  readonly token: string;
  readonly shouldAccept: boolean;
}

const B64URL_CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
/** Characters a b64token may hold besides base64url (RFC 6750 §2.1), plus the segment separator. */
const HEADER_SAFE_EXTRA = ['.', '~', '+', '/', '='];

const baseToken = fc.constantFrom(...VALID_TOKENS);

function mutationCase(kind: string, token: string): TokenCase {
  return { kind, token, shouldAccept: isValidToken(token) };
}

/** One bit flipped in the decoded bytes of one segment, re-encoded canonically. */
export const bitFlipCase: fc.Arbitrary<TokenCase> = fc.tuple(baseToken, fc.nat(2), fc.nat()).map(([token, segment, position]) => {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[segment]!, 'base64url');
  const bit = position % (bytes.length * 8);
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  parts[segment] = bytes.toString('base64url');
  return mutationCase(`bit flip in segment ${segment}`, parts.join('.'));
});

/** One byte of one segment replaced by any byte value, re-encoded canonically. */
export const byteReplaceCase: fc.Arbitrary<TokenCase> = fc.tuple(baseToken, fc.nat(2), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([token, segment, position, value]) => {
  const parts = token.split('.');
  const bytes = Buffer.from(parts[segment]!, 'base64url');
  bytes[position % bytes.length] = value;
  parts[segment] = bytes.toString('base64url');
  return mutationCase(`byte replaced in segment ${segment}`, parts.join('.'));
});

/**
 * One character replaced, inserted or deleted anywhere in the token string. `headerSafe` keeps the
 * result sendable in an HTTP header (b64token characters only).
 */
export function charEditCase(headerSafe: boolean): fc.Arbitrary<TokenCase> {
  const char = headerSafe
    ? fc.constantFrom(...B64URL_CHARS, ...HEADER_SAFE_EXTRA)
    : fc.oneof(fc.constantFrom(...B64URL_CHARS, ...HEADER_SAFE_EXTRA, ' ', '\t', '\0', '\n', 'é', '\u{1F600}', '\uD800'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }));
  return fc.tuple(baseToken, fc.nat(), fc.constantFrom('replace', 'insert', 'delete'), char).map(([token, position, edit, c]) => {
    const at = position % token.length;
    const edited = edit === 'replace' ? token.slice(0, at) + c + token.slice(at + 1)
      : edit === 'insert' ? token.slice(0, at) + c + token.slice(at)
        : token.slice(0, at) + token.slice(at + 1);
    return mutationCase(`char ${edit}`, edited);
  });
}

/** Segments of the corpus recombined: swapped, dropped, repeated, spliced across tokens, emptied, truncated. */
export const segmentCase: fc.Arbitrary<TokenCase> = (() => {
  const pool = [...new Set(VALID_TOKENS.flatMap((token) => token.split('.'))), ''];
  const segment = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...pool) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...pool), fc.nat()).map(([s, n]) => s.slice(0, n % (s.length + 1))) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('base64url')) },
  );
  return fc.array(segment, { minLength: 1, maxLength: 5 }).map((segments) => mutationCase(`${segments.length} recombined segments`, segments.join('.')));
})();

/** The same token with one segment's base64url re-cased or padded (not canonical or a different value). */
export const encodingCase: fc.Arbitrary<TokenCase> = fc.tuple(baseToken, fc.nat(2), fc.constantFrom('pad', 'upper', 'lower', 'std-base64', 'trailing-bits')).map(([token, segment, how]) => {
  const parts = token.split('.');
  const s = parts[segment]!;
  parts[segment] = how === 'pad' ? `${s}==`
    : how === 'upper' ? s.toUpperCase()
      : how === 'lower' ? s.toLowerCase()
        : how === 'std-base64' ? Buffer.from(s, 'base64url').toString('base64')
          : s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A');
  return mutationCase(`segment ${segment} re-encoded as ${how}`, parts.join('.'));
});

const ALG_VALUES = ['RS256', 'ES256', 'PS256', 'RS384', 'RS512', 'ES384', 'ES512', 'HS256', 'HS512', 'none', 'None', 'NONE', 'nOnE', 'rs256', 'RS256 ', ' RS256', 'RS256\u0000', '', 'EdDSA', 'RSA-OAEP', 'dir'];
const TYP_VALUES = ['JWT', 'jwt', 'Jwt', 'at+jwt', 'AT+JWT', 'application/jwt', 'application/at+jwt', 'APPLICATION/AT+JWT', 'JOSE', 'JOSE+JSON', 'dpop+jwt', 'secevent+jwt', 'JWT ', '', 'application/', 'at+JWT'];
const KID_VALUES = ['k1', 'e1', 'K1', 'k1 ', ' k1', '', 'rogue-rs', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'k'.repeat(256), 'k'.repeat(257), '../k1', 'k1\u0000'];
const CRIT_VALUES: unknown[] = [[], ['b64'], ['exp'], 'b64', null, {}, [''], ['alg'], false, 0];
const CTY_VALUES = ['JWT', 'jwt', 'Jwt', 'json', 'application/json'];

/** A member value: one of the interesting ones for that member, or any JSON value. */
function memberValue(interesting: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...interesting) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** For one member: keep its value (`undefined` when absent), drop it, or set it. */
function memberEdit(interesting: readonly unknown[]): fc.Arbitrary<{ edit: 'keep' } | { edit: 'drop' } | { edit: 'set'; value: unknown }> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant({ edit: 'keep' as const }) },
    { weight: 1, arbitrary: fc.constant({ edit: 'drop' as const }) },
    { weight: 2, arbitrary: memberValue(interesting).map((value) => ({ edit: 'set' as const, value })) },
  );
}

function applyEdits(base: Record<string, unknown>, edits: Record<string, { edit: 'keep' } | { edit: 'drop' } | { edit: 'set'; value: unknown }>): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [member, edit] of Object.entries(edits)) {
    if (edit.edit === 'drop') delete result[member];
    if (edit.edit === 'set') result[member] = edit.value;
  }
  return result;
}

/** A header derived from a genuine one: `alg`, `typ`, `kid`, `crit`, `cty` and key-carrying members edited, sometimes `__proto__`. */
const editedHeader = (signer: Signer): fc.Arbitrary<Record<string, unknown>> => fc.record({
  alg: memberEdit(ALG_VALUES),
  typ: memberEdit(TYP_VALUES),
  kid: memberEdit(KID_VALUES),
  crit: fc.oneof({ weight: 4, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: memberValue(CRIT_VALUES).map((value) => ({ edit: 'set' as const, value })) }),
  cty: fc.oneof({ weight: 4, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.constantFrom(...CTY_VALUES).map((value) => ({ edit: 'set' as const, value })) }),
  b64: fc.oneof({ weight: 6, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.constantFrom(false, true, null).map((value) => ({ edit: 'set' as const, value })) }),
  jku: fc.oneof({ weight: 8, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.constant({ edit: 'set' as const, value: 'http://127.0.0.1:1/jwks' }) }),
  jwk: fc.oneof({ weight: 8, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.constant({ edit: 'set' as const, value: ROGUE_RS.jwk }) }),
  x5c: fc.oneof({ weight: 8, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.constant({ edit: 'set' as const, value: ['MIIB'] }) }),
  extra: fc.oneof({ weight: 5, arbitrary: fc.constant({ edit: 'keep' as const }) }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value) => ({ edit: 'set' as const, value })) }),
}).map((edits) => {
  const { extra, ...members } = edits;
  const header = applyEdits({ alg: signer.alg, typ: 'JWT', kid: signer.key.kid }, members);
  if (extra.edit === 'set') header.x_extra = extra.value;
  return header;
});

/** A header as raw JSON text: the edited header, sometimes with a `__proto__` or `constructor` member that tries to smuggle one in. */
const headerText = (signer: Signer): fc.Arbitrary<{ text: string; parsed: Record<string, unknown> }> =>
  fc.tuple(editedHeader(signer), fc.constantFrom('none', '__proto__', 'constructor', 'escaped __proto__', 'duplicate alg')).map(([header, smuggle]) => {
    const json = JSON.stringify(header);
    const body = json.slice(1, -1);
    const sep = body === '' ? '' : ',';
    const text = smuggle === 'none' ? json
      : smuggle === '__proto__' ? `{${body}${sep}"__proto__":{"alg":"none","kid":"k1","typ":"JWT"}}`
        : smuggle === 'constructor' ? `{${body}${sep}"constructor":{"prototype":{"alg":"none"}}}`
          : smuggle === 'escaped __proto__' ? `{${body}${sep}"\\u005f_proto__":{"crit":["x"]}}`
            : `{"alg":"none"${sep}${body}}`;
    // JSON.parse keeps `__proto__` as an own member that never changes a lookup of alg, kid or typ.
    return { text, parsed: JSON.parse(text) as Record<string, unknown> };
  });

/** A re-encoded header that keeps the genuine payload and signature: must fail unless byte-identical. */
export const headerKeptSignatureCase: fc.Arbitrary<TokenCase> = fc.tuple(fc.constantFrom(...GENUINE_SIGNERS), fc.nat(VALID_TOKENS.length - 1)).chain(([signer, index]) =>
  headerText(signer).map(({ text }) => {
    const [, payload, signature] = VALID_TOKENS[index]!.split('.');
    return mutationCase('re-encoded header, old signature', `${Buffer.from(text).toString('base64url')}.${payload}.${signature}`);
  }));

/** A re-encoded header signed again by a published key: accepted exactly when the header rules allow. */
export const headerResignedCase: fc.Arbitrary<TokenCase> = fc.constantFrom(...GENUINE_SIGNERS).chain((signer) =>
  headerText(signer).map(({ text, parsed }) => {
    const input = `${Buffer.from(text).toString('base64url')}.${encodeJSON(claims())}`;
    return { kind: 're-signed header', token: `${input}.${signInput(input, signer)}`, shouldAccept: headerShouldBeAccepted(parsed, signer) };
  }));

const NUMBERS = [NOW, NOW - 5, NOW - 6, NOW - 4, NOW + 4, NOW + 5, NOW + 6, NOW + 300, NOW - 300, NOW + 0.5, NOW - 5.5, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER, 2 ** 53 + 1, 1e-300, -0, Number.MIN_VALUE];
const CLAIM_VALUES: Record<string, readonly unknown[]> = {
  iss: [TEST_ISSUER, `${TEST_ISSUER}/`, TEST_ISSUER.toUpperCase(), '', 'https://evil.test', [TEST_ISSUER], { iss: TEST_ISSUER }, null, 0],
  aud: [TEST_AUDIENCE, [TEST_AUDIENCE], ['x', TEST_AUDIENCE], [TEST_AUDIENCE, 1], [TEST_AUDIENCE, null], [], [[TEST_AUDIENCE]], `${TEST_AUDIENCE} `, `${TEST_AUDIENCE}/`, null, { aud: TEST_AUDIENCE }],
  exp: [...NUMBERS, `${NOW + 300}`, null, true, [NOW + 300], {}],
  nbf: [...NUMBERS, `${NOW}`, null, false, [NOW], {}],
  iat: [...NUMBERS, `${NOW}`, null, [NOW], {}],
  sub: ['user-1', '', 'admin', 1, null, ['a'], {}],
  scope: ['read', 'read write', '', 'admin', ['read'], 1, null],
  jti: ['j-1', '', 1, null],
  client_id: ['c-1', '', 1, null],
};

/**
 * Genuine claims with one to three registered claims dropped or replaced by a value of every
 * JSON type (the others kept valid, so that each rule is reached on its own).
 */
export const claimsResignedCase: fc.Arbitrary<TokenCase> = fc.tuple(
  fc.constantFrom(...GENUINE_SIGNERS),
  fc.uniqueArray(fc.constantFrom(...Object.keys(CLAIM_VALUES)), { minLength: 1, maxLength: 3 })
    .chain((names) => fc.tuple(...names.map((name) => memberEdit(CLAIM_VALUES[name]!).map((edit) => [name, edit] as const)))),
).map(([signer, edits]) => {
  const payload = applyEdits(claims(), Object.fromEntries(edits));
  // What the verifier will see after JSON: -0 becomes 0, non-finite numbers become null.
  const decoded = JSON.parse(JSON.stringify(payload)) as Record<string, unknown>;
  const header = { alg: signer.alg, typ: 'JWT', kid: signer.key.kid };
  return { kind: 're-signed claims', token: compact(header, payload, signer), shouldAccept: claimsShouldBeAccepted(decoded) };
});

const RAW_NUMBERS = ['1e400', '-1e400', '1e-400', '123456789012345678901234567890', '9007199254740993', '-0', '0.0000001', `${NOW + 300}.999999999999`, `${NOW}e0`, `${NOW + 300}E+0`, '1E308', '-1E308'];
const RAW_KEYS = ['iss', 'aud', 'exp', 'nbf', 'iat', 'sub', '__proto__', 'constructor', 'prototype', '\\u005f_proto__', '\\u0065xp', '\\u0069ss'];

/**
 * Claims as raw JSON text: duplicate keys (the last one wins, as in every JSON.parse), keys
 * spelled with escapes, `__proto__` members, and numbers JSON can write but a double cannot hold.
 */
export const rawClaimsResignedCase: fc.Arbitrary<TokenCase> = fc.tuple(
  fc.constantFrom(...GENUINE_SIGNERS),
  fc.array(fc.tuple(
    fc.constantFrom(...RAW_KEYS),
    fc.oneof(
      fc.constantFrom(...RAW_NUMBERS),
      fc.constantFrom(...NUMBERS.map((n) => JSON.stringify(n))),
      fc.constantFrom(JSON.stringify(TEST_ISSUER), JSON.stringify(TEST_AUDIENCE), JSON.stringify([TEST_AUDIENCE]), '{"iss":"https://issuer.test","exp":1e308}', 'null', '"x"'),
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
    ),
  ), { maxLength: 8 }),
).map(([signer, members]) => {
  const base = ['"iss":"https://issuer.test"', '"aud":"https://api.test"', `"exp":${NOW + 300}`, `"iat":${NOW}`];
  const text = `{${[...base, ...members.map(([key, value]) => `"${key}":${value}`)].join(',')}}`;
  const parsed = JSON.parse(text) as Record<string, unknown>;
  const input = `${encodeJSON({ alg: signer.alg, typ: 'JWT', kid: signer.key.kid })}.${Buffer.from(text).toString('base64url')}`;
  return { kind: 're-signed raw claims', token: `${input}.${signInput(input, signer)}`, shouldAccept: claimsShouldBeAccepted(parsed) };
});

/** Tokens the attacker signs: rogue keys, HMAC keyed with public key material, `alg: none`. */
export const forgedCase: fc.Arbitrary<TokenCase> = (() => {
  const rsaPem = RS.publicKey.export({ format: 'pem', type: 'spki' }) as string;
  const secrets: readonly (string | Buffer)[] = [rsaPem, Buffer.from(RS.jwk.n!, 'base64url'), RS.publicKey.export({ format: 'der', type: 'spki' }), JSON.stringify(RS.jwk), 'k1', ''];
  const signature = fc.oneof(
    fc.constantFrom<Signer>({ key: ROGUE_RS, alg: 'RS256' }, { key: ROGUE_ES, alg: 'ES256' }).map((signer) => (input: string) => signInput(input, signer)),
    fc.tuple(fc.constantFrom('sha256', 'sha384', 'sha512'), fc.constantFrom(...secrets)).map(([hash, secret]) => (input: string) => createHmac(hash, secret).update(input).digest('base64url')),
    fc.constantFrom('', VALID_TOKENS[0]!.split('.')[2]!, VALID_TOKENS[3]!.split('.')[2]!).map((copied) => () => copied),
    fc.uint8Array({ minLength: 1, maxLength: 512 }).map((bytes) => () => Buffer.from(bytes).toString('base64url')),
  );
  return fc.tuple(fc.constantFrom(...GENUINE_SIGNERS).chain((signer) => headerText(signer)), signature).map(([{ text }, makeSignature]) => {
    const input = `${Buffer.from(text).toString('base64url')}.${encodeJSON(claims({ sub: 'attacker' }))}`;
    return { kind: 'forged signature', token: `${input}.${makeSignature(input)}`, shouldAccept: false };
  });
})();

/** Every kind of token case; `headerSafe` keeps each sendable as `Authorization: Bearer <token>`. */
export function anyTokenCase(headerSafe: boolean): fc.Arbitrary<TokenCase> {
  return fc.oneof(
    fc.constantFrom(...VALID_TOKENS).map((token) => ({ kind: 'valid', token, shouldAccept: true })),
    bitFlipCase,
    byteReplaceCase,
    charEditCase(headerSafe),
    segmentCase,
    encodingCase,
    headerKeptSignatureCase,
    headerResignedCase,
    claimsResignedCase,
    rawClaimsResignedCase,
    forgedCase,
  );
}

/**
 * The set-up the verifier-level suites share: a run report, a warm verifier over a loopback JWKS,
 * and Date frozen at NOW so the oracle and the verifier read the same second. Registers its own
 * beforeAll/afterAll; read `verifier` inside tests.
 */
export function useFuzzVerifier(name: string): { readonly report: ReturnType<typeof createFuzzReport>; readonly verifier: Verifier; readonly jwksUri: string } {
  const report = createFuzzReport(name);
  let server: FaultyServer<'jwks'>;
  let verifier: Verifier | undefined;
  beforeAll(async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
    server = await startFaultyServer({ jwks: { path: `/fuzz-${name}/jwks`, document: () => JWKS_DOCUMENT } });
    verifier = createVerifier({ ...POLICY, jwksUri: server.urlOf('jwks'), allowHttpLoopback: true });
    await verifier.ready();
  });
  afterAll(async () => {
    report.finish();
    vi.useRealTimers();
    await server.close();
  });
  return {
    report,
    get verifier() {
      if (verifier === undefined) throw new Error('useFuzzVerifier: the verifier exists once beforeAll has run');
      return verifier;
    },
    get jwksUri() {
      return server.urlOf('jwks');
    },
  };
}
