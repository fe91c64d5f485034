// The process bench/profile.ts runs under `node --cpu-prof`: plain JS, so no TypeScript loader
// shows in the profile; only the built package and a bounded loop. Input comes from the parent.
import { readFileSync } from 'node:fs';
import { createVerifier } from 'bearer-guard';

const { jwksUri, tokens, issuer, audience, hit, seconds } = JSON.parse(readFileSync(process.env.BENCH_PROFILE_INPUT, 'utf8'));
const verifier = createVerifier({ issuer, audience, jwksUri, allowHttpLoopback: true, ...(hit ? {} : { tokenCache: false }) });
await verifier.ready();
const deadline = performance.now() + seconds * 1000;
let ops = 0;
while (performance.now() < deadline && ops < 100_000_000) {
  for (let i = 0; i < 64; i += 1) await verifier.verify(tokens[(ops + i) % tokens.length]);
  ops += 64;
}
process.stderr.write(`profile: ${hit ? 'hit' : 'miss'}: ${ops} verifications, ${((seconds * 1e6) / ops).toFixed(2)} µs each (wall)\n`);
