import { InvalidTokenError, KeySourceError } from './errors.js';
import { fetchJSON, FetchError, type FetchJSONResponse } from './internal/fetch-json.js';
import { isPlainObject } from './internal/safe-json.js';
import { describeFetchFailure, statusFailure, type EndpointLimits } from './introspection.js';
import type { JWTPayload } from './types.js';

/**
 * Validates a token by calling the OIDC UserInfo endpoint with it (OIDC Core §5.3). A 200 with
 * a JSON object carrying a string `sub` accepts it; 401/403 reject it (RFC 6750 §3.1).
 * This proves the IdP knows the token, **not** that it was issued for this API: userinfo has
 * no audience.
 * @throws InvalidTokenError `token_inactive`, or `malformed` for a token no header can carry;
 *   KeySourceError when the endpoint fails
 */
export async function fetchUserinfo(token: string, endpoint: string, limits: EndpointLimits): Promise<JWTPayload> {
  let response: FetchJSONResponse;
  try {
    response = await fetchJSON(endpoint, { headers: { authorization: `Bearer ${token}` }, timeoutMs: limits.timeoutMs, maxBytes: limits.maxBytes });
  } catch (err) {
    // The endpoint URL passed the URL policy before it got here and the token is the only other
    // value in the request, so a request that cannot be built is the token's fault, not an outage.
    if (err instanceof FetchError && err.kind === 'request') throw new InvalidTokenError('malformed', 'Token cannot be sent in an Authorization header', { cause: err });
    throw new KeySourceError(`Userinfo endpoint is unavailable: ${describeFetchFailure(err)}`, limits.retryAfterSec, { cause: err });
  }
  if (response.status === 401 || response.status === 403) throw new InvalidTokenError('token_inactive', 'Token was refused by the userinfo endpoint');
  if (response.status !== 200) throw statusFailure('Userinfo endpoint', response, limits.retryAfterSec);
  if (!isPlainObject(response.body) || typeof response.body.sub !== 'string') {
    throw new KeySourceError('Userinfo endpoint did not answer a JSON object with "sub"', limits.retryAfterSec);
  }
  return response.body as JWTPayload;
}
