import { describe } from 'vitest';
import { API_CLIENT, AUDIENCE, describeFaultTable, OPAQUE_LIMITS, OPAQUE_TARGET_ROWS, type FaultTarget } from './fault-table.js';

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
  ...OPAQUE_TARGET_ROWS,
};

describe('an introspection endpoint that misbehaves', () => {
  describeFaultTable(INTROSPECTION);
});
