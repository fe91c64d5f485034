// Renders decoded tokens and verification failures for the CLI (pure, no I/O).
import { describeTime, formatValue, isoTime, safeText, type Style, TIME_CLAIMS } from './cli-format.js';
import { parseScopes } from './scopes.js';
import type { JWTHeader, JWTPayload } from './types.js';

/** What `--json` adds to a token's header and payload; a field is absent when its claim is. */
export interface TokenSummary {
  /** `exp` as ISO 8601. */
  expiresAt?: string;
  /** Seconds until `exp`; negative once expired. */
  expiresInSec?: number;
  expired?: boolean;
  issuedAt?: string;
  notBefore?: string;
  /** `aud` as a list (string elements only). */
  audience: string[];
  /** Granted scopes, read as `requireScopes` reads them (`scope`, `scp`, `permissions`). */
  scopes: string[];
}

function numberClaim(payload: JWTPayload, claim: string): number | undefined {
  const value = payload[claim];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function audienceOf(payload: JWTPayload): string[] {
  const aud: unknown = payload.aud;
  const values: unknown[] = Array.isArray(aud) ? aud : [aud];
  return values.filter((value): value is string => typeof value === 'string');
}

/** The computed fields of a payload at `nowSec`. */
export function summarize(payload: JWTPayload, nowSec: number): TokenSummary {
  const exp = numberClaim(payload, 'exp');
  const iat = numberClaim(payload, 'iat');
  const nbf = numberClaim(payload, 'nbf');
  return {
    ...(exp === undefined ? {} : { expiresAt: isoTime(exp), expiresInSec: Math.floor(exp - nowSec), expired: nowSec >= exp }),
    ...(iat === undefined ? {} : { issuedAt: isoTime(iat) }),
    ...(nbf === undefined ? {} : { notBefore: isoTime(nbf) }),
    audience: audienceOf(payload),
    scopes: [...parseScopes(payload)],
  };
}

function timeStyle(claim: string, valueSec: number, nowSec: number, style: Style): (text: string) => string {
  if (claim === 'exp') return valueSec > nowSec ? style.green : style.red;
  if (claim === 'nbf' && valueSec > nowSec) return style.yellow;
  return style.dim;
}

function renderMembers(record: Readonly<Record<string, unknown>>, nowSec: number, style: Style): string[] {
  const keys = Object.keys(record);
  const width = Math.min(12, Math.max(0, ...keys.map((key) => safeText(key).length)));
  return keys.map((key) => {
    const value = record[key];
    const label = style.dim(safeText(key).padEnd(width));
    if (TIME_CLAIMS.has(key) && typeof value === 'number' && Number.isFinite(value)) {
      const note = timeStyle(key, value, nowSec, style)(describeTime(key, value, nowSec));
      return `  ${label}  ${isoTime(value)}  ${note}`;
    }
    return `  ${label}  ${formatValue(value)}`;
  });
}

/**
 * A token for a terminal: header, payload (times as ISO and relative), audience, scopes.
 * Every string from the token goes through `safeText`.
 * @param payloadTitle e.g. "Payload (not verified)"
 */
export function renderToken(token: { header: JWTHeader; payload: JWTPayload }, nowSec: number, style: Style, payloadTitle: string): string {
  const { audience, scopes } = summarize(token.payload, nowSec);
  const none = style.dim('(none)');
  return [
    style.bold('Header'),
    ...renderMembers(token.header, nowSec, style),
    style.bold(payloadTitle),
    ...renderMembers(token.payload, nowSec, style),
    `${style.bold('Audience')}  ${audience.length > 0 ? audience.map(safeText).join(', ') : none}`,
    `${style.bold('Scopes')}    ${scopes.length > 0 ? scopes.map(safeText).join(' ') : none}`,
  ].join('\n') + '\n';
}

const TIME_REASONS: Readonly<Record<string, string>> = {
  token_expired: 'exp',
  token_not_yet_valid: 'nbf',
  issued_in_future: 'iat',
  token_too_old: 'iat',
};

/**
 * One line that shows the claim behind a failed check, from the token the user gave us:
 * "exp 2025-01-01T00:00:00Z (expired 2h ago)", "token aud https://other; expected https://api".
 */
export function describeFailure(reason: string, payload: JWTPayload, expected: { issuer: string; audiences: readonly string[] }, nowSec: number): string | undefined {
  const claim = TIME_REASONS[reason];
  if (claim !== undefined) {
    const value = numberClaim(payload, claim);
    return value === undefined ? undefined : `${claim} ${isoTime(value)} (${describeTime(claim, value, nowSec)})`;
  }
  if (reason === 'audience_mismatch') return `token aud ${formatValue(payload.aud)}; expected ${expected.audiences.map(safeText).join(', ')}`;
  if (reason === 'issuer_mismatch') return `token iss ${formatValue(payload.iss)}; expected ${safeText(expected.issuer)}`;
  return undefined;
}
