import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyToken, type VerifiedEvent } from '../../lib/index.js';
import { createApp } from '../helpers/app.js';
import { startFaultyServer, type FaultyServer } from '../helpers/faulty-server.js';
import { jwksOf, sharedKey, type TestKey } from '../helpers/keys.js';
import { signToken } from '../helpers/tokens.js';
import { advance, AUDIENCE, CACHE_MAX_AGE_MS, COOLDOWN_MS, DEADLINE_MS, DEADLINE_SLACK_MS, JWKS_LIMITS } from './fault-table.js';

// Faults that are about what a JWKS *says* rather than how it is delivered: duplicate kids,
// key sets that flap between fetches, content types, and what a 64 MiB answer costs in memory.

const ISSUER = 'https://issuer.test';
const A = sharedKey('a');
const B = sharedKey('b');
const ROGUE = sharedKey('rogue');
const MIB = 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let serial = 0;
let server: FaultyServer<'jwks'>;
let verified: VerifiedEvent[];
let app: ReturnType<typeof createApp>;

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ['Date'] });
  serial += 1;
  server = await startFaultyServer({ jwks: { path: `/jwks-doc-${serial}`, document: () => jwksOf(A) } });
  verified = [];
  app = createApp([verifyToken({
    issuer: ISSUER, audience: AUDIENCE, jwksUri: server.urlOf('jwks'), allowHttpLoopback: true, jwks: JWKS_LIMITS,
    onVerified: (event) => verified.push(event),
  })]);
});
afterEach(async () => {
  vi.useRealTimers();
  await server.close();
});

function tokenOf(key: TestKey, options: { kid?: string | undefined; signingKey?: TestKey } = {}): string {
  const nowSec = Math.floor(Date.now() / 1000);
  const header = 'kid' in options ? { kid: options.kid } : {};
  return signToken(key, { iss: ISSUER, aud: AUDIENCE, iat: nowSec, exp: nowSec + 300 }, { header, signingKey: options.signingKey?.privateKey });
}

async function send(token: string): Promise<{ status: number; reason: string | undefined }> {
  const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`);
  return { status: res.status, reason: res.body.reason };
}

describe('a JWKS that repeats a kid', () => {
  beforeEach(() => {
    server.setDocument('jwks', () => ({ keys: [{ ...A.jwk, kid: 'dup' }, { ...B.jwk, kid: 'dup' }] }));
  });

  it.each([
    ['the first', A],
    ['the second', B],
  ])('accepts a token signed by %s key under that kid', async (_label, key) => {
    expect(await send(tokenOf(key, { kid: 'dup' }))).toEqual({ status: 200, reason: undefined });
  });

  it('rejects a token signed by neither with 401 signature_invalid', async () => {
    expect(await send(tokenOf(A, { kid: 'dup', signingKey: ROGUE }))).toEqual({ status: 401, reason: 'signature_invalid' });
  });

  it('rejects a token without kid with 401 key_not_found, since two keys fit its alg', async () => {
    expect(await send(tokenOf(A, { kid: undefined }))).toEqual({ status: 401, reason: 'key_not_found' });
  });

  it('fetches the set once for tokens of both keys', async () => {
    await send(tokenOf(A, { kid: 'dup' }));
    await send(tokenOf(B, { kid: 'dup' }));
    expect(server.hits.jwks).toBe(1);
  });
});

describe('a JWKS whose keys flap between fetches', () => {
  beforeEach(() => {
    // Odd fetches publish A, even ones B: two IdP replicas out of step behind one load balancer.
    server.setDocument('jwks', (fetch) => jwksOf(fetch % 2 === 1 ? A : B));
  });

  it('accepts a token whose key came back, refetching once per cooldown', async () => {
    const statuses: number[] = [];
    for (let round = 0; round < 6; round += 1) {
      advance(COOLDOWN_MS);
      statuses.push((await send(tokenOf(round % 2 === 0 ? A : B))).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    expect(server.hits.jwks).toBe(6);
  });

  it('answers 401 key_not_found without a fetch for a key that flapped out within the cooldown', async () => {
    await send(tokenOf(A));
    advance(COOLDOWN_MS);
    await send(tokenOf(B)); // refetch: the set is now B
    expect(await send(tokenOf(A))).toEqual({ status: 401, reason: 'key_not_found' });
    expect(server.hits.jwks).toBe(2);
  });

  it('stops answering a cached token from memory once its key has left the set', async () => {
    const token = tokenOf(A);
    await send(token);
    await send(token);
    advance(COOLDOWN_MS);
    await send(tokenOf(B)); // the set is now B: A's cache entry is dead
    advance(COOLDOWN_MS);
    await send(token); // verified again, after a refetch that brings A back
    expect(verified.map((event) => event.cached)).toEqual([false, true, false, false]);
  });

  it('keeps one fetch per cooldown under a flood of tokens of both keys', async () => {
    await send(tokenOf(A));
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => send(tokenOf(i % 2 === 0 ? A : B))));
    expect(results.every((result) => result.status === 200 || result.reason === 'key_not_found')).toBe(true);
    expect(server.hits.jwks).toBeLessThanOrEqual(2);
  });
});

describe('a JWKS served with another content type', () => {
  it.each(['text/plain', 'text/html', 'application/octet-stream', 'application/jwk-set+json'])(
    'is accepted when the body is a valid JWKS (%s: the content type is not checked)',
    async (contentType) => {
      await server.setFault('jwks', { kind: 'content-type', contentType, body: 'document' });
      expect((await send(tokenOf(A))).status).toBe(200);
    },
  );
});

describe('a JWKS endpoint under concurrent load while it hangs', () => {
  it('makes one fetch for 50 concurrent cold requests and answers them all 503 by the deadline', async () => {
    await server.setFault('jwks', { kind: 'hang' });
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 50 }, () => send(tokenOf(A))));
    expect(results.every((result) => result.status === 503)).toBe(true);
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS + DEADLINE_SLACK_MS + 1_000);
    expect(server.hits.jwks).toBe(1);
  });

  it('keeps answering from a fresh set without asking the hanging endpoint', async () => {
    await send(tokenOf(A));
    await server.setFault('jwks', { kind: 'hang' });
    advance(CACHE_MAX_AGE_MS - 1);
    const started = performance.now();
    expect((await send(tokenOf(A))).status).toBe(200);
    expect(performance.now() - started).toBeLessThan(DEADLINE_MS);
    expect(server.hits.jwks).toBe(1);
  });
});

describe('a JWKS endpoint that answers 64 MiB', () => {
  // A 5 s deadline, as by default: here only the byte cap may stop the download.
  beforeEach(() => {
    app = createApp([verifyToken({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.urlOf('jwks'), allowHttpLoopback: true, jwks: { ...JWKS_LIMITS, timeout: 5_000 } })]);
  });

  /** Heap + array buffers, sampled every 2 ms while `run` runs: peak growth and what stays after GC. */
  async function memoryCost(run: () => Promise<unknown>): Promise<{ peakMiB: number; retainedMiB: number }> {
    const used = (): number => {
      const { heapUsed, arrayBuffers } = process.memoryUsage();
      return heapUsed + arrayBuffers;
    };
    gc();
    const before = used();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, used())), 2);
    try {
      await run();
    } finally {
      clearInterval(sampler);
    }
    peak = Math.max(peak, used());
    // The loopback server lives in this process: let its last connection close and free its buffers.
    await server.settled();
    // Garbage of sockets that close asynchronously takes a few cycles: keep the least seen.
    let after = Infinity;
    for (let cycle = 0; cycle < 5; cycle += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      gc();
      after = Math.min(after, used());
    }
    return { peakMiB: (peak - before) / MIB, retainedMiB: (after - before) / MIB };
  }

  it.each([
    ['a chunked body', { kind: 'huge-body', bytes: 64 * MIB, contentLength: false }],
    ['a gzip bomb', { kind: 'gzip-bomb', bytes: 64 * MIB }],
  ] as const)('reads %s no further than the byte cap: the server could send only a few MiB', async (_label, fault) => {
    await server.setFault('jwks', fault);
    expect((await send(tokenOf(A))).status).toBe(503);
    // What the kernel's socket buffers absorb before backpressure stops the sender.
    expect(server.bodyBytesSent.jwks).toBeLessThan(16 * MIB);
  });

  it.each([
    ['a chunked body', { kind: 'huge-body', bytes: 64 * MIB, contentLength: false }],
    ['a gzip bomb', { kind: 'gzip-bomb', bytes: 64 * MIB }],
  ] as const)('peaks under 16 MiB of memory for one request to %s', async (_label, fault) => {
    await server.setFault('jwks', fault);
    const cost = await memoryCost(() => send(tokenOf(A)));
    expect(cost.peakMiB).toBeLessThan(16);
  });

  it.each([
    ['a chunked body', { kind: 'huge-body', bytes: 64 * MIB, contentLength: false }],
    ['a gzip bomb', { kind: 'gzip-bomb', bytes: 64 * MIB }],
  ] as const)('retains under 4 MiB after 20 requests to %s', async (_label, fault) => {
    await server.setFault('jwks', fault);
    const cost = await memoryCost(async () => {
      for (let i = 0; i < 20; i += 1) {
        advance(COOLDOWN_MS);
        expect((await send(tokenOf(A))).status).toBe(503);
      }
    });
    expect(server.hits.jwks).toBe(20);
    expect(cost.retainedMiB).toBeLessThan(4);
  });
});
