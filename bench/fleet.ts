/**
 * Fleet figures for bench/RESULTS.md: three API instances that share nothing but a real
 * redis-server (each its own Redis client, store, revocation list, verifier and HTTP server),
 * against a counting introspection endpoint, on 127.0.0.1. Runs the built package.
 *
 *   npm run build && npx tsx bench/fleet.ts [--requests 1000] [--trials 200]
 *
 * Prints: IdP calls for one opaque token across 3 instances × N requests (target 1), and the
 * time from `revokeToken()` returning on instance A until B and C reject the token (median, p99).
 */
import { Agent, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createApp } from '../test/helpers/app.js';
import { startIntrospectionServer } from '../test/helpers/introspection-server.js';
import { startRedisServer } from '../test/helpers/redis-server.js';

type BearerGuard = typeof import('../lib/index.js');
type BearerGuardRedis = typeof import('../lib/redis/index.js');

const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'https://api.bench';
const SECRET = 'bench-secret';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '1000' }, trials: { type: 'string', default: '200' } } });
const REQUESTS = Number(values.requests);
const TRIALS = Number(values.trials);

async function main(): Promise<void> {
  // The built package, as users get it (package self-reference → dist/).
  const guard = (await import('bearer-guard')) as unknown as BearerGuard;
  const { createRedisStore } = (await import('bearer-guard/redis')) as unknown as BearerGuardRedis;
  const [redis, idp] = await Promise.all([startRedisServer(), startIntrospectionServer({ clientId: 'api', clientSecret: SECRET })]);
  const agent = new Agent({ keepAlive: true, maxSockets: 10 });
  const servers: Server[] = [];

  async function instance() {
    const client = await redis.client();
    const store = createRedisStore({ client, logger: false });
    const revocations = guard.createRevocationList({ store });
    const app = createApp([guard.verifyToken({
      issuer: ISSUER, audience: AUDIENCE, tokenFormat: 'opaque', store, revocations, allowHttpLoopback: true,
      introspection: { clientId: 'api', clientSecret: SECRET, endpoint: idp.introspectionEndpoint },
    })]);
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    servers.push(server);
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/me`;
    const status = (token: string) => new Promise<number>((resolve, reject) => {
      get(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      }).on('error', reject);
    });
    return { revocations, status };
  }

  const fleet = await Promise.all([instance(), instance(), instance()]);
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const answer = (token: string, jti: string) => idp.answer(token, { kind: 'json', body: { active: true, iss: ISSUER, aud: AUDIENCE, sub: 'client-1', exp, jti } });

  // 1. One opaque token, all instances at once, then REQUESTS more each (10 in flight per instance).
  const token = 'bench-opaque-token-hinxbB9GcdmNyImNg3GGeJfsi2jBXO2Q';
  answer(token, 'bench-jti');
  const started = performance.now();
  const statuses = (await Promise.all(fleet.map(async ({ status }) => {
    const seen: number[] = [];
    for (let sent = 0; sent < REQUESTS; sent += 10) seen.push(...(await Promise.all(Array.from({ length: Math.min(10, REQUESTS - sent) }, () => status(token)))));
    return seen;
  }))).flat();
  const elapsedMs = performance.now() - started;
  const calls = idp.requests.filter((r) => r.form.get('token') === token).length;
  const non200 = statuses.filter((s) => s !== 200).length;

  // 2. Revocation propagation: revoke through A, time until B and C both reject (polled via HTTP).
  const samples: number[] = [];
  for (let trial = 0; trial < TRIALS; trial++) {
    const revoked = `bench-revoked-${trial}`;
    answer(revoked, `bench-jti-${trial}`);
    await Promise.all(fleet.map(({ status }) => status(revoked))); // cached everywhere first
    await fleet[0]!.revocations.revokeToken({ jti: `bench-jti-${trial}`, exp, iss: ISSUER });
    const revokedAt = performance.now();
    await Promise.all(fleet.slice(1).map(async ({ status }) => {
      while ((await status(revoked)) !== 401) await new Promise((resolve) => setImmediate(resolve));
    }));
    samples.push(performance.now() - revokedAt);
  }
  samples.sort((x, y) => x - y);
  const pick = (q: number) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]!;

  console.log(`| IdP introspection calls, one opaque token, 3 instances × ${REQUESTS} requests (target 1) | ${calls} |`);
  console.log(`| non-200 answers among those ${statuses.length} requests | ${non200} |`);
  console.log(`| time for the ${statuses.length} requests | ${(elapsedMs / 1000).toFixed(2)} s |`);
  console.log(`| revocation propagation A → B and C, median (${TRIALS} trials) | ${pick(0.5).toFixed(2)} ms |`);
  console.log(`| revocation propagation A → B and C, p99 | ${pick(0.99).toFixed(2)} ms |`);
  console.log(`| revocation propagation A → B and C, max | ${samples.at(-1)!.toFixed(2)} ms |`);

  await Promise.all(fleet.map(({ revocations }) => revocations.close()));
  for (const server of servers) server.closeAllConnections(), server.close();
  agent.destroy();
  await Promise.all([redis.close(), idp.close()]);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
