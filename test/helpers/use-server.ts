import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';

// Apart from the servers' own files because it needs vitest: the bench imports those outside vitest.

/**
 * Registers the hooks that start a loopback server and close it: `beforeAll`/`afterAll` of the
 * file or `describe` it is called in, or with `per: 'test'` a new server in each
 * `beforeEach`/`afterEach`. Returns a view of the server that is running, so tests read its
 * members as with their own; the hooks own its lifetime, hence no `close()`.
 */
export function useServer<Server extends { close(): Promise<void> }>(
  start: () => Promise<Server>,
  { per = 'file', name = 'useServer' }: { per?: 'file' | 'test'; name?: string } = {},
): Omit<Server, 'close'> {
  let server: Server | undefined;
  const [starting, stopping] = per === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  starting(async () => {
    server = await start();
  });
  stopping(async () => {
    await server?.close();
    server = undefined;
  });
  return new Proxy({} as Server, {
    get(_target, member) {
      if (server === undefined) throw new Error(`${name}: the server exists only between its start and stop hooks`);
      return Reflect.get(server, member);
    },
  });
}
