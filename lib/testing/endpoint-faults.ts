import { ConfigError } from '../errors.js';
import { checkFault } from './check-fault.js';
import { outageFault, TEST_ENDPOINTS, type OutageMode, type TestEndpoint, type TestFault } from './test-faults.js';

/** The faults currently set on a test issuer's endpoints, and the two ways to set them. */
export interface EndpointFaults {
  /** The fault per endpoint; an endpoint without one answers normally. */
  readonly active: ReadonlyMap<TestEndpoint, TestFault>;
  /** Sets (or with `null` clears) a fault on `endpoints`, default all; a malformed fault throws `ConfigError` here. */
  setFault(fault: TestFault | null, endpoints?: TestEndpoint | readonly TestEndpoint[]): void;
  /** Sets (or with `null` clears) the fault an outage mode stands for. */
  setOutage(mode: OutageMode | null, endpoints?: TestEndpoint | readonly TestEndpoint[]): void;
}

const OUTAGE_MODES: ReadonlySet<string> = new Set<OutageMode>(['down', 'slow', 'garbage']);

/**
 * Fault state for one issuer.
 * @param slowResponseMs the delay `setOutage('slow')` applies
 */
export function createEndpointFaults(slowResponseMs: number): EndpointFaults {
  const active = new Map<TestEndpoint, TestFault>();

  function setFault(fault: TestFault | null, endpoints: TestEndpoint | readonly TestEndpoint[] = TEST_ENDPOINTS): void {
    const checked = fault === null ? null : checkFault('issuer.setFault', fault);
    for (const endpoint of checkEndpoints('setFault', endpoints)) {
      if (checked === null) active.delete(endpoint);
      else active.set(endpoint, checked);
    }
  }

  return {
    active,
    setFault,
    setOutage(mode, endpoints) {
      if (mode !== null && !OUTAGE_MODES.has(mode)) {
        throw new ConfigError('issuer.setOutage: the mode must be \'down\', \'slow\', \'garbage\' or null');
      }
      setFault(mode === null ? null : outageFault(mode, slowResponseMs), endpoints);
    },
  };
}

function checkEndpoints(method: string, endpoints: TestEndpoint | readonly TestEndpoint[]): readonly TestEndpoint[] {
  const list = typeof endpoints === 'string' ? [endpoints] : endpoints;
  for (const endpoint of list) {
    if (!TEST_ENDPOINTS.includes(endpoint)) {
      throw new ConfigError(`issuer.${method}: unknown endpoint "${String(endpoint)}" (one of ${TEST_ENDPOINTS.join(', ')})`);
    }
  }
  return list;
}
