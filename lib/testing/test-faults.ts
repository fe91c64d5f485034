import type { ServerResponse } from 'node:http';
import { MAX_TIMER_MS } from '../internal/option-checks.js';

/** The endpoints of a test issuer, as counted and as targeted by outages. */
export type TestEndpoint = 'discovery' | 'jwks' | 'introspection' | 'userinfo';

/** Every `TestEndpoint`, in a fixed order. */
export const TEST_ENDPOINTS: readonly TestEndpoint[] = Object.freeze(['discovery', 'jwks', 'introspection', 'userinfo']);

/**
 * The outages apps must survive, for `setOutage`:
 * - `'down'`: every connection is reset without an answer (what a dead host or a crashed proxy looks like);
 * - `'slow'`: the normal answer, but only after `slowResponseMs` (default 6 000 ms, longer than
 *   bearer-guard's 5 s fetch deadline): give the verifier a short `jwks: { timeout }` to see it;
 * - `'garbage'`: `200 OK` with a body that is not JSON.
 */
export type OutageMode = 'down' | 'slow' | 'garbage';

/** A precise way for an endpoint to misbehave, for `setFault` (`setOutage` is the short form). */
export type TestFault =
  /** Answer this status (an integer from 200 to 599) with a small JSON error body, and `Retry-After` when given (e.g. 429, 503). */
  | { kind: 'status'; status: number; retryAfter?: string }
  /** Destroy the connection with a TCP reset, without answering. */
  | { kind: 'reset' }
  /** Accept the request and never answer (until `close()`). */
  | { kind: 'hang' }
  /** Answer normally after `ms` (at most 2 147 483 647, the longest timer Node honours). */
  | { kind: 'delay'; ms: number }
  /** Answer 200 and send the normal body one byte at a time (`bytesPerSecond` > 0, default 10). */
  | { kind: 'drip'; bytesPerSecond?: number }
  /** Answer 200 with a body that is not JSON. */
  | { kind: 'garbage' }
  /** Answer 200 with the normal JSON object padded to `bytes` bytes (an integer ≥ 0), chunked, without Content-Length. */
  | { kind: 'huge'; bytes: number }
  /** Answer 302 to `location` (a non-empty string). */
  | { kind: 'redirect'; location: string };

/** A complete answer of an endpoint: what is sent when no fault applies. */
export interface TestResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** JSON text (or empty). */
  readonly body: string;
}

/**
 * Runs `fn` after `ms` (every `ms` with `repeat`) on a timer the server clears when it closes;
 * returns a function that cancels it.
 */
export type Schedule = (ms: number, fn: () => void, repeat?: boolean) => () => void;

/** The fault an outage mode stands for. */
export function outageFault(mode: OutageMode, slowResponseMs: number): TestFault {
  switch (mode) {
    case 'down':
      return { kind: 'reset' };
    case 'slow':
      return { kind: 'delay', ms: slowResponseMs };
    case 'garbage':
      return { kind: 'garbage' };
  }
}

/** Sends `response`, or what `fault` makes of it. */
export function sendResponse(res: ServerResponse, response: TestResponse, fault: TestFault | undefined, schedule: Schedule): void {
  switch (fault?.kind) {
    case undefined:
      res.writeHead(response.status, { 'content-type': 'application/json', ...response.headers }).end(response.body);
      return;
    case 'status': {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers).end(JSON.stringify({ error: 'injected_fault' }));
      return;
    }
    case 'reset':
      res.socket?.resetAndDestroy();
      return;
    case 'hang':
      return;
    case 'delay':
      schedule(fault.ms, () => sendResponse(res, response, undefined, schedule));
      return;
    case 'drip':
      return drip(res, Buffer.from(response.body), fault.bytesPerSecond ?? 10, schedule);
    case 'garbage':
      res.writeHead(200, { 'content-type': 'application/json' }).end('<html>this is not JSON</html>');
      return;
    case 'huge':
      return sendHuge(res, response.body, fault.bytes);
    case 'redirect':
      res.writeHead(302, { location: fault.location }).end();
      return;
  }
}

function drip(res: ServerResponse, body: Buffer, bytesPerSecond: number, schedule: Schedule): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  let sent = 0;
  // A longer interval than Node's timer limit would fire at once; a byte every 24 days is a hang anyway.
  const cancel = schedule(Math.min(1000 / bytesPerSecond, MAX_TIMER_MS), () => {
    if (res.destroyed || sent >= body.length) {
      cancel();
      if (!res.destroyed) res.end();
      return;
    }
    res.write(body.subarray(sent, sent + 1));
    sent += 1;
  }, true);
}

/**
 * A valid JSON object of exactly `bytes` bytes (the body's own members plus a `pad`), streamed
 * in chunks without Content-Length: a client that does not cap while reading would accept it.
 */
function sendHuge(res: ServerResponse, body: string, bytes: number): void {
  const members = body.trim().replace(/^\{|\}$/g, '');
  const head = Buffer.from(`{${members}${members === '' ? '' : ','}"pad":"`);
  const tail = Buffer.from('"}');
  let padLeft = Math.max(0, bytes - head.length - tail.length);
  const chunk = Buffer.alloc(64 * 1024, 'x');
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(head);
  const pump = (): void => {
    while (padLeft > 0 && !res.destroyed) {
      const piece = padLeft >= chunk.length ? chunk : chunk.subarray(0, padLeft);
      padLeft -= piece.length;
      if (!res.write(piece)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end(tail);
  };
  pump();
}
