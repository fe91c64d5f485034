import { ConfigError } from '../errors.js';

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** True for localhost, 127.0.0.0/8 and [::1]. */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname) || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/**
 * Checks a URL bearer-guard will fetch keys or metadata from, at construction time.
 * `https:` always; `http:` only for a loopback host and only when `allowHttpLoopback` is set,
 * because a key fetched in clear text can be swapped by anyone on the path.
 * @param where e.g. "verifyToken: `jwksUri`", the start of every message
 * @throws ConfigError naming the option
 */
export function checkFetchURL(where: string, value: unknown, allowHttpLoopback: boolean): URL {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${where} must be a non-empty URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${where} is not a valid URL`);
  }
  if (url.username !== '' || url.password !== '') throw new ConfigError(`${where} must not contain credentials`);
  if (url.hash !== '') throw new ConfigError(`${where} must not contain a fragment`);
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) {
    if (allowHttpLoopback) return url;
    throw new ConfigError(`${where} uses http: on loopback; set \`allowHttpLoopback: true\` to allow it in tests and demos`);
  }
  throw new ConfigError(`${where} must use https: (plain http: is allowed only for loopback hosts with \`allowHttpLoopback: true\`)`);
}
