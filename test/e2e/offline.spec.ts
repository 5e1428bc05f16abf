import { appendFile, cp } from 'node:fs/promises';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { serveBuiltApp, type BuiltApp } from '../servers/built-app.ts';
import { demonstration, model } from './catalog-lines.ts';

// The service worker exists only in the built app: this spec builds once and serves dist statically.
let app: BuiltApp;
test.beforeAll(async () => {
  test.setTimeout(180_000);
  app = await serveBuiltApp();
  console.log(`[offline] vite build took ${(app.buildMs / 1000).toFixed(1)} s`);
});
test.afterAll(async () => {
  await app?.close();
});

/**
 * Offline for real: the browser is told it is offline (navigator.onLine, page requests), its HTTP cache is
 * emptied, and the static server stops (workers' requests are not covered by the browser's offline switch).
 * Whatever loads afterwards came from the service worker, Cache Storage or IndexedDB.
 */
async function goOffline(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.clearBrowserCache');
  await cdp.detach();
  await app.stopServer();
  await page.context().setOffline(true);
}

async function goOnline(page: Page) {
  await page.context().setOffline(false);
  await app.startServer();
}

async function plan(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
}

const CATALOG = [
  model(9001, 'Offline Lighthouse Painter', ['seascape', 'lighthouse', 'oil painting']),
  model(9002, 'Offline Robot Sketch', ['robot', 'sketch']),
].join('\n');
const DEMONSTRATIONS = [
  demonstration(1, 9001, 'a lighthouse on a cliff at dusk, stormy sea, oil painting'),
  demonstration(2, 9001, 'a red lighthouse in the fog, seascape, oil painting'),
  demonstration(3, 9002, 'a small robot drawn in pencil, sketch'),
].join('\n');

test('after one visit the built app starts offline, plans with the starter and an imported catalog, and keeps the history', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const failures: string[] = [];
  page.on('response', (r) => {
    if (r.status() >= 400) failures.push(`${r.status()} ${r.url()}`);
  });
  page.on('requestfailed', (r) => {
    if (!r.url().endsWith('/kiosk.json')) failures.push(`failed ${r.url()}: ${r.failure()?.errorText}`);
  });

  await page.goto(app.url);
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  // The manifest with its icons, and a service worker that finished precaching (the page is then controlled after a reload).
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector<HTMLLinkElement>('link[rel="manifest"]');
    return link
      ? ((await (await fetch(link.href)).json()) as {
          name: string;
          icons: { src: string; sizes: string }[];
          theme_color: string;
        })
      : null;
  });
  expect(manifest?.name).toBe('ChatGen Web');
  expect(manifest?.theme_color).toBe('#3857d6');
  expect(manifest?.icons.map((i) => i.sizes)).toEqual(['192x192', '512x512', '512x512']);
  for (const icon of manifest!.icons) expect((await page.request.get(`${app.url}/${icon.src}`)).ok()).toBe(true);
  const script = await page.evaluate(async () => (await navigator.serviceWorker.ready).active?.scriptURL ?? null);
  expect(script).toBe(`${app.url}/sw.js`);

  // First visit, online: a chat with the starter catalog, then a small catalog imported from files.
  await plan(page, 'a cozy watercolor fox reading in a library');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page
    .getByLabel('Catalog file (JSONL)')
    .setInputFiles({ name: 'offline-catalog.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(CATALOG) });
  await page
    .getByLabel('Demonstrations file (JSONL)')
    .setInputFiles({ name: 'offline-demos.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(DEMONSTRATIONS) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-result')).toContainText('Imported 2 models');
  // Settings says what the browser keeps: storage used, persistent or not (asked for after the import).
  await expect(page.getByTestId('storage-state')).toContainText(/Storage: \d+\.\d MB used of/);

  // Offline, reload: the service worker serves the app; IndexedDB still has the catalog and the chat.
  await goOffline(page);
  await page.reload();
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  await expect(page.getByText(/catalog: offline-catalog\.jsonl/)).toBeVisible();
  expect(await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null)).toBe(`${app.url}/sw.js`);
  await expect(page.getByTestId('offline-notice')).toContainText('The browser is offline');
  await expect(page.getByRole('complementary', { name: 'Past chats' })).toContainText(
    'a cozy watercolor fox reading in a library',
  );

  await page.getByRole('button', { name: 'New chat' }).click();
  await plan(page, 'a lighthouse on a cliff at night, stormy sea');
  await expect(page.locator('[data-stage="model"]')).toContainText('Offline Lighthouse Painter');

  // An offline Generate blames the network, not the server.
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.locator('.generate-panel [role="alert"]')).toContainText('The browser is offline');

  // Back to the starter catalog, still offline: its files come from the precache.
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('offline-state')).toContainText('Works offline');
  await page.getByRole('button', { name: 'Use Built-in starter catalog' }).click();
  await expect(page.getByText(/catalog: starter/)).toBeVisible();
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('button', { name: 'New chat' }).click();
  await plan(page, 'a pixel art castle at night');
  const history = page.getByRole('complementary', { name: 'Past chats' });
  await expect(history.getByRole('listitem')).toHaveCount(3);
  await goOnline(page);
  expect(failures, 'no failed or 4xx/5xx request while loading').toEqual([]);
});

test('a new version waits for the user: the update prompt reloads only when asked', async ({ page }) => {
  await page.goto(app.url);
  await page.evaluate(async () => navigator.serviceWorker.ready);
  await page.reload();
  const first = await page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null);
  expect(first).toBe(`${app.url}/sw.js`);
  await plan(page, 'a paper boat on a puddle');

  // Deploy a "new version" (the service worker's bytes change) and let the browser look for it.
  await appendFile(path.join(app.outDir, 'sw.js'), '\n// a new deployment\n');
  await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())?.update());
  await expect(page.getByTestId('update-prompt')).toContainText('A new version of ChatGen Web is ready');
  // Nothing was swapped under the user: the chat is still on screen and the old worker still controls the page.
  await expect(page.locator('.turn').first()).toHaveText('a paper boat on a puddle');
  expect(await page.evaluate(async () => !!(await navigator.serviceWorker.getRegistration())?.waiting)).toBe(true);

  // Asked: the waiting worker takes over and the page reloads under it.
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Reload to update' }).click()]);
  expect(await page.evaluate(async () => !(await navigator.serviceWorker.getRegistration())?.waiting)).toBe(true);
  await expect(page.getByTestId('update-prompt')).toHaveCount(0);
  await expect(page.getByRole('complementary', { name: 'Past chats' })).toContainText('a paper boat on a puddle');
});

test('a model pack downloaded once opens again offline', async ({ page }) => {
  test.setTimeout(120_000);
  // Deploy the tiny test pack with the built app, where a site would serve its packs (/models/…).
  const fixtures = path.resolve(import.meta.dirname, '../fixtures');
  await cp(path.join(fixtures, 'pack-tiny'), path.join(app.outDir, 'models/pack-tiny'), { recursive: true });
  await cp(path.join(fixtures, 'llm-tiny'), path.join(app.outDir, 'models/llm-tiny'), { recursive: true });
  await page.goto(app.url);
  await page.evaluate(async () => navigator.serviceWorker.ready);
  await page.reload();

  const chooseTinyPack = async () => {
    await page.getByRole('button', { name: 'Settings' }).click();
    const section = page.getByRole('region', { name: 'Engine' });
    await section.getByLabel('Neural pack').check();
    // Settings offers the first curated pack when none is chosen: a pack served with the app is a custom one.
    await expect(section.getByTestId('curated-pack').first()).toBeVisible({ timeout: 30_000 });
    await section.getByRole('radio', { name: /^Custom pack/ }).check();
    await section.getByLabel('Pack URL', { exact: true }).fill('/models/pack-tiny/');
    await section.getByLabel('Neural backend').selectOption('wasm');
    await section.getByRole('button', { name: 'Use this engine' }).click();
    await expect(section.getByRole('button', { name: 'Use this engine' })).toBeEnabled({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
  };
  await chooseTinyPack();
  await expect(page.getByRole('banner').getByTestId('llm-runtime')).toHaveText('(tiny-test on wasm, fp32)');

  await goOffline(page);
  await page.reload();
  await expect(page.getByRole('banner').getByTestId('llm-runtime')).toHaveText('(tiny-test on wasm, fp32)', {
    timeout: 30_000,
  });
  await expect(page.getByTestId('engine-fallback')).toHaveCount(0);
  await page.getByRole('textbox', { name: 'Message' }).fill('a red fox in the snow, watercolor');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ', { timeout: 30_000 });
  await expect(page.getByTestId('plan-engine')).toContainText('neural');
  await goOnline(page);
});
