import { randomBytes } from 'node:crypto';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startIdpServer, type IdpServer } from '../test/helpers/idp-server.js';
import type { TestKey } from '../test/helpers/keys.js';
import { INTROSPECTION_CLIENT, introspectionOptions, type Contender } from './contenders.js';
import { AUDIENCE, ISSUER, SUBJECT, makeSigningKey, mintToken, mintTokens } from './fixture.js';
import { startServer, type ServerProcess } from './server-pool.js';

export interface EdgePlan {
  /** Contenders run through the JWKS scenarios (bearer-guard first). */
  readonly contenders: readonly Contender[];
  /** bearer-guard's unknown-kid cooldown in ms; `undefined` runs its default (30 000). */
  readonly cooldownMs: number | undefined;
  readonly floodRequests: number;
  readonly stampedeRequests: number;
  readonly opaqueRequests: number;
  /** How often the rotated key is retried after the flood, in ms. */
  readonly pollMs: number;
  /** How long past bearer-guard's cooldown (or past the peers' 30 s defaults) the retry goes on, in ms. */
  readonly pollGraceMs: number;
}

export type Statuses = Record<string, number>;

export interface FloodResult {
  readonly contender: Contender;
  readonly requests: number;
  readonly statuses: Statuses;
  readonly floodMs: number;
  /** JWKS fetches from the first forged request until the last answer. */
  readonly jwksFetchesDuringFlood: number;
  /** When (from the flood's start) the first retry that got 200 with the newly published key was sent; `undefined` if none within the wait. */
  readonly rotatedAcceptedAfterMs: number | undefined;
  /** When the last retry refused before that was sent (the cooldown the flood used up). */
  readonly lastRefusedAfterMs: number | undefined;
  /** How long the retry went on without success, when it never succeeded. */
  readonly waitedMs: number;
  /** Statuses of the rotated-key retries (401 while in cooldown is expected). */
  readonly retryStatuses: Statuses;
  /** JWKS fetches from the flood's start until the rotated key was accepted (or the wait ended). */
  readonly jwksFetchesUntilAccepted: number;
}

export interface StampedeResult {
  readonly contender: Contender;
  readonly requests: number;
  readonly statuses: Statuses;
  readonly jwksFetches: number;
  readonly elapsedMs: number;
}

export type OpaqueResult =
  | { readonly status: 'pending'; readonly why: string }
  | { readonly status: 'ran'; readonly requests: number; readonly statuses: Statuses; readonly introspectionCalls: number; readonly elapsedMs: number };

export interface EdgeResults {
  readonly cooldownMs: number;
  readonly pollMs: number;
  readonly floods: FloodResult[];
  readonly stampedes: StampedeResult[];
  readonly opaque: OpaqueResult;
}

type Log = (line: string) => void;

/** bearer-guard's default unknown-kid cooldown, and the peers' (jose's `cooldownDuration`). */
const DEFAULT_COOLDOWN_MS = 30_000;
/** One connection per request: "concurrent" means that many requests in flight at once. */
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });

export async function runEdges(plan: EdgePlan, log: Log): Promise<EdgeResults> {
  const attacker = makeSigningKey('attacker');
  const floods: Promise<FloodResult>[] = [];
  const stampedes: StampedeResult[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  try {
    for (const contender of plan.contenders) {
      // Each flood leaves a retry loop running (bounded by its wait) while the next contender goes.
      floods.push((await flood(contender, plan, attacker, cleanups, log)).retried);
      stampedes.push(await stampede(contender, plan, log));
    }
    const opaque = await opaqueFlood(plan, log);
    return { cooldownMs: plan.cooldownMs ?? DEFAULT_COOLDOWN_MS, pollMs: plan.pollMs, floods: await Promise.all(floods), stampedes, opaque };
  } finally {
    await Promise.allSettled(floods);
    for (const cleanup of cleanups) await cleanup();
  }
}

function spec(contender: Contender, idp: IdpServer, plan: EdgePlan, extra: { introspectionEndpoint?: string } = {}) {
  return { contender, express: 5 as const, issuer: ISSUER, audience: AUDIENCE, jwksUri: idp.jwksUri, cooldownMs: plan.cooldownMs, ...extra };
}

/**
 * `floodRequests` concurrent requests, each with a forged token under a random unknown `kid`,
 * against a warm server; then the IdP publishes a new key and a token of it is retried every
 * `pollMs` until accepted. Resolves (after the flood itself has been measured) to a promise of
 * the full result, so the retry can run while the next contender is flooded.
 */
async function flood(contender: Contender, plan: EdgePlan, attacker: TestKey, cleanups: (() => Promise<void>)[], log: Log): Promise<{ retried: Promise<FloodResult> }> {
  const key = makeSigningKey();
  const rotated = makeSigningKey();
  const rotatedToken = mintToken(rotated);
  const idp = await startIdpServer({ keys: [key] });
  const closeIdp = once(() => idp.close());
  cleanups.push(closeIdp);
  const server = await startServer(spec(contender, idp, plan));
  cleanups.push(() => server.close());
  const warm = await get(server, mintToken(key));
  if (warm !== 200) throw new Error(`${contender}: a valid token got ${warm} before the flood`);
  const forged = Array.from({ length: plan.floodRequests }, () => mintToken(attacker, {}, { kid: randomBytes(12).toString('hex') }));
  idp.resetHits();
  const startMs = Date.now();
  const statuses = countStatuses(await Promise.all(forged.map((token) => get(server, token))));
  const floodMs = Date.now() - startMs;
  const jwksFetchesDuringFlood = idp.hits.jwks;

  idp.setKeys(key, rotated);
  const cooldownMs = contender.startsWith('bearer-guard') ? plan.cooldownMs ?? DEFAULT_COOLDOWN_MS : DEFAULT_COOLDOWN_MS;
  const deadlineMs = startMs + cooldownMs + plan.pollGraceMs;
  log(`  flood ${contender}: ${plan.floodRequests} forged in ${floodMs} ms, ${jwksFetchesDuringFlood} JWKS fetch(es); retrying the rotated key`);

  const retried = (async () => {
    const retryStatuses: number[] = [];
    let acceptedAtMs: number | undefined;
    let refusedAtMs: number | undefined;
    while (Date.now() < deadlineMs) {
      const sentAtMs = Date.now();
      const status = await get(server, rotatedToken);
      retryStatuses.push(status);
      if (status === 200) {
        acceptedAtMs = sentAtMs;
        break;
      }
      refusedAtMs = sentAtMs;
      await sleep(plan.pollMs);
    }
    const result: FloodResult = {
      contender,
      requests: plan.floodRequests,
      statuses,
      floodMs,
      jwksFetchesDuringFlood,
      rotatedAcceptedAfterMs: acceptedAtMs === undefined ? undefined : acceptedAtMs - startMs,
      lastRefusedAfterMs: refusedAtMs === undefined ? undefined : refusedAtMs - startMs,
      waitedMs: Date.now() - startMs,
      retryStatuses: countStatuses(retryStatuses),
      jwksFetchesUntilAccepted: idp.hits.jwks,
    };
    await server.close();
    await closeIdp();
    return result;
  })();
  return { retried };
}

/** `stampedeRequests` concurrent valid (distinct) tokens against a server that has fetched nothing yet. */
async function stampede(contender: Contender, plan: EdgePlan, log: Log): Promise<StampedeResult> {
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  try {
    const server = await startServer(spec(contender, idp, plan));
    try {
      const tokens = mintTokens(key, plan.stampedeRequests);
      idp.resetHits();
      const startMs = Date.now();
      const statuses = countStatuses(await Promise.all(tokens.map((token) => get(server, token))));
      const result = { contender, requests: tokens.length, statuses, jwksFetches: idp.hits.jwks, elapsedMs: Date.now() - startMs };
      log(`  cold stampede ${contender}: ${result.jwksFetches} JWKS fetch(es), statuses ${JSON.stringify(statuses)}`);
      return result;
    } finally {
      await server.close();
    }
  } finally {
    await idp.close();
  }
}

/**
 * >>> INTROSPECTION SLOT <<< One opaque token, `opaqueRequests` concurrent requests, counted calls
 * to the bench's RFC 7662 endpoint. Runs only when the built package accepts the introspection
 * options (see `introspectionOptions` in contenders.ts); otherwise reports why it is pending.
 */
async function opaqueFlood(plan: EdgePlan, log: Log): Promise<OpaqueResult> {
  const why = await introspectionUnavailable();
  if (why !== undefined) {
    log(`  opaque token: pending (${why})`);
    return { status: 'pending', why };
  }
  const key = makeSigningKey();
  const idp = await startIdpServer({ keys: [key] });
  const introspection = await startIntrospectionEndpoint();
  try {
    const server = await startServer(spec('bearer-guard-introspection', idp, plan, { introspectionEndpoint: introspection.url }));
    try {
      const opaqueToken = randomBytes(32).toString('hex');
      const startMs = Date.now();
      const statuses = countStatuses(await Promise.all(Array.from({ length: plan.opaqueRequests }, () => get(server, opaqueToken))));
      const result = { status: 'ran' as const, requests: plan.opaqueRequests, statuses, introspectionCalls: introspection.calls(), elapsedMs: Date.now() - startMs };
      log(`  opaque token: ${result.introspectionCalls} introspection call(s), statuses ${JSON.stringify(statuses)}`);
      return result;
    } finally {
      await server.close();
    }
  } finally {
    await introspection.close();
    await idp.close();
  }
}

/** Why the opaque scenario cannot run against this build, or `undefined` when it can. */
async function introspectionUnavailable(): Promise<string | undefined> {
  type BearerGuard = typeof import('../lib/index.js');
  const { verifyToken } = (await import('bearer-guard')) as unknown as BearerGuard;
  try {
    const options = { issuer: ISSUER, audience: AUDIENCE, jwksUri: 'http://127.0.0.1:9/jwks', allowHttpLoopback: true, ...introspectionOptions('http://127.0.0.1:9/introspect') };
    verifyToken(options as Parameters<BearerGuard['verifyToken']>[0]);
    return undefined;
  } catch (err) {
    return `the built package refuses the introspection options: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** A loopback RFC 7662 endpoint that answers every token active and counts its calls. */
async function startIntrospectionEndpoint(): Promise<{ url: string; calls(): number; close(): Promise<void> }> {
  let calls = 0;
  const expected = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.clientId}:${INTROSPECTION_CLIENT.clientSecret}`).toString('base64')}`;
  const server: Server = createServer((req, res) => {
    calls += 1;
    req.resume();
    req.on('end', () => {
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const nowSec = Math.floor(Date.now() / 1000);
      const body = { active: true, iss: ISSUER, aud: AUDIENCE, sub: SUBJECT, client_id: 'bench-client', scope: 'read', iat: nowSec, exp: nowSec + 3600 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/introspect`,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** GET /me with a bearer token; resolves to the status, or 0 when the connection failed. */
function get(server: ServerProcess, token: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request(`${server.url}/me`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

function countStatuses(statuses: readonly number[]): Statuses {
  const counts: Statuses = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
