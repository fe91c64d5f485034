import { describe } from 'vitest';
import { API_CLIENT, AUDIENCE, describeFaultTable, holdsOpaqueEndpointOff, OPAQUE_LIMITS, OPAQUE_TARGET_ROWS, type FaultCase, type FaultTarget } from './fault-table.js';

/**
 * RFC 7662 introspection at a configured endpoint, for every token (`tokenFormat: 'opaque'`).
 * Its 401 means the IdP refused *this API's* credentials: an outage like any other, never a 401
 * for the caller's token, and one that holds the endpoint off like a stall (asking again with
 * refused credentials on every request is what gets a client locked out).
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
  opensRetryWindow: (fault: FaultCase) => holdsOpaqueEndpointOff(fault) || refusesCredentials(fault),
};

function refusesCredentials(fault: FaultCase): boolean {
  const served = fault.fault('');
  return served.kind === 'status' && served.status === 401;
}

describe('an introspection endpoint that misbehaves', () => {
  describeFaultTable(INTROSPECTION);
});
