import { parseArgs, type ParseArgsConfig } from 'node:util';
import { closestName } from './internal/option-checks.js';

/** A mistake in the command line: exit code 2, with the usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The subcommands of `bearer-guard`. */
export type Command = 'decode' | 'verify' | 'help';

/** The text of `bearer-guard --help` (and of a call without a command, on stderr). */
export const USAGE = `bearer-guard: inspect and verify bearer tokens (JWTs) from the command line

Usage:
  bearer-guard decode [TOKEN] [--json]
  bearer-guard verify [TOKEN] --issuer ISS --audience AUD [options]
  bearer-guard help | --help | --version

Without TOKEN (or with -), the token is read from stdin, so it stays out of your
shell history. Surrounding whitespace and a "Bearer " prefix are removed.

Commands:
  decode   Show the header and claims of a token, WITHOUT verifying anything
  verify   Check the signature and claims as the verifyToken() middleware does

Options of verify:
  --issuer ISS              expected "iss", compared exactly (required)
  --audience AUD            this API's identifier; repeat for several (required)
  --jwks-uri URL            the issuer's key set (default: found by OIDC discovery
                            from the issuer URL)
  --algorithms LIST         accepted algorithms, comma-separated or repeated
                            (default RS256)
  --clock-tolerance SEC     clock skew allowed on exp, nbf and iat (default 5)
  --max-token-age SEC       refuse tokens issued longer ago than this
  --typ at+jwt              accept only RFC 9068 JWT access tokens
  --allow-http-loopback     allow http: URLs on localhost (tests, demos)
  --allow-missing-audience  also accept tokens without "aud" (dangerous: any
                            service trusting the issuer could replay them here)

Options of both:
  --json                    machine-readable output
  -h, --help                show this help
      --version             print the version

Output: the result alone on stdout; errors and prompts on stderr.

Exit codes:
  0  decoded, or valid
  1  malformed token (decode), or invalid token (verify)
  2  usage error, bad option, or key source (JWKS, discovery) unreachable

Examples:
  pbpaste | bearer-guard decode
  bearer-guard decode --json < token.txt | jq .payload.sub
  bearer-guard verify --issuer https://idp.example --audience https://api.example < token.txt
`;

const COMMON = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const VERIFY = {
  ...COMMON,
  issuer: { type: 'string' },
  audience: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  algorithms: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string' },
  'max-token-age': { type: 'string' },
  typ: { type: 'string' },
  'allow-http-loopback': { type: 'boolean' },
  'allow-missing-audience': { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** What a command line asks for; `values` holds the flags as given. */
export interface ParsedCommand {
  readonly command: Command | undefined;
  readonly token: string | undefined;
  readonly values: Readonly<Partial<Record<keyof typeof VERIFY, string | boolean | string[]>>>;
}

/**
 * Parses argv strictly: an unknown flag, a missing value or an extra argument is a `UsageError`
 * that names the flag (never a positional, which may be a token).
 */
export function parseCommandLine(argv: readonly string[]): ParsedCommand {
  const first = argv[0];
  const command = first === 'decode' || first === 'verify' || first === 'help' ? first : undefined;
  if (command === undefined && first !== undefined && !first.startsWith('-')) {
    // Echo only a near miss of a command: anything else may be a token.
    const echo = closestName(first, COMMANDS) === undefined ? '' : ` "${first}"`;
    throw new UsageError(`unknown command${echo}: use decode, verify or help`);
  }
  const args = command === undefined ? [...argv] : argv.slice(1);
  const options = command === 'verify' ? VERIFY : COMMON;
  let parsed: { values: ParsedCommand['values']; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (err) {
    throw usageErrorOf(err, command);
  }
  if (command === undefined && parsed.positionals.length > 0) throw new UsageError('the command comes first: decode, verify or help');
  if (parsed.positionals.length > 1) throw new UsageError(`${command} takes at most one ${command === 'help' ? 'COMMAND' : 'TOKEN'}`);
  return { command, token: command === 'help' ? undefined : parsed.positionals[0], values: parsed.values };
}

const FLAG = /'(-{1,2}[A-Za-z][\w-]{0,40})/;
const COMMANDS: ReadonlySet<string> = new Set(['decode', 'verify', 'help']);
const FLAG_NAMES: ReadonlySet<string> = new Set(Object.keys(VERIFY));

function usageErrorOf(err: unknown, command: Command | undefined): UsageError {
  const { code, message } = err as { code?: string; message?: string };
  const flag = FLAG.exec(message ?? '')?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    if (flag === undefined) return new UsageError('unknown option (an argument starting with "-"; put a TOKEN after --)');
    const name = flag.replace(/^-+/, '');
    if (command !== 'verify' && name in VERIFY) return new UsageError(`${flag} is an option of verify, not of ${command ?? 'bearer-guard'}`);
    // Named only when it is a near miss of a real flag: `--abc…` may be the start of a token.
    if (closestName(name, FLAG_NAMES) === undefined) return new UsageError('unknown option (an argument starting with "-"; put a TOKEN after --)');
    return new UsageError(`unknown option ${flag}`);
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && flag !== undefined) {
    return new UsageError(/does not take/.test(message ?? '') ? `${flag} takes no value` : `${flag} needs a value`);
  }
  return new UsageError('could not read the command line');
}
