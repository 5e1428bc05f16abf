import { defineConfig } from 'vitest/config';

const SMALL_STACK = 'test/unit/reliability-index-stack.test.ts';

// Unit tests of the pure core run in Node; browser behaviour is covered by Playwright (test/e2e, test/browser).
export default defineConfig({
  test: {
    environment: 'node',
    testTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], exclude: [SMALL_STACK] } },
      // A spread of a data-sized list overflows a small stack at a fraction of the list size (see the file).
      { extends: true, test: { name: 'small-stack', include: [SMALL_STACK], execArgv: ['--stack-size=150'] } },
    ],
  },
});
