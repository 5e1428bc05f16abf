import { defineConfig } from '@playwright/test';

// The test server's port: PW_PORT lets parallel checkouts run their suites side by side.
const port = Number(process.env.PW_PORT ?? 5173);

export default defineConfig({
  testDir: 'test',
  testMatch: ['e2e/**/*.spec.ts', 'browser/**/*.spec.ts'],
  timeout: 120_000,
  workers: 1,
  // No retries: a flaky test is fixed, not retried (the neural spec's start-up waits now have their own budget).
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--enable-unsafe-webgpu',
      ],
    },
  },
  webServer: {
    command: `node node_modules/vite/bin/vite.js --host 127.0.0.1 --port ${port} --strictPort`,
    url: `http://127.0.0.1:${port}`,
    reuseExistingServer: !process.env.CI,
    timeout: 120_000,
  },
});
