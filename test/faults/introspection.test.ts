import { describe } from 'vitest';
import { API_CLIENT, AUDIENCE, CACHE_MAX_AGE_MS, describeFaultTable, freshOpaqueToken, holdsOpaqueEndpointOff, OPAQUE_LIMITS, type FaultTarget } from './fault-table.js';

/** lib/opaque-verifier.ts: a call that ran into its deadline holds the endpoint off for 5 s; 503s say Retry-After: 5. */
const HOLD_OFF_MS = 5_000;

/**
 * RFC 7662 introspection at a configured endpoint, for every token (`tokenFormat: 'opaque'`).
 * Its 401 means the IdP refused *this API's* credentials: an outage like any other, never a 401
 * for the caller's token.
 */
const INTROSPECTION: FaultTarget = {
  endpoint: 'introspection',
  options: ({ server, issuer }) => ({
    issuer,
    audience: AUDIENCE,
    allowHttpLoopback: true,
    tokenFormat: 'opaque',
    introspection: { ...API_CLIENT, endpoint: server.urlOf('introspection'), ...OPAQUE_LIMITS },
  }),
  credential: () => freshOpaqueToken(),
  retryWindowMs: HOLD_OFF_MS,
  opensRetryWindow: holdsOpaqueEndpointOff,
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

describe('an introspection endpoint that misbehaves', () => {
  describeFaultTable(INTROSPECTION);
});
