/**
 * Two HTTP contenders, A and B, compared over many short alternating runs (A B, then B A, …):
 * the median per-round ratio of req/s and of server CPU per request, with the interquartile
 * range, so that a difference can be told from this machine's noise. Not part of `npm run bench`;
 * a tool for causes, like profile.ts. Run the same contender twice (`A,A`) to see the noise alone.
 *
 *   npx tsx bench/ab.ts bearer-guard-nocache,jsonwebtoken-floor [--rounds 80] [--seconds 0.5] [--express 5]
 */
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startIdpServer } from '../test/helpers/idp-server.js';
import { CONTENDERS, type HttpContender } from './contenders.js';
import { AUDIENCE, ISSUER, makeSigningKey, mintToken } from './fixture.js';
import { startServer, type ServerProcess } from './server-pool.js';
import { median } from './stats.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { rounds: { type: 'string', default: '80' }, seconds: { type: 'string', default: '0.5' }, express: { type: 'string', default: '5' } },
});

interface Run {
  readonly reqPerSec: number;
  readonly cpuUsPerReq: number;
}

async function main(): Promise<void> {
  const names = (positionals[0] ?? '').split(',');
  if (names.length !== 2 || !names.every((name) => (CONTENDERS as readonly string[]).includes(name))) {
    throw new Error(`usage: tsx bench/ab.ts A,B with A and B among: ${CONTENDERS.join(', ')}`);
  }
  const rounds = Number(values.rounds);
  const seconds = Number(values.seconds);
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  const headers = { authorization: `Bearer ${mintToken(key)}` };
  const target = { issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri, cooldownMs: undefined };
  const express = values.express === '4' ? 4 : 5;
  // Two processes even for `A,A`: the comparison is always between two servers.
  const [a, b] = await Promise.all(names.map((name, instance) => startServer({ contender: name as HttpContender, express, ...target }, instance)));
  try {
    const load = (server: ServerProcess, durationSec: number) => autocannon({ url: `${server.url}/me`, connections: 20, duration: durationSec, sampleInt: 100, headers });
    async function measure(server: ServerProcess): Promise<Run> {
      await load(server, 0.1); // unmeasured: the server that sat idle gets its caches back
      await server.cpuStart();
      const result = await load(server, seconds);
      const { cpuUs, requests } = await server.cpuStop();
      return { reqPerSec: result.requests.total / result.duration, cpuUsPerReq: cpuUs / Math.max(1, requests) };
    }
    await load(a!, 1);
    await load(b!, 1);
    const reqRatios: number[] = [];
    const cpuRatios: number[] = [];
    const cpu: [number[], number[]] = [[], []];
    for (let round = 0; round < rounds; round += 1) {
      // A then B, then B then A: a drift of the machine within a pair cancels over two rounds.
      let runA: Run;
      let runB: Run;
      if (round % 2 === 0) {
        runA = await measure(a!);
        runB = await measure(b!);
      } else {
        runB = await measure(b!);
        runA = await measure(a!);
      }
      reqRatios.push(runA.reqPerSec / runB.reqPerSec);
      cpuRatios.push(runA.cpuUsPerReq / runB.cpuUsPerReq);
      cpu[0].push(runA.cpuUsPerReq);
      cpu[1].push(runB.cpuUsPerReq);
    }
    const spread = (ratios: number[]) => {
      const sorted = [...ratios].sort((x, y) => x - y);
      return `${median(sorted).toFixed(3)} (IQR ${sorted[Math.floor(sorted.length / 4)]!.toFixed(2)}–${sorted[Math.floor((sorted.length * 3) / 4)]!.toFixed(2)})`;
    };
    process.stdout.write(`${names[0]} ÷ ${names[1]}, Express ${express}, ${rounds} rounds × ${seconds} s\n`);
    process.stdout.write(`  req/s ratio:            ${spread(reqRatios)}\n`);
    process.stdout.write(`  CPU per request ratio:  ${spread(cpuRatios)}\n`);
    process.stdout.write(`  CPU µs per request:     ${median(cpu[0]).toFixed(1)} vs ${median(cpu[1]).toFixed(1)}\n`);
  } finally {
    await Promise.all([a!.close(), b!.close()]);
    await idp.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
