import { describe } from 'vitest';
import { AUDIENCE, describeFaultTable, freshToken, JWKS_LIMITS, type FaultTarget } from './fault-table.js';

/** lib/resolve-key.ts: after a failed discovery, requests get a 503 without a fetch for 5 s. */
const DISCOVERY_RETRY_MS = 5_000;

/** An issuer URL without `jwksUri`: every request first needs OIDC discovery. */
const DISCOVERY: FaultTarget = {
  endpoint: 'discovery',
  options: ({ issuer }) => ({ issuer, audience: AUDIENCE, allowHttpLoopback: true, jwks: JWKS_LIMITS }),
  credential: ({ issuer }) => freshToken(issuer),
  retryWindowMs: DISCOVERY_RETRY_MS,
  retryAfterSec: DISCOVERY_RETRY_MS / 1000,
  // 10 min on, the key set (60 s fresh) has expired too: it answers at once and is refreshed in the background.
  warm: { title: 'keeps the metadata it discovered before the fault, asking discovery nothing 10 min later, and answers at once', ageMs: 10 * 60_000, asksAgain: false, atOnce: true },
};

describe('a discovery endpoint that misbehaves', () => {
  describeFaultTable(DISCOVERY);
});
