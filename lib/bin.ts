#!/usr/bin/env node
import { main } from './cli.js';

// A closed pipe (`bearer-guard decode | head -1`) is not an error worth a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

main(process.argv.slice(2), process).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    process.stderr.write(`bearer-guard: internal error: ${message.split('\n', 1)[0]}\n`);
    process.exitCode = 2;
  },
);
