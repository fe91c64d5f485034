import { DEFAULT_REALM } from './errors.js';

// `verifyToken({ realm })` records its realm per request so that `requireScopes` and
// `requireAnyScope`, mounted after it, challenge with the same realm. A WeakMap, so nothing is
// added to the request object and entries go with the request.
const REALMS = new WeakMap<object, string>();

/** Remembers the realm a request was authenticated under (only when it is not the default). */
export function setRequestRealm(req: object, realm: string): void {
  if (realm !== DEFAULT_REALM) REALMS.set(req, realm);
}

/** The realm recorded for a request by `verifyToken`, else the default `"api"`. */
export function requestRealm(req: object): string {
  return REALMS.get(req) ?? DEFAULT_REALM;
}
