import { describe } from 'vitest';
import { AUDIENCE, CACHE_MAX_AGE_FALLBACK_MS, CACHE_MAX_AGE_MS, COOLDOWN_MS, describeFaultTable, freshToken, JWKS_LIMITS, type FaultTarget } from './fault-table.js';

const ISSUER = 'https://issuer.test';

/** A JWKS configured by `jwksUri`: every fault hits the key set fetch itself. */
const JWKS: FaultTarget = {
  endpoint: 'jwks',
  options: ({ server }) => ({ issuer: ISSUER, audience: AUDIENCE, jwksUri: server.urlOf('jwks'), allowHttpLoopback: true, jwks: JWKS_LIMITS }),
  credential: () => freshToken(ISSUER),
  retryWindowMs: COOLDOWN_MS,
  retryAfterSec: COOLDOWN_MS / 1000,
  warm: {
    title: 'answers at once from the last good key set once it has expired, trying the endpoint once in the background',
    ageMs: CACHE_MAX_AGE_MS + 1,
    asksAgain: true,
    atOnce: true,
  },
  cacheExpiry: {
    title: 'stops serving the last good key set once cacheMaxAge + cacheMaxAgeFallback has passed: no stale key outlives it',
    ageMs: CACHE_MAX_AGE_MS + CACHE_MAX_AGE_FALLBACK_MS,
  },
};

describe('a JWKS endpoint that misbehaves', () => {
  describeFaultTable(JWKS);
});
