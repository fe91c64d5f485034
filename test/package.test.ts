import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// These tests read the built package (`npm test` builds first), the way users load it.
const root = join(__dirname, '..');
const PUBLIC_NAMES = [
  'verifyToken', 'createVerifier', 'decodeJWT', 'requireScopes', 'requireAnyScope', 'createJWKSClient',
  'AuthError', 'InvalidRequestError', 'InvalidTokenError', 'UnauthorizedError', 'InsufficientScopeError', 'KeySourceError', 'ConfigError',
];

function node(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
}

describe('the built package', () => {
  it('has been built', () => {
    expect(existsSync(join(root, 'dist/index.js'))).toBe(true);
  });

  it('is required from CommonJS by its name with every public export', () => {
    const required = createRequire(join(root, 'package.json'))('bearer-guard') as Record<string, unknown>;
    for (const name of PUBLIC_NAMES) expect(typeof required[name], name).toBe('function');
    expect(required.default).toBeUndefined();
  });

  it('is imported from ESM by its name with every public export', () => {
    const script = `import * as m from 'bearer-guard'; console.log(JSON.stringify(Object.keys(m)));`;
    const names = JSON.parse(node(['--input-type=module', '-e', script])) as string[];
    expect(names).toEqual(expect.arrayContaining(PUBLIC_NAMES));
    expect(names).not.toContain('default');
  });

  it('gives ESM and CommonJS users the same classes, so instanceof works across both', () => {
    const script = `
      import { createRequire } from 'node:module';
      import { AuthError } from 'bearer-guard';
      const cjs = createRequire(process.cwd() + '/package.json')('bearer-guard');
      console.log(AuthError === cjs.AuthError && new cjs.InvalidTokenError('malformed', 'x') instanceof AuthError);`;
    expect(node(['--input-type=module', '-e', script]).trim()).toBe('true');
  });

  it('type-checks for ESM and CommonJS consumers under node16 resolution', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    expect(() => node([tsc, '-p', join(root, 'test/fixtures/consumer/tsconfig.json')])).not.toThrow();
  });
});
