import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Real loopback servers and RSA key generation: give slow CI machines room.
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
