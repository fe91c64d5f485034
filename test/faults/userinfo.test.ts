import { describe } from 'vitest';
import { AUDIENCE, CACHE_MAX_AGE_MS, describeFaultTable, freshOpaqueToken, holdsOpaqueEndpointOff, OPAQUE_LIMITS, type FaultCase, type FaultTarget } from './fault-table.js';

/** lib/opaque-verifier.ts: a call that ran into its deadline holds the endpoint off for 5 s; 503s say Retry-After: 5. */
const HOLD_OFF_MS = 5_000;

function isStatus(fault: FaultCase, status: number): boolean {
  const served = fault.fault('');
  return served.kind === 'status' && served.status === status;
}

/**
 * OIDC userinfo at a configured endpoint (so that a refused connection, which takes the whole
 * faulty server down, is not first met by discovery). A 401 from userinfo is the IdP refusing
 * the caller's token (RFC 6750 §3.1): a verdict, passed on as a 401.
 */
const USERINFO: FaultTarget = {
  endpoint: 'userinfo',
  options: ({ server, issuer }) => ({
    issuer,
    audience: AUDIENCE,
    allowHttpLoopback: true,
    tokenFormat: 'opaque',
    userinfo: { endpoint: server.urlOf('userinfo'), ...OPAQUE_LIMITS },
  }),
  credential: () => freshOpaqueToken(),
  retryWindowMs: HOLD_OFF_MS,
  opensRetryWindow: holdsOpaqueEndpointOff,
  judgesToken: (fault) => isStatus(fault, 401),
  retryAfterSec: HOLD_OFF_MS / 1000,
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
};

describe('a userinfo endpoint that misbehaves', () => {
  describeFaultTable(USERINFO);
});
