import { defineConfig } from 'vitest/config';

// Unit tests of the pure core run in Node; browser behaviour is covered by Playwright (test/e2e, test/browser).
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    pool: 'forks',
  },
});
