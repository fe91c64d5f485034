import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCommandLine, UsageError, USAGE, type ParsedCommand } from './cli-args.js';
import { readToken } from './cli-input.js';
import { createStyle, safeJSON, safeText } from './cli-format.js';
import { describeFailure, renderToken, summarize } from './cli-render.js';
import { toFlagNames, toVerifierOptions } from './cli-verifier-options.js';
import { decodeJWT } from './decode.js';
import { ConfigError, InvalidTokenError, KeySourceError } from './errors.js';
import type { JWTPayload } from './types.js';
import { createVerifier } from './verifier.js';

/** The process streams `main` works with; `process` itself fits. */
export interface CliIO {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Read for `NO_COLOR`. Default: none. */
  env?: Readonly<Record<string, string | undefined>>;
  /** The clock for relative times in output, in ms. Default `Date.now` (verification always uses it). */
  now?: () => number;
}

/** Exit codes: the result, an invalid or malformed token, anything that kept us from answering. */
const OK = 0;
const INVALID = 1;
const FAILURE = 2;

/**
 * The `bearer-guard` command line: `decode`, `verify`, `help`. Writes the result alone to
 * `io.stdout` and everything else to `io.stderr`; never prints the raw token.
 * @returns the exit code: 0 decoded / valid, 1 malformed / invalid, 2 usage, option or key-source error
 * @example
 * main(process.argv.slice(2), process).then((code) => { process.exitCode = code; });
 */
export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const parsed = parseCommandLine(argv);
    if (parsed.values.help === true || parsed.command === 'help') {
      io.stdout.write(USAGE);
      return OK;
    }
    if (parsed.values.version === true) {
      io.stdout.write(`${readVersion()}\n`);
      return OK;
    }
    if (parsed.command === undefined) {
      io.stderr.write(USAGE);
      return FAILURE;
    }
    const token = await readToken(parsed.token, io);
    return parsed.command === 'decode' ? decode(token, parsed, io) : await verify(token, parsed, io);
  } catch (err) {
    if (err instanceof UsageError) return fail(io, `${err.message}\nRun 'bearer-guard --help' for usage.`);
    if (err instanceof ConfigError) return fail(io, toFlagNames(err.message));
    throw err;
  }
}

function decode(token: string, parsed: ParsedCommand, io: CliIO): number {
  let decoded;
  try {
    decoded = decodeJWT(token, { complete: true });
  } catch (err) {
    if (!(err instanceof InvalidTokenError)) throw err;
    // A script piping `--json` into jq gets a document either way, as with `verify --json`.
    if (parsed.values.json === true) io.stdout.write(`${safeJSON({ error: err.reason, message: err.message }, 2)}\n`);
    fail(io, `${err.reason} — ${err.message}`);
    return INVALID;
  }
  const nowSec = nowSecOf(io);
  const { header, payload } = decoded;
  if (parsed.values.json === true) io.stdout.write(`${safeJSON({ header, payload, ...summarize(payload, nowSec) }, 2)}\n`);
  else io.stdout.write(renderToken(decoded, nowSec, createStyle(io.stdout.isTTY, io.env ?? {}), 'Payload (not verified)'));
  return OK;
}

async function verify(token: string, parsed: ParsedCommand, io: CliIO): Promise<number> {
  const options = toVerifierOptions(parsed.values);
  const verifier = createVerifier(options);
  const json = parsed.values.json === true;
  const style = createStyle(io.stdout.isTTY, io.env ?? {});
  try {
    const { header, payload } = await verifier.verify(token);
    const nowSec = nowSecOf(io);
    if (json) io.stdout.write(`${safeJSON({ valid: true, header, payload, ...summarize(payload, nowSec) }, 2)}\n`);
    else io.stdout.write(`${style.green('valid')}\n${renderToken({ header: header!, payload }, nowSec, style, 'Payload (verified)')}`);
    return OK;
  } catch (err) {
    if (err instanceof KeySourceError) return fail(io, `cannot verify: ${err.message}${causeOf(err)}`);
    if (!(err instanceof InvalidTokenError)) throw err;
    const { reason, code, message } = err;
    if (json) {
      io.stdout.write(`${safeJSON({ valid: false, reason, code, message }, 2)}\n`);
    } else {
      const expected = { issuer: options.issuer ?? '', audiences: [options.audience ?? []].flat() };
      const detail = describeFailure(reason, unverifiedPayload(token), expected, nowSecOf(io));
      io.stdout.write(`${style.red('invalid')}: ${reason} — ${safeText(message)}\n${detail === undefined ? '' : `  ${detail}\n`}`);
    }
    return INVALID;
  }
}

function unverifiedPayload(token: string): JWTPayload {
  try {
    return decodeJWT(token);
  } catch {
    return {};
  }
}

/** The underlying failure (e.g. "GET http://… failed (ECONNREFUSED)"), which names only configured URLs. */
function causeOf(err: Error): string {
  const { cause } = err;
  return cause instanceof Error && !err.message.includes(cause.message) ? `: ${cause.message}` : '';
}

function fail(io: CliIO, message: string): number {
  const style = createStyle(io.stderr.isTTY, io.env ?? {});
  io.stderr.write(`${style.red('bearer-guard:')} ${message}\n`);
  return FAILURE;
}

function nowSecOf(io: CliIO): number {
  return Math.floor((io.now?.() ?? Date.now()) / 1000);
}

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
  return String(pkg.version);
}
