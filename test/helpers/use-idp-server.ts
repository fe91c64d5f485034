import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { startIdpServer, type IdpServer, type IdpServerOptions } from './idp-server.js';

// Apart from idp-server.ts because it needs vitest: the bench imports idp-server.ts outside vitest.

/**
 * Registers the hooks that start an `IdpServer` and close it: `beforeAll`/`afterAll` of the file or
 * `describe` it is called in, or with `per: 'test'` a new server in each `beforeEach`/`afterEach`.
 * Returns a view of the server that is running, so tests read `idp.jwksUri` as with their own;
 * the hooks own its lifetime, hence no `close()`. Options given as a function are read at each start
 * (e.g. a path per test).
 */
export function useIdpServer(
  options: IdpServerOptions | (() => IdpServerOptions) = {},
  { per = 'file' }: { per?: 'file' | 'test' } = {},
): Omit<IdpServer, 'close'> {
  let server: IdpServer | undefined;
  const [start, stop] = per === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  start(async () => {
    server = await startIdpServer(typeof options === 'function' ? options() : options);
  });
  stop(async () => {
    await server?.close();
    server = undefined;
  });
  return new Proxy({} as IdpServer, {
    get(_target, member) {
      if (server === undefined) throw new Error('useIdpServer: the server exists only between its start and stop hooks');
      return Reflect.get(server, member);
    },
  });
}
