import { startIdpServer, type IdpServer, type IdpServerOptions } from './idp-server.js';
import { useServer } from './use-server.js';

/**
 * Starts an `IdpServer` for the file or `describe` it is called in (with `per: 'test'`, one per
 * test) and closes it after, as `useServer` does. Options given as a function are read at each
 * start (e.g. a path per test).
 */
export function useIdpServer(
  options: IdpServerOptions | (() => IdpServerOptions) = {},
  { per = 'file' }: { per?: 'file' | 'test' } = {},
): Omit<IdpServer, 'close'> {
  return useServer(() => startIdpServer(typeof options === 'function' ? options() : options), { per, name: 'useIdpServer' });
}
