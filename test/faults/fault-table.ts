import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { verifyToken, type VerifyTokenOptions } from '../../lib/index.js';
import { createApp } from '../helpers/app.js';
import { startFaultyServer, type FaultyServer, type ServerFault } from '../helpers/faulty-server.js';
import { jwksOf, sharedKey } from '../helpers/keys.js';
import { signToken } from '../helpers/tokens.js';

/**
 * The fault table: every way a network dependency can misbehave, run against one endpoint at a
 * time through a real Express app. `describeFaultTable(target)` asserts, for each fault, the
 * answer the caller gets and how fast, what the cache does afterwards (no new request within the
 * retry window, the last good state still served), that the faulty connection is released, and
 * that recovery is automatic once the server heals.
 *
 * One `FaultTarget` per endpoint, each in `test/faults/<endpoint>.test.ts`: JWKS, discovery,
 * introspection and userinfo. The opaque-token endpoints differ from key sources in three ways
 * the target declares: a new token has no cached answer to fall back on, so only some faults
 * hold the endpoint off (`opensRetryWindow`); what a warm cache serves through a fault is the
 * answer for a token already accepted (`warm.sameCredential`), and only until its cache age
 * (`cacheExpiry`); and an answer can be a verdict on the token rather than an outage
 * (`judgesToken`: userinfo's 401). The faulty server reads and ignores request bodies, so the
 * introspection POST works as it is.
 */

export const KEY = sharedKey('k1');
export const AUDIENCE = 'https://api.test';

/** Total fetch deadline the apps under test are configured with (`jwks.timeout`), in ms. */
export const DEADLINE_MS = 250;
/** JWKS retry window after a failure (`jwks.cooldown`), in ms. */
export const COOLDOWN_MS = 2_000;
/** JWKS freshness (`jwks.cacheMaxAge`), in ms. */
export const CACHE_MAX_AGE_MS = 60_000;
/**
 * How long past `cacheMaxAge` the last good key set is still served (`jwks.cacheMaxAgeFallback`),
 * in ms: shorter than the default hour, so a token minted before the fault outlives the window.
 */
export const CACHE_MAX_AGE_FALLBACK_MS = 10 * 60_000;
/** An answer that needs no deadline comes well under this, even on a loaded 2-core CI machine. */
export const FAST_MS = 1_000;
/** What a deadline-bound answer may take beyond the deadline. */
export const DEADLINE_SLACK_MS = 1_000;

/** The endpoints a faulty server offers. */
export type EndpointName = 'jwks' | 'discovery' | 'introspection' | 'userinfo';

/** Each test's server: its issuer lives under a path of its own, so no process-wide cache is shared. */
export interface FaultContext {
  readonly server: FaultyServer<EndpointName>;
  /** `server.url` + a path unique to this test: the issuer discovery starts from. */
  readonly issuer: string;
}

/** One network dependency under test. */
export interface FaultTarget {
  /** The endpoint of the faulty server that misbehaves. */
  readonly endpoint: EndpointName;
  /** `verifyToken` options for an app whose requests depend on the endpoint (with `jwks: JWKS_LIMITS`). */
  options(context: FaultContext): VerifyTokenOptions;
  /** A credential the healthy endpoint accepts, new on each call so that no cache answers it. */
  credential(context: FaultContext): string;
  /**
   * After a failure, how long the endpoint is not asked again, in ms; `undefined` for an
   * endpoint asked again by the very next request (then no retry-window test is declared).
   */
  readonly retryWindowMs: number | undefined;
  /**
   * Which faults hold the endpoint off for the retry window; default: every fault. A fault that
   * does not is retried by the very next request (a test asserts that instead).
   */
  opensRetryWindow?(fault: FaultCase): boolean;
  /**
   * Which faults the endpoint's protocol reads as a verdict on the token, not as an outage
   * (userinfo's 401, RFC 6750 §3.1): the caller gets a 401 `invalid_token`. Default: none.
   */
  judgesToken?(fault: FaultCase): boolean;
  /** The `Retry-After` (s) a caller gets right after a failure. */
  readonly retryAfterSec: number;
  /**
   * What a warm cache does through the fault: after one good request and `ageMs` of time, a
   * request — with a new credential, or with the one accepted (`sameCredential`) — is still
   * answered 200, after one more try of the endpoint (`asksAgain`) or none. With `atOnce`, that
   * answer waits for no fetch (any try runs in the background): it comes under the fetch deadline
   * whatever the fault, and so does a second request right after it, which asks nothing more.
   * `title` names the behaviour.
   */
  readonly warm: { readonly title: string; readonly ageMs: number; readonly asksAgain: boolean; readonly sameCredential?: boolean; readonly atOnce?: boolean };
  /**
   * Where the warm cache ends: `ageMs` after one good request, that very credential gets the
   * fault's answer (no stale answer is served through the fault). Only for targets that declare it.
   */
  readonly cacheExpiry?: { readonly title: string; readonly ageMs: number };
}

/** The cache settings every app under test uses; discovery shares the deadline and byte cap. */
export const JWKS_LIMITS = { timeout: DEADLINE_MS, cooldown: COOLDOWN_MS, cacheMaxAge: CACHE_MAX_AGE_MS, cacheMaxAgeFallback: CACHE_MAX_AGE_FALLBACK_MS } as const;

/** The same deadline and cache age for the opaque-token path (`introspection` / `userinfo` options). */
export const OPAQUE_LIMITS = { timeout: DEADLINE_MS, cacheMaxAge: CACHE_MAX_AGE_MS } as const;

/** The API's own client at the faulty IdP (the faulty server does not check it). */
export const API_CLIENT = { clientId: 'api', clientSecret: 'api-secret' } as const;

/** One misbehaviour of an endpoint. */
export interface FaultCase {
  /** How the misbehaviour reads in a test name. */
  readonly name: string;
  readonly fault: (redirectTo: string) => ServerFault;
  /** True when only the fetch deadline can end it. */
  readonly untilDeadline: boolean;
  /** True when the server would hold the connection open: only the client hanging up ends it. */
  readonly holdsConnection: boolean;
  /** The `Retry-After` the server sends, in s: honoured when longer than the target's own window. */
  readonly serverRetryAfterSec?: number;
}

const MIB = 1024 * 1024;

const REDIRECT_STATUSES = [301, 302, 303, 307, 308] as const;

/** Every misbehaviour, each a test per target. */
export const FAULTS: readonly FaultCase[] = [
  { name: 'a refused connection', fault: () => ({ kind: 'refused' }), untilDeadline: false, holdsConnection: false },
  { name: 'a connection reset mid-body', fault: () => ({ kind: 'reset-mid-body' }), untilDeadline: false, holdsConnection: false },
  { name: 'a server that never answers', fault: () => ({ kind: 'hang' }), untilDeadline: true, holdsConnection: true },
  { name: 'a body dripped at 1 byte per second', fault: () => ({ kind: 'drip-body', bytesPerSecond: 1 }), untilDeadline: true, holdsConnection: true },
  { name: 'headers dripped at 1 byte per second', fault: () => ({ kind: 'drip-headers', bytesPerSecond: 1 }), untilDeadline: true, holdsConnection: true },
  { name: 'an endless stream of 102 Processing', fault: () => ({ kind: 'informational-flood' }), untilDeadline: true, holdsConnection: true },
  { name: '64 KiB of response headers', fault: () => ({ kind: 'huge-headers', bytes: 64 * 1024 }), untilDeadline: false, holdsConnection: false },
  { name: 'a 64 MiB body with a Content-Length', fault: () => ({ kind: 'huge-body', bytes: 64 * MIB, contentLength: true }), untilDeadline: false, holdsConnection: true },
  { name: 'a 64 MiB chunked body', fault: () => ({ kind: 'huge-body', bytes: 64 * MIB, contentLength: false }), untilDeadline: false, holdsConnection: true },
  { name: 'a gzip bomb that inflates to 64 MiB', fault: () => ({ kind: 'gzip-bomb', bytes: 64 * MIB }), untilDeadline: false, holdsConnection: true },
  { name: 'a body that is not JSON', fault: () => ({ kind: 'invalid-json' }), untilDeadline: false, holdsConnection: false },
  { name: 'a JSON array', fault: () => ({ kind: 'invalid-json', body: '[{"keys":[]}]' }), untilDeadline: false, holdsConnection: false },
  { name: 'an HTML page served as text/html', fault: () => ({ kind: 'content-type', contentType: 'text/html', body: 'html' }), untilDeadline: false, holdsConnection: false },
  ...REDIRECT_STATUSES.map((status): FaultCase => ({
    name: `an HTTP ${status} redirect to another loopback port`,
    fault: (redirectTo) => ({ kind: 'redirect', status, location: redirectTo }),
    untilDeadline: false,
    holdsConnection: false,
  })),
  ...[500, 502, 503, 504, 404, 401].map((status): FaultCase => ({
    name: `HTTP ${status}`,
    fault: () => ({ kind: 'status', status }),
    untilDeadline: false,
    holdsConnection: false,
  })),
  { name: 'HTTP 429 with Retry-After: 120', fault: () => ({ kind: 'status', status: 429, retryAfter: '120' }), untilDeadline: false, holdsConnection: false, serverRetryAfterSec: 120 },
  // An IdP asking for more than 5 minutes is honoured only up to 5 minutes, then tried again.
  { name: 'HTTP 503 with Retry-After: 86400', fault: () => ({ kind: 'status', status: 503, retryAfter: '86400' }), untilDeadline: false, holdsConnection: false, serverRetryAfterSec: 300 },
];

/**
 * A healthy JWKS, discovery document, introspection endpoint (every token active, for an hour)
 * and userinfo endpoint under `/t<serial>`, plus a second server redirects point to.
 */
async function startServers(serial: number): Promise<{ context: FaultContext; redirectTarget: FaultyServer<EndpointName> }> {
  const base = `/t${serial}`;
  const endpoints = (origin: () => string) => ({
    jwks: { path: `${base}/jwks`, document: () => jwksOf(KEY) },
    discovery: {
      path: `${base}/.well-known/openid-configuration`,
      document: () => ({
        issuer: `${origin()}${base}`,
        jwks_uri: `${origin()}${base}/jwks`,
        introspection_endpoint: `${origin()}${base}/introspect`,
        userinfo_endpoint: `${origin()}${base}/userinfo`,
      }),
    },
    introspection: {
      path: `${base}/introspect`,
      document: () => {
        const nowSec = Math.floor(Date.now() / 1000);
        return { active: true, iss: `${origin()}${base}`, aud: AUDIENCE, sub: 'client-1', client_id: 'client-1', scope: 'read', iat: nowSec, exp: nowSec + 3600 };
      },
    },
    userinfo: { path: `${base}/userinfo`, document: () => ({ sub: 'user-1', email: 'user-1@example.test' }) },
  });
  let url = '';
  const server = await startFaultyServer<EndpointName>(endpoints(() => url));
  url = server.url;
  let targetUrl = '';
  const redirectTarget = await startFaultyServer<EndpointName>(endpoints(() => targetUrl));
  targetUrl = redirectTarget.url;
  return { context: { server, issuer: `${server.url}${base}` }, redirectTarget };
}

/** A token signed by the published key, valid from the (possibly advanced) clock's now for an hour (past the longest retry window). */
export function freshToken(issuer: string): string {
  const nowSec = Math.floor(Date.now() / 1000);
  return signToken(KEY, { iss: issuer, aud: AUDIENCE, iat: nowSec, exp: nowSec + 3600, jti: `j-${Math.random()}` });
}

/** A new opaque token (not JWT-shaped), which the healthy introspection and userinfo endpoints accept. */
export function freshOpaqueToken(): string {
  return `opaque-${randomUUID()}`;
}

/**
 * The opaque path's retry policy (lib/opaque-verifier.ts): only a call that ran into its
 * deadline, or an answer with Retry-After, holds the endpoint off.
 */
export function holdsOpaqueEndpointOff(fault: FaultCase): boolean {
  return fault.untilDeadline || fault.serverRetryAfterSec !== undefined;
}

/** Moves the frozen clock forward. */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

/** Declares the whole fault table for one target. */
export function describeFaultTable(target: FaultTarget): void {
  let serial = 0;
  let context: FaultContext;
  let redirectTarget: FaultyServer<EndpointName>;
  let app: ReturnType<typeof createApp>;

  beforeEach(async () => {
    // Only Date is faked, and frozen: retry windows and cache ages are stepped through with
    // `advance()`, while sockets, deadlines and `performance.now()` stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    serial += 1;
    ({ context, redirectTarget } = await startServers(serial));
    app = createApp([verifyToken(target.options(context))]);
  });
  afterEach(async () => {
    vi.useRealTimers();
    await context.server.close();
    await redirectTarget.close();
  });

  /** One request with `credential` (default: a new one), timed with the real clock. */
  async function send(credential = target.credential(context)): Promise<{ status: number; headers: Record<string, string>; body: { reason?: string }; ms: number }> {
    const started = performance.now();
    const res = await request(app).get('/me').set('Authorization', `Bearer ${credential}`);
    return { status: res.status, headers: res.headers as Record<string, string>, body: res.body as { reason?: string }, ms: performance.now() - started };
  }

  async function injure(fault: FaultCase): Promise<void> {
    await context.server.setFault(target.endpoint, fault.fault(redirectTarget.urlOf(target.endpoint)));
  }

  describe.each(FAULTS)('on $name', (fault) => {
    const bound = fault.untilDeadline ? DEADLINE_MS + DEADLINE_SLACK_MS : FAST_MS;
    const verdict = target.judgesToken?.(fault) ?? false;
    // What the caller gets while the endpoint misbehaves: a 503, or a 401 for a verdict.
    const faultStatus = verdict ? 401 : 503;
    // The endpoint's own Retry-After (capped) lengthens the window in which nothing is fetched.
    const retryAfterSec = Math.max(target.retryAfterSec, fault.serverRetryAfterSec ?? 0);
    const opensWindow = !verdict && target.retryWindowMs !== undefined && (target.opensRetryWindow?.(fault) ?? true);
    const windowMs = opensWindow ? Math.max(target.retryWindowMs!, (fault.serverRetryAfterSec ?? 0) * 1000) : undefined;
    const kind = fault.fault('').kind;
    const refuses = kind === 'refused';

    if (verdict) {
      it('answers 401 invalid_token: the endpoint judged the token, which is no outage', async () => {
        await injure(fault);
        const res = await send();
        expect(res).toMatchObject({ status: 401, body: { reason: 'token_inactive' } });
        expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
        expect(res.ms).toBeLessThan(bound);
      });
    } else {
      it(`answers 503 with Retry-After and no challenge within ${bound} ms`, async () => {
        await injure(fault);
        const res = await send();
        expect(res).toMatchObject({ status: 503, body: { reason: 'key_source_unavailable' } });
        expect(res.headers['retry-after']).toBe(String(retryAfterSec));
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(res.ms).toBeLessThan(bound);
        if (fault.untilDeadline) expect(res.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 10);
      });
    }

    // A refused port cannot count connection attempts, so these have nothing to observe there.
    if (!refuses && windowMs !== undefined) {
      it('asks the endpoint nothing more, and answers 503 at once, within the retry window', async () => {
        await injure(fault);
        await send();
        expect(context.server.hits[target.endpoint]).toBe(1);
        advance(windowMs - 1);
        const res = await send();
        expect(res.status).toBe(503);
        expect(res.ms).toBeLessThan(FAST_MS);
        expect(context.server.hits[target.endpoint]).toBe(1);
      });
    }
    if (windowMs !== undefined) {
      it('counts Retry-After down through the retry window', async () => {
        await injure(fault);
        await send();
        advance(windowMs - 1_500);
        expect((await send()).headers['retry-after']).toBe('2');
      });
    }
    if (!refuses && windowMs === undefined) {
      it('asks the endpoint again at the very next request: nothing holds it off', async () => {
        await injure(fault);
        await send();
        expect(context.server.hits[target.endpoint]).toBe(1);
        expect((await send()).status).toBe(faultStatus);
        expect(context.server.hits[target.endpoint]).toBe(2);
      });
    }

    if (verdict) {
      it('accepts new tokens once the endpoint heals', async () => {
        await injure(fault);
        expect((await send()).status).toBe(401);
        await context.server.heal();
        expect((await send()).status).toBe(200);
      });
    } else {
      it('accepts the very credential it refused once the endpoint heals and the retry window has passed: no outage is cached', async () => {
        await injure(fault);
        const credential = target.credential(context);
        expect((await send(credential)).status).toBe(503);
        await context.server.heal();
        advance(windowMs ?? 0);
        expect((await send(credential)).status).toBe(200);
      });
    }

    it(target.warm.title, async () => {
      const { warm } = target;
      const credential = target.credential(context);
      expect((await send(credential)).status).toBe(200);
      const asked = context.server.hits[target.endpoint] + (warm.asksAgain && !refuses ? 1 : 0);
      advance(warm.ageMs);
      await injure(fault);
      const res = await send(warm.sameCredential === true ? credential : undefined);
      expect(res.status).toBe(200);
      expect(res.ms).toBeLessThan(bound);
      if (warm.atOnce !== true) {
        expect(context.server.hits[target.endpoint]).toBe(asked);
        return;
      }
      expect(res.ms).toBeLessThan(DEADLINE_MS);
      // The try the request did not wait for reaches the server on its own time.
      await vi.waitFor(() => expect(context.server.hits[target.endpoint]).toBe(asked), { timeout: FAST_MS, interval: 5 });
      const next = await send();
      expect(next.status).toBe(200);
      expect(next.ms).toBeLessThan(DEADLINE_MS);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(context.server.hits[target.endpoint]).toBe(asked);
    });

    const { cacheExpiry } = target;
    if (cacheExpiry !== undefined) {
      it(cacheExpiry.title, async () => {
        const credential = target.credential(context);
        expect((await send(credential)).status).toBe(200);
        advance(cacheExpiry.ageMs);
        await injure(fault);
        const res = await send(credential);
        expect(res.status).toBe(faultStatus);
        expect(res.ms).toBeLessThan(bound);
      });
    }

    if (fault.holdsConnection) {
      it('hangs up the connection the server would have held open', async () => {
        await injure(fault);
        await send();
        expect(await context.server.settled(1_000)).toBe(0);
      });
    }

    if (kind === 'redirect') {
      it('follows no redirect: the other port sees no request', async () => {
        await injure(fault);
        await send();
        advance(windowMs ?? 0);
        await send();
        expect(context.server.hits[target.endpoint]).toBe(2);
        expect(redirectTarget.hits.total).toBe(0);
      });
    }
  });
}

/** lib/opaque-verifier.ts: a call that ran into its deadline holds the endpoint off for 5 s; 503s say Retry-After: 5. */
const OPAQUE_HOLD_OFF_MS = 5_000;

/**
 * What the introspection and userinfo targets share: a fresh opaque token per case, the
 * hold-off window, and the two cache rows (a token accepted before the fault is answered from
 * the cache within cacheMaxAge, and only then).
 */
export const OPAQUE_TARGET_ROWS = {
  credential: () => freshOpaqueToken(),
  retryWindowMs: OPAQUE_HOLD_OFF_MS,
  opensRetryWindow: holdsOpaqueEndpointOff,
  retryAfterSec: OPAQUE_HOLD_OFF_MS / 1000,
  warm: {
    title: 'keeps answering a token it accepted before the fault from its cache, asking the endpoint nothing, within cacheMaxAge',
    ageMs: CACHE_MAX_AGE_MS - 1,
    asksAgain: false,
    sameCredential: true,
  },
  cacheExpiry: {
    title: 'stops answering that token once cacheMaxAge has passed: no stale answer outlives it, outage or not',
    ageMs: CACHE_MAX_AGE_MS + 1,
  },
} as const satisfies Partial<FaultTarget>;
