import { describe } from 'vitest';
import { AUDIENCE, describeFaultTable, OPAQUE_LIMITS, OPAQUE_TARGET_ROWS, type FaultCase, type FaultTarget } from './fault-table.js';

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
  ...OPAQUE_TARGET_ROWS,
  judgesToken: (fault) => isStatus(fault, 401),
};

describe('a userinfo endpoint that misbehaves', () => {
  describeFaultTable(USERINFO);
});
