import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createVerifier, type Verifier } from '../../lib/index.js';
import { startFaultyServer, type FaultyServer } from '../helpers/faulty-server.js';
import { encodeJSON, NOW, TEST_AUDIENCE, TEST_ISSUER } from '../helpers/tokens.js';
import { compact, createFuzzReport, ES, JWKS_DOCUMENT, numRuns, POLICY, rssAfterGC, usedAfterGC } from './support.js';

// Resource bounds: a long run of unique forged tokens must leave the heap where it was (failures
// are never cached, nothing is kept per kid, per issuer or per algorithm), and unique *valid*
// tokens fill the verified-token cache only up to its maxEntries.

const report = createFuzzReport('resource');
/** Tokens per run: 12 × the fast run count (4 800 by default, 240 000 with FUZZ_RUNS=20000). */
const COUNT = numRuns('fast') * 12;
const MIB = 1024 * 1024;

let server: FaultyServer<'jwks'>;

beforeAll(async () => {
  vi.useFakeTimers({ toFake: ['Date'], now: NOW * 1000 });
  server = await startFaultyServer({ jwks: { path: '/fuzz-resource/jwks', document: () => JWKS_DOCUMENT } });
});
afterAll(async () => {
  report.finish();
  vi.useRealTimers();
  await server.close();
});

async function warmVerifier(options: Partial<Parameters<typeof createVerifier>[0]> = {}): Promise<Verifier> {
  const verifier = createVerifier({ ...POLICY, jwksUri: server.urlOf('jwks'), allowHttpLoopback: true, ...options });
  await verifier.ready();
  return verifier;
}

const claimsText = (i: number, extra = ''): string => `{"iss":"${TEST_ISSUER}","aud":"${TEST_AUDIENCE}","sub":"forged-${i}","iat":${NOW},"exp":${NOW + 300}${extra}}`;
const b64 = (text: string): string => Buffer.from(text).toString('base64url');

/** The i-th unique forged token, cycling through the ways a forgery reaches different code. */
function forged(i: number): string {
  const signature = randomBytes(256).toString('base64url');
  switch (i % 6) {
    case 0: return `${encodeJSON({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claimsText(i))}.${signature}`; // full RSA verify
    case 1: return `${encodeJSON({ alg: 'RS256', kid: `forged-kid-${i}` })}.${b64(claimsText(i))}.${signature}`; // unknown kid
    case 2: return `${encodeJSON({ alg: 'none' })}.${b64(claimsText(i))}.`;
    case 3: return `${encodeJSON({ alg: 'RS256', kid: 'k1' })}.${b64(claimsText(i).replace(TEST_ISSUER, `https://issuer-${i}.test`))}.${signature}`; // unknown issuer
    case 4: return `${encodeJSON({ alg: `RS${i}`, kid: 'k1' })}.${b64(claimsText(i))}.${signature}`; // unknown alg
    default: return `${randomBytes(40).toString('base64url')}.${randomBytes(80).toString('base64url')}.${signature}`;
  }
}

/** Verifies `count` tokens made by `make`, `batch` at a time; counts outcomes, samples RSS, and records RSS after GC at each tenth of the run. */
async function run(verifier: Verifier, count: number, make: (i: number) => string, batch = 50): Promise<{ accepted: number; serverErrors: number; rssPeak: number; rssAtTenths: number[] }> {
  const stats = { accepted: 0, serverErrors: 0, rssPeak: process.memoryUsage.rss(), rssAtTenths: [] as number[] };
  const tenth = Math.max(batch, Math.floor(count / 10 / batch) * batch);
  for (let start = 0; start < count; start += batch) {
    if (start % 1_000 === 0) stats.rssPeak = Math.max(stats.rssPeak, process.memoryUsage.rss());
    if (start > 0 && start % tenth === 0) stats.rssAtTenths.push(rssAfterGC());
    const results = await Promise.allSettled(Array.from({ length: Math.min(batch, count - start) }, (_, j) => verifier.verify(make(start + j))));
    for (const result of results) {
      report.tick();
      if (result.status === 'fulfilled') stats.accepted += 1;
      else if ((result.reason as { status?: number }).status !== 401) stats.serverErrors += 1;
    }
  }
  return stats;
}

describe('resource bounds under a long run of tokens', () => {
  it(`keeps the heap flat over ${COUNT} unique forged tokens, and accepts none`, async () => {
    const verifier = await warmVerifier();
    await run(verifier, 600, forged); // JIT and lazy structures settle first
    const before = usedAfterGC();
    const rssStart = rssAfterGC();
    const stats = report.property('unique forged tokens');
    const outcome = await run(verifier, COUNT, (i) => forged(i + 600));
    const rssEnd = rssAfterGC();
    const after = usedAfterGC();
    Object.assign(stats, {
      cases: COUNT, accepted: 0, acceptedForged: outcome.accepted, serverErrors: outcome.serverErrors,
      memory: { rssStart, rssEnd, rssPeak: Math.max(outcome.rssPeak, rssEnd), usedStart: before, usedEnd: after, rssAtTenths: outcome.rssAtTenths },
    });
    await report.expectNoUnhandledRejection();
    expect(outcome).toMatchObject({ accepted: 0, serverErrors: 0 });
    expect((after - before) / MIB).toBeLessThan(4);
    // RSS settles within the first tenth (heap spaces and malloc arenas grow once), then stays flat.
    expect((rssEnd - outcome.rssAtTenths[0]!) / MIB).toBeLessThan(32);
  });

  it('fetches the JWKS at most once more for a flood of unique forged kids', async () => {
    const verifier = await warmVerifier({ jwks: { cooldown: 30_000 } });
    const before = server.hits.jwks;
    await run(verifier, 2_000, (i) => `${encodeJSON({ alg: 'RS256', kid: `flood-${i}` })}.${b64(claimsText(i))}.${randomBytes(256).toString('base64url')}`);
    expect(server.hits.jwks - before).toBeLessThanOrEqual(1);
  });

  it('keeps the verified-token cache to maxEntries over unique valid tokens', async () => {
    const maxEntries = 200;
    const verifier = await warmVerifier({ tokenCache: { maxEntries } });
    const valid = (i: number): string => compact({ alg: 'ES256', kid: 'e1' }, { iss: TEST_ISSUER, aud: TEST_AUDIENCE, sub: `u-${i}`, exp: NOW + 300, pad: 'p'.repeat(1_000) }, { key: ES, alg: 'ES256' });
    await run(verifier, maxEntries, valid);
    const before = usedAfterGC();
    const rssStart = rssAfterGC();
    const count = Math.max(3_000, COUNT / 4);
    const stats = report.property('unique valid tokens');
    const outcome = await run(verifier, count, (i) => valid(i + maxEntries));
    const rssEnd = rssAfterGC();
    const after = usedAfterGC();
    Object.assign(stats, {
      cases: count, accepted: outcome.accepted, acceptedForged: 0, serverErrors: outcome.serverErrors,
      memory: { rssStart, rssEnd, rssPeak: Math.max(outcome.rssPeak, rssEnd), usedStart: before, usedEnd: after, rssAtTenths: outcome.rssAtTenths },
    });
    expect(outcome).toMatchObject({ accepted: count, serverErrors: 0 });
    // Unbounded, 3 000 entries of ≥ 2 KiB each would be over 6 MiB.
    expect((after - before) / MIB).toBeLessThan(2);
  });
});
