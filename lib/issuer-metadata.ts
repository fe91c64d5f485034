import type { DiscoveryOptions } from './discovery.js';
import { KeySourceError } from './errors.js';
import { checkFetchURL } from './internal/url-policy.js';

/**
 * The metadata members bearer-guard can do without, each needed only by the path that calls it:
 * `jwks_uri` by JWTs (OPTIONAL in RFC 8414 §2: an introspection-only server may omit it), the
 * endpoints by opaque tokens.
 */
export type OptionalEndpoint = 'jwks_uri' | 'introspection_endpoint' | 'userinfo_endpoint';

/** The members of an issuer's metadata that bearer-guard uses. */
export interface IssuerMetadata {
  readonly issuer: string;
  /** `undefined` when the document leaves it out or names one the URL policy refuses (see `unusable`). */
  readonly jwks_uri: string | undefined;
  /** `undefined` when the document leaves it out or names one the URL policy refuses (see `unusable`). */
  readonly introspection_endpoint: string | undefined;
  /** `undefined` when the document leaves it out or names one the URL policy refuses (see `unusable`). */
  readonly userinfo_endpoint: string | undefined;
  /**
   * Members that cannot be used, each with why: the document names one the URL policy refuses
   * (not https:, credentials, a fragment, not a string…), or the metadata is the fleet's copy
   * from a store that does not sign its values (introspection and userinfo endpoints, always).
   * Such a member is never fetched, and it fails only the path that needs it, not the whole
   * discovery: JWTs keep verifying without a usable introspection endpoint, and opaque tokens
   * without a `jwks_uri`. Empty when every named member is usable.
   */
  readonly unusable: Readonly<Partial<Record<OptionalEndpoint, string>>>;
}

/**
 * The members bearer-guard uses, checked: the exact issuer, and the URL policy on every endpoint.
 * `keysOnly`: the document is an unsigned fleet copy, whose endpoints are withheld.
 */
export function checkMetadata(issuer: string, url: URL, document: Record<string, unknown>, options: Pick<DiscoveryOptions, 'allowHttpLoopback' | 'retryAfterMs'>, keysOnly: boolean): IssuerMetadata {
  // OIDC Discovery §4.3 / RFC 8414 §3.3: the document must name exactly the issuer we asked about,
  // or a compromised or misconfigured host could hand out another issuer's keys.
  if (document.issuer !== issuer) {
    throw new KeySourceError(`Issuer metadata at ${url.origin}${url.pathname} names another issuer`, options.retryAfterMs / 1000);
  }
  const unusable: Partial<Record<OptionalEndpoint, string>> = {};
  const optional = (member: OptionalEndpoint): string | undefined => {
    if (keysOnly && member !== 'jwks_uri') {
      unusable[member] = `Issuer metadata \`${member}\` is known only from the shared store's unsigned copy (the metadata could not be fetched and the store has no \`secret\`)`;
      return undefined;
    }
    const value = document[member];
    if (value === undefined) return undefined;
    try {
      return checkFetchURL(`Issuer metadata \`${member}\``, value, options.allowHttpLoopback).href;
    } catch (err) {
      unusable[member] = (err as Error).message;
      return undefined;
    }
  };
  return Object.freeze({
    issuer,
    jwks_uri: optional('jwks_uri'),
    introspection_endpoint: optional('introspection_endpoint'),
    userinfo_endpoint: optional('userinfo_endpoint'),
    unusable: Object.freeze(unusable),
  });
}
