import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../lib/cli.js';
import { readToken } from '../lib/cli-input.js';
import { describeTime, formatRelative, isoTime, safeText } from '../lib/cli-format.js';
import { refusedUrl, startIdpServer, type IdpServer } from './helpers/idp-server.js';
import { sharedKey } from './helpers/keys.js';
import { NOW, signToken, TEST_AUDIENCE, unsignedToken } from './helpers/tokens.js';

const ROOT = join(__dirname, '..');
const BIN = join(ROOT, 'dist/bin.js');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const KEY = sharedKey('cli-rsa');
const EC_KEY = sharedKey('cli-ec', 'ES256');
const OTHER_KEY = sharedKey('cli-other');
const ESC = '\u001b[';

let idp: IdpServer;
beforeAll(async () => {
  idp = await startIdpServer({ keys: [KEY, EC_KEY] });
});
afterAll(() => idp.close());

interface RunOptions {
  stdin?: string;
  stdinTTY?: boolean;
  stdoutTTY?: boolean;
  stderrTTY?: boolean;
  env?: Record<string, string | undefined>;
}

/** Runs `main` in-process with captured streams; the output clock is frozen at `NOW`. */
async function run(argv: string[], options: RunOptions = {}) {
  let stdout = '';
  let stderr = '';
  const stdin = Object.assign(Readable.from(options.stdin === undefined ? [] : [options.stdin]), { isTTY: options.stdinTTY });
  const code = await main(argv, {
    stdin,
    stdout: { write: (text: string) => (stdout += text), isTTY: options.stdoutTTY },
    stderr: { write: (text: string) => (stderr += text), isTTY: options.stderrTTY },
    env: options.env ?? {},
    now: () => NOW * 1000,
  });
  return { code, stdout, stderr };
}

/** A token of the loopback issuer, signed with `KEY` unless told otherwise. */
function idpToken(claims: Record<string, unknown> = {}, key = KEY): string {
  return signToken(key, { iss: idp.issuer, ...claims });
}

function verifyArgs(...extra: string[]): string[] {
  return ['verify', '--issuer', idp.issuer, '--audience', TEST_AUDIENCE, '--jwks-uri', idp.jwksUri, '--allow-http-loopback', ...extra];
}

function signatureOf(token: string): string {
  return token.split('.')[2]!;
}

describe('formatRelative', () => {
  it.each([
    [252, 'in 4m 12s'],
    [-7200, '2h ago'],
    [-(2 * 3600 + 3 * 60 + 4), '2h 3m ago'],
    [59, 'in 59s'],
    [-(26 * 3600 + 60), '1d 2h ago'],
    [86_400 + 5, 'in 1d'],
    [0, 'now'],
    [0.4, 'now'],
  ])('formats %d seconds as "%s"', (delta, expected) => {
    expect(formatRelative(delta)).toBe(expected);
  });
});

describe('describeTime', () => {
  it.each([
    ['exp', 252, 'expires in 4m 12s'],
    ['exp', -7200, 'expired 2h ago'],
    ['nbf', 60, 'becomes valid in 1m'],
    ['iat', -180, 'issued 3m ago'],
  ])('describes %s at now%+d s as "%s"', (claim, delta, expected) => {
    expect(describeTime(claim, NOW + delta, NOW)).toBe(expected);
  });
});

describe('safeText', () => {
  it('shows escape and bidi characters as \\u escapes', () => {
    expect(safeText('a\u001b[2Jb\u202e')).toBe('a\\u001b[2Jb\\u202e');
  });
});

describe('bearer-guard decode', () => {
  it('prints exp as an ISO date with "expires in"', async () => {
    const { code, stdout } = await run(['decode', signToken(KEY, { exp: NOW + 252 })]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`exp +${isoTime(NOW + 252)} +expires in 4m 12s`));
  });

  it('prints an expired token\'s exp as "expired 2h ago"', async () => {
    const { stdout } = await run(['decode', signToken(KEY, { iat: NOW - 10_800, exp: NOW - 7200 })]);
    expect(stdout).toContain('expired 2h ago');
  });

  it('prints iat as an ISO date with "issued … ago"', async () => {
    const { stdout } = await run(['decode', signToken(KEY, { iat: NOW - 60 })]);
    expect(stdout).toMatch(new RegExp(`iat +${isoTime(NOW - 60)} +issued 1m ago`));
  });

  it('prints the header members', async () => {
    const { stdout } = await run(['decode', signToken(KEY)]);
    expect(stdout).toMatch(/^Header\n {2}alg {2}RS256\n {2}typ {2}JWT\n {2}kid {2}cli-rsa\n/);
  });

  it('labels the payload as not verified', async () => {
    const { stdout } = await run(['decode', signToken(KEY)]);
    expect(stdout).toContain('Payload (not verified)');
  });

  it('lists every audience and the scopes read from scope, scp and permissions', async () => {
    const { stdout } = await run(['decode', signToken(KEY, { aud: ['https://a.test', 'https://b.test'], scope: 'read write', permissions: ['admin'] })]);
    expect(stdout).toContain('Audience  https://a.test, https://b.test\n');
    expect(stdout).toContain('Scopes    read write admin\n');
  });

  it('prints a JSON object of header, payload and computed fields with --json', async () => {
    const claims = { iat: NOW - 60, nbf: NOW - 60, exp: NOW + 252, scope: 'read' };
    const { code, stdout } = await run(['decode', '--json', signToken(KEY, claims)]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual({
      header: { alg: 'RS256', typ: 'JWT', kid: 'cli-rsa' },
      payload: expect.objectContaining(claims),
      expiresAt: isoTime(NOW + 252),
      expiresInSec: 252,
      expired: false,
      issuedAt: isoTime(NOW - 60),
      notBefore: isoTime(NOW - 60),
      audience: [TEST_AUDIENCE],
      scopes: ['read'],
    });
  });

  it('marks an expired token with expired: true in --json output', async () => {
    const { stdout } = await run(['decode', '--json', signToken(KEY, { iat: NOW - 600, exp: NOW - 1 })]);
    expect(JSON.parse(stdout)).toMatchObject({ expired: true, expiresInSec: -1 });
  });

  it('prints a JSON document for a malformed token with --json too, and exits 1', async () => {
    const { code, stdout, stderr } = await run(['decode', '--json', 'not.a-token']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ error: 'malformed' });
    expect(stderr).toContain('malformed');
  });

  it.each([[[]], [['--json']]])('never prints the signature (options %j)', async (flags) => {
    const token = signToken(KEY);
    const { stdout, stderr } = await run(['decode', ...flags, token]);
    expect(stdout + stderr).not.toContain(signatureOf(token));
  });

  it('reads the token from stdin when no argument is given', async () => {
    const { code, stdout } = await run(['decode'], { stdin: signToken(KEY, { sub: 'from-stdin' }) });
    expect(code).toBe(0);
    expect(stdout).toContain('from-stdin');
  });

  it('reads the token from stdin when the argument is -', async () => {
    const { stdout } = await run(['decode', '-'], { stdin: signToken(KEY, { sub: 'from-dash' }) });
    expect(stdout).toContain('from-dash');
  });

  it('trims whitespace and a Bearer prefix around a pasted token', async () => {
    const { code } = await run(['decode'], { stdin: `  Bearer ${signToken(KEY)}\n\n` });
    expect(code).toBe(0);
  });

  it('accepts a pasted "Authorization: Bearer" header line', async () => {
    const { code } = await run(['decode'], { stdin: `Authorization: Bearer ${signToken(KEY)}\r\n` });
    expect(code).toBe(0);
  });

  it('prompts on stderr when stdin is a terminal and reads one line', async () => {
    const { code, stdout, stderr } = await run(['decode'], { stdin: `${signToken(KEY, { sub: 'typed' })}\nnext line`, stdinTTY: true });
    expect(code).toBe(0);
    expect(stderr).toContain('Paste the token');
    expect(stdout).toContain('typed');
  });

  it('writes nothing to stderr when the token is piped', async () => {
    const { stderr } = await run(['decode'], { stdin: signToken(KEY) });
    expect(stderr).toBe('');
  });

  it('refuses empty stdin with exit code 2', async () => {
    const { code, stdout, stderr } = await run(['decode'], { stdin: ' \n' });
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('no TOKEN');
  });

  it('exits 1 on a malformed token, with the reason on stderr and nothing on stdout', async () => {
    const { code, stdout, stderr } = await run(['decode', 'not-a-jwt-s3cr3t']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('malformed');
  });

  it('does not echo a malformed token', async () => {
    const { stderr } = await run(['decode', 'not-a-jwt-s3cr3t']);
    expect(stderr).not.toContain('s3cr3t');
  });

  it('exits 1 on a token longer than 8 KiB', async () => {
    const { code, stderr } = await run(['decode'], { stdin: signToken(KEY, { pad: 'x'.repeat(9000) }) });
    expect(code).toBe(1);
    expect(stderr).toContain('token_too_large');
  });

  it('exits 1 on a token whose payload is not JSON', async () => {
    const { code } = await run(['decode', `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.bm90IGpzb24.c2ln`]);
    expect(code).toBe(1);
  });

  it('escapes terminal control characters found in claims', async () => {
    const { stdout } = await run(['decode', signToken(KEY, { name: 'x\u001b[2J\u001b]0;pwned\u0007' })]);
    expect(stdout).not.toContain('\u001b');
    expect(stdout).toContain('x\\u001b[2J');
  });

  it('escapes bidi overrides in --json output while keeping it valid JSON', async () => {
    const { stdout } = await run(['decode', '--json', signToken(KEY, { name: 'evil\u202etxt.exe' })]);
    expect(stdout).toContain('evil\\u202etxt.exe');
    expect((JSON.parse(stdout) as { payload: { name: string } }).payload.name).toBe('evil\u202etxt.exe');
  });
});

describe('reading the token from stdin', () => {
  const stderr = { write: () => true };
  it.each([
    ['Buffer chunks', (text: string) => [Buffer.from(text)]],
    ['plain Uint8Array chunks', (text: string) => [new Uint8Array(Buffer.from(text))]],
    ['string chunks', (text: string) => [text.slice(0, 5), text.slice(5)]],
  ])('reads %s alike', async (_label, chunks) => {
    const token = unsignedToken({ alg: 'RS256' }, { sub: 'u' }, 'c2ln');
    expect(await readToken(undefined, { stdin: Readable.from(chunks(`${token}\n`)), stderr })).toBe(token);
  });
});

describe('bearer-guard usage', () => {
  it.each([[['--help']], [['-h']], [['help']], [['decode', '--help']], [['verify', '-h']]])('prints the usage on stdout and exits 0 for %j', async (argv) => {
    const { code, stdout, stderr } = await run(argv);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage:\n  bearer-guard decode [TOKEN] [--json]');
    expect(stderr).toBe('');
  });

  it('documents the exit codes in the usage', async () => {
    const { stdout } = await run(['--help']);
    expect(stdout).toContain('Exit codes:\n  0  decoded, or valid\n  1  malformed token (decode), or invalid token (verify)\n  2  usage error');
  });

  it('prints the usage on stderr and exits 2 without a command', async () => {
    const { code, stdout, stderr } = await run([]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('Usage:');
  });

  it('prints the version from package.json', async () => {
    const { code, stdout } = await run(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${VERSION}\n`);
  });

  it('exits 2 naming an unknown flag', async () => {
    const { code, stdout, stderr } = await run(['decode', '--jsno', signToken(KEY)]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('unknown option --jsno');
  });

  it('names a verify option given to decode as such', async () => {
    const { code, stderr } = await run(['decode', '--issuer', 'https://x.test', signToken(KEY)]);
    expect(code).toBe(2);
    expect(stderr).toContain('--issuer is an option of verify, not of decode');
  });

  it('exits 2 naming an option whose value is missing', async () => {
    const { code, stderr } = await run(['verify', '--audience', TEST_AUDIENCE, '--issuer']);
    expect(code).toBe(2);
    expect(stderr).toContain('--issuer needs a value');
  });

  it('exits 2 on an unknown command, naming it when it is a near miss of one', async () => {
    const { code, stderr } = await run(['decod']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command "decod": use decode, verify or help');
  });

  it.each([['an opaque token of letters', 'abcdefghijklmn'], ['a word', 'inspect']])('does not echo %s given in place of the command', async (_label, argument) => {
    const { code, stderr } = await run([argument]);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown command: use decode, verify or help');
    expect(stderr).not.toContain(argument);
  });

  it('does not echo an argument starting with -- that is no near miss of a flag (it may be a token)', async () => {
    const { code, stderr } = await run(['decode', '--abcdefghijklmnopqrstuvwxyz0123456789ABCDE']);
    expect(code).toBe(2);
    expect(stderr).not.toContain('abcdefghij');
  });

  it('does not echo a token given in place of the command', async () => {
    const token = signToken(KEY);
    const { code, stderr } = await run([token]);
    expect(code).toBe(2);
    expect(stderr).not.toContain(token.slice(0, 10));
  });

  it('exits 2 when given two tokens', async () => {
    const { code, stderr } = await run(['decode', signToken(KEY), signToken(KEY)]);
    expect(code).toBe(2);
    expect(stderr).toContain('at most one TOKEN');
  });

  it.each([['--issuer'], ['--audience']])('exits 2 when verify lacks %s', async (flag) => {
    const args = ['verify', '--issuer', 'https://x.test', '--audience', TEST_AUDIENCE].filter((arg, i, all) => arg !== flag && all[i - 1] !== flag);
    const { code, stderr } = await run([...args, signToken(KEY)]);
    expect(code).toBe(2);
    expect(stderr).toContain(`verify needs ${flag}`);
  });
});

describe('bearer-guard verify', () => {
  it('prints "valid" and the verified claims, and exits 0', async () => {
    const { code, stdout, stderr } = await run([...verifyArgs(), idpToken({ sub: 'alice' })]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^valid\nHeader\n/);
    expect(stdout).toContain('Payload (verified)');
    expect(stdout).toContain('alice');
    expect(stderr).toBe('');
  });

  it('prints { valid: true, header, payload } with --json', async () => {
    const { code, stdout } = await run([...verifyArgs('--json'), idpToken({ sub: 'alice' })]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, header: { kid: 'cli-rsa' }, payload: { sub: 'alice' }, audience: [TEST_AUDIENCE] });
  });

  it('reads the token to verify from stdin', async () => {
    const { code } = await run(verifyArgs(), { stdin: `Bearer ${idpToken()}\n` });
    expect(code).toBe(0);
  });

  it('finds the keys by discovery from the issuer without --jwks-uri', async () => {
    const { code } = await run(['verify', '--issuer', idp.issuer, '--audience', TEST_AUDIENCE, '--allow-http-loopback', idpToken()]);
    expect(code).toBe(0);
  });

  it('accepts a token for any one of several --audience flags', async () => {
    const { code } = await run([...verifyArgs('--audience', 'https://second.test'), idpToken({ aud: 'https://second.test' })]);
    expect(code).toBe(0);
  });

  it.each([
    ['an expired', { iat: NOW - 10_800, exp: NOW - 7200 }, 'token_expired', 'expired 2h ago'],
    ['a wrong-audience', { aud: 'https://other.test' }, 'audience_mismatch', `token aud https://other.test; expected ${TEST_AUDIENCE}`],
    ['a not-yet-valid', { nbf: NOW + 600 }, 'token_not_yet_valid', 'becomes valid in 10m'],
  ])('prints "invalid" with the reason and the claim behind it for %s token, and exits 1', async (_label, claims, reason, detail) => {
    const { code, stdout } = await run([...verifyArgs(), idpToken(claims)]);
    expect(code).toBe(1);
    expect(stdout).toMatch(new RegExp(`^invalid: ${reason} — `));
    expect(stdout).toContain(detail);
  });

  it('exits 1 with signature_invalid for a token signed by another key under a known kid', async () => {
    const { code, stdout } = await run([...verifyArgs(), signToken(KEY, { iss: idp.issuer }, { signingKey: OTHER_KEY.privateKey })]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: signature_invalid');
  });

  it('exits 1 with issuer_mismatch for a token of an issuer other than --issuer', async () => {
    const { code, stdout } = await run([...verifyArgs(), signToken(KEY, { iss: 'https://elsewhere.test' })]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: issuer_mismatch');
  });

  it('exits 1 on a malformed token', async () => {
    const { code, stdout } = await run([...verifyArgs(), 'a.b']);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: malformed');
  });

  it('exits 1 on an unsigned (alg none) token', async () => {
    const { code, stdout } = await run([...verifyArgs(), unsignedToken({ alg: 'none' }, { iss: idp.issuer, aud: TEST_AUDIENCE, exp: NOW + 60 })]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: algorithm_not_allowed');
  });

  it('prints { valid: false, reason, code, message } with --json and exits 1', async () => {
    const { code, stdout } = await run([...verifyArgs('--json'), idpToken({ aud: 'https://other.test' })]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ valid: false, reason: 'audience_mismatch', code: 'invalid_token', message: 'Token audience is not this API' });
  });

  it.each([
    ['valid', {}],
    ['invalid', { aud: 'https://other.test' }],
  ])('never prints the signature of a %s token', async (_label, claims) => {
    const token = idpToken(claims);
    const { stdout, stderr } = await run([...verifyArgs(), token]);
    expect(stdout + stderr).not.toContain(signatureOf(token));
  });

  it('exits 2 with "cannot verify" on stderr and nothing on stdout when the JWKS is unreachable', async () => {
    const jwksUri = await refusedUrl();
    const { code, stdout, stderr } = await run(['verify', '--issuer', idp.issuer, '--audience', TEST_AUDIENCE, '--jwks-uri', jwksUri, '--allow-http-loopback', idpToken()]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toContain('cannot verify: Signing keys are unavailable');
  });

  it('exits 2 when discovery from the issuer is unreachable', async () => {
    const issuer = await refusedUrl('');
    const { code, stderr } = await run(['verify', '--issuer', issuer, '--audience', TEST_AUDIENCE, '--allow-http-loopback', signToken(KEY, { iss: issuer })]);
    expect(code).toBe(2);
    expect(stderr).toContain('Issuer metadata is unavailable');
  });

  it('exits 2 naming --allow-http-loopback for an http: JWKS URL without it', async () => {
    const { code, stderr } = await run(['verify', '--issuer', idp.issuer, '--audience', TEST_AUDIENCE, '--jwks-uri', idp.jwksUri, idpToken()]);
    expect(code).toBe(2);
    expect(stderr).toContain('--allow-http-loopback');
    expect(stderr).not.toContain('createVerifier');
  });

  it('exits 2 naming --jwks-uri when the issuer is not a URL', async () => {
    const { code, stderr } = await run(['verify', '--issuer', 'auth.example', '--audience', TEST_AUDIENCE, idpToken()]);
    expect(code).toBe(2);
    expect(stderr).toContain('give --jwks-uri');
  });

  it('accepts an ES256 token with --algorithms RS256,ES256', async () => {
    const { code } = await run([...verifyArgs('--algorithms', 'RS256,ES256'), idpToken({}, EC_KEY)]);
    expect(code).toBe(0);
  });

  it('refuses an ES256 token by default', async () => {
    const { code, stdout } = await run([...verifyArgs(), idpToken({}, EC_KEY)]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: algorithm_not_allowed');
  });

  it('exits 2 for --algorithms HS256', async () => {
    const { code, stderr } = await run([...verifyArgs('--algorithms', 'HS256'), idpToken()]);
    expect(code).toBe(2);
    expect(stderr).toContain('--algorithms must not contain "HS256"');
  });

  it('exits 2 naming --clock-tolerance when it is not a number', async () => {
    const { code, stderr } = await run([...verifyArgs('--clock-tolerance', 'soon'), idpToken()]);
    expect(code).toBe(2);
    expect(stderr).toContain('--clock-tolerance must be a number');
  });

  it('applies --clock-tolerance to exp', async () => {
    const { code } = await run([...verifyArgs('--clock-tolerance', '120'), idpToken({ iat: NOW - 600, exp: NOW - 60 })]);
    expect(code).toBe(0);
  });

  it('refuses a token older than --max-token-age', async () => {
    const { code, stdout } = await run([...verifyArgs('--max-token-age', '60'), idpToken({ iat: NOW - 3600, exp: NOW + 300 })]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: token_too_old');
  });

  it('refuses a token without aud by default', async () => {
    const { code, stdout } = await run([...verifyArgs(), idpToken({ aud: undefined })]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: claim_missing');
  });

  it('accepts a token without aud with --allow-missing-audience', async () => {
    const { code } = await run([...verifyArgs('--allow-missing-audience'), idpToken({ aud: undefined })]);
    expect(code).toBe(0);
  });

  it('refuses a typ JWT token with --typ at+jwt', async () => {
    const { code, stdout } = await run([...verifyArgs('--typ', 'at+jwt'), idpToken()]);
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: type_invalid');
  });

  it('exits 2 naming --typ for a value other than at+jwt', async () => {
    const { code, stderr } = await run([...verifyArgs('--typ', 'JWT'), idpToken()]);
    expect(code).toBe(2);
    expect(stderr).toContain("--typ must be 'at+jwt'");
  });
});

describe('bearer-guard colour', () => {
  it('writes no ANSI codes when stdout is not a terminal', async () => {
    const { stdout } = await run([...verifyArgs(), idpToken()]);
    expect(stdout).not.toContain(ESC);
  });

  it('colours "valid" when stdout is a terminal', async () => {
    const { stdout } = await run([...verifyArgs(), idpToken()], { stdoutTTY: true });
    expect(stdout.startsWith(`${ESC}32mvalid${ESC}39m\n`)).toBe(true);
  });

  it('colours decode output when stdout is a terminal', async () => {
    const { stdout } = await run(['decode', signToken(KEY)], { stdoutTTY: true });
    expect(stdout).toContain(`${ESC}1mHeader${ESC}22m`);
  });

  it('writes no ANSI codes on a terminal when NO_COLOR is set', async () => {
    const { stdout } = await run([...verifyArgs(), idpToken()], { stdoutTTY: true, env: { NO_COLOR: '1' } });
    expect(stdout).not.toContain(ESC);
  });

  it('colours errors only when stderr is a terminal', async () => {
    const plain = await run(['decode', 'a.b']);
    const coloured = await run(['decode', 'a.b'], { stderrTTY: true });
    expect(plain.stderr).not.toContain(ESC);
    expect(coloured.stderr).toContain(`${ESC}31mbearer-guard:`);
  });
});

interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `dist/bin.js` with `input` piped to its stdin. */
function runBin(args: string[], input = ''): Promise<BinResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('the built bin', () => {
  beforeAll(() => {
    if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first (\`npm test\` builds before running vitest)`);
  });

  it('starts with a node shebang', () => {
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('prints the package version', async () => {
    const { code, stdout } = await runBin(['--version']);
    expect(code).toBe(0);
    expect(stdout).toBe(`${VERSION}\n`);
  });

  it('decodes a token piped on stdin and exits 0', async () => {
    const { code, stdout, stderr } = await runBin(['decode'], `Bearer ${signToken(KEY, { sub: 'piped' })}\n`);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('piped');
  });

  it('exits 1 on a malformed token piped on stdin, with nothing on stdout but the --json error document', async () => {
    const plain = await runBin(['decode'], 'eyJhbGciOi.garbage\n');
    expect(plain.code).toBe(1);
    expect(plain.stdout).toBe('');
    const json = await runBin(['decode', '--json'], 'eyJhbGciOi.garbage\n');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: 'malformed' });
  });

  it('exits 2 on empty stdin', async () => {
    const { code } = await runBin(['decode'], '');
    expect(code).toBe(2);
  });

  it('exits 0 for a valid token verified against a loopback JWKS', async () => {
    const { code, stdout } = await runBin(verifyArgs('--json'), idpToken({ sub: 'bin-user' }));
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, payload: { sub: 'bin-user' } });
  });

  it('exits 1 for an expired token and prints its reason', async () => {
    const { code, stdout } = await runBin(verifyArgs(), idpToken({ iat: NOW - 7200, exp: NOW - 3600 }));
    expect(code).toBe(1);
    expect(stdout).toContain('invalid: token_expired');
  });

  it('exits 2 when the JWKS is unreachable', async () => {
    const jwksUri = await refusedUrl();
    const { code, stdout } = await runBin(['verify', '--issuer', idp.issuer, '--audience', TEST_AUDIENCE, '--jwks-uri', jwksUri, '--allow-http-loopback'], idpToken());
    expect(code).toBe(2);
    expect(stdout).toBe('');
  });

  it('exits 2 naming an unknown flag', async () => {
    const { code, stderr } = await runBin(['verify', '--issuer-url', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown option --issuer-url');
  });
});
