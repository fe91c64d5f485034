import { UsageError } from './cli-args.js';
import type { CliIO } from './cli.js';

/** Stdin beyond this is not read; an over-long token is then refused as `token_too_large`. */
const MAX_INPUT_BYTES = 64 * 1024;

/**
 * The token from the argument, or from stdin when there is none (or it is `-`), trimmed.
 * @throws UsageError when neither gives one
 */
export async function readToken(given: string | undefined, io: Pick<CliIO, 'stdin' | 'stderr'>): Promise<string> {
  let raw = given;
  if (raw === undefined || raw === '-') {
    const interactive = io.stdin.isTTY === true;
    if (interactive) io.stderr.write('Paste the token and press Enter: ');
    raw = await readInput(io.stdin, interactive);
  }
  // Accept what people copy: a header line ("Authorization: Bearer …") or its value.
  const token = raw.trim().replace(/^(?:authorization:\s*)?bearer\s+/i, '').trim();
  if (token === '') throw new UsageError('no TOKEN: give it as an argument or on stdin');
  return token;
}

async function readInput(stdin: CliIO['stdin'], firstLineOnly: boolean): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    // A stream yields strings (with an encoding set) or bytes (Buffer or plain Uint8Array).
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk as Uint8Array);
    chunks.push(bytes);
    size += bytes.length;
    // A terminal has no end of input until Ctrl-D: there, one line is the token.
    if (size > MAX_INPUT_BYTES || (firstLineOnly && bytes.includes(0x0a))) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return firstLineOnly ? text.split('\n', 1)[0]! : text;
}
