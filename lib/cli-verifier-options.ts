// The bridge from the CLI's flags to the library: changes when verifier options do, not when the
// command line's grammar does.
import { UsageError, type ParsedCommand } from './cli-args.js';
import type { SupportedAlgorithm, VerifyTokenOptions } from './options.js';

/** `--algorithms RS256,ES256` and repeated flags alike. */
function splitList(values: string[]): string[] {
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}

/** Seconds from a flag; `NaN` for anything but a plain number, so that the verifier's check names it. */
function seconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return /^\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : Number.NaN;
}

/** Maps the flags of `verify` onto `createVerifier` options (checked there, then reworded by `toFlagNames`). */
export function toVerifierOptions(values: ParsedCommand['values']): VerifyTokenOptions {
  if (typeof values.issuer !== 'string') throw new UsageError('verify needs --issuer');
  if (!Array.isArray(values.audience)) throw new UsageError('verify needs --audience');
  const options: VerifyTokenOptions = {
    issuer: values.issuer,
    audience: values.audience,
    tokenCache: false,
    allowHttpLoopback: values['allow-http-loopback'] === true,
    dangerouslyAllowMissingAudience: values['allow-missing-audience'] === true,
  };
  if (typeof values['jwks-uri'] === 'string') options.jwksUri = values['jwks-uri'];
  if (Array.isArray(values.algorithms)) options.algorithms = splitList(values.algorithms) as SupportedAlgorithm[];
  const clockTolerance = seconds(values['clock-tolerance'] as string | undefined);
  if (clockTolerance !== undefined) options.clockTolerance = clockTolerance;
  const maxTokenAge = seconds(values['max-token-age'] as string | undefined);
  if (maxTokenAge !== undefined) options.maxTokenAge = maxTokenAge;
  if (typeof values.typ === 'string') options.typ = values.typ as 'at+jwt';
  return options;
}

const FLAG_NAMES: Readonly<Record<string, string>> = {
  issuer: '--issuer',
  audience: '--audience',
  jwksUri: '--jwks-uri',
  algorithms: '--algorithms',
  clockTolerance: '--clock-tolerance',
  maxTokenAge: '--max-token-age',
  typ: '--typ',
  allowHttpLoopback: '--allow-http-loopback',
  'allowHttpLoopback: true': '--allow-http-loopback',
  dangerouslyAllowMissingAudience: '--allow-missing-audience',
};

/** Rewords a `ConfigError` from `createVerifier` in terms of the CLI's flags. */
export function toFlagNames(message: string): string {
  return message
    .replace(/^createVerifier: /, '')
    .replace(/`([^`]+)`/g, (quoted, name: string) => FLAG_NAMES[name] ?? quoted);
}
