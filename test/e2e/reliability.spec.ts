/**
 * Reliability suite, the browser half (issue 15): the findings where the browser is the point (Svelte
 * keys, the call stack of Chromium, IndexedDB across tabs, unload, CSP). Each test names its finding
 * and failed on the code before the fix. The Node half is test/unit/reliability-*.test.ts.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';

const modelLine = (id: number, name: string) =>
  JSON.stringify({
    id,
    name,
    type: 'Checkpoint',
    tags: ['fantasy'],
    base_model: 'SD 1.5',
    trained_words: [],
    file: `${name}.safetensors`,
    hash: '',
    downloads: 100 * id,
    rating: 5,
    description: 'knights and castles',
  });
const demoLine = (imageId: number, modelId: number, prompt: string) =>
  JSON.stringify({
    image_id: imageId,
    model_id: modelId,
    prompt,
    negative_prompt: 'blurry',
    arguments: { sampler: 'Euler a', steps: 24, cfg_scale: 7, width: 512, height: 768 },
  });

async function importCatalog(page: Page, catalog: string, demonstrations: string) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page
    .getByLabel('Catalog file (JSONL)')
    .setInputFiles({ name: 'catalog.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(catalog) });
  await page
    .getByLabel('Demonstrations file (JSONL)')
    .setInputFiles({ name: 'demos.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(demonstrations) });
  await page.getByRole('button', { name: 'Import' }).click();
}

/** Every model of the starter catalog, installed on a test server, so any plan the engine makes can run. */
function starterModels() {
  const starter = readFileSync(path.resolve(import.meta.dirname, '../../public/models/starter/catalog.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file: string; type: string });
  return {
    checkpoints: starter.filter((m) => m.type === 'Checkpoint').map((m) => ({ file: m.file, sha256: null })),
    loras: starter.filter((m) => m.type === 'LORA').map((m) => m.file),
  };
}

async function plan(page: Page, text: string) {
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
}

test('finding 1: a catalog repeating a demonstration image_id names the line, and planning keeps Edit plan and Generate', async ({
  page,
}) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  const catalog = [modelLine(1, 'knightmix'), modelLine(2, 'castlemix')].join('\n');
  const prompt = 'a knight in shining armor before a castle, detailed, masterpiece';
  const demonstrations = [
    demoLine(5, 1, prompt),
    demoLine(5, 1, prompt),
    demoLine(6, 2, prompt),
    demoLine(5, 2, prompt),
  ].join('\n');
  await importCatalog(page, catalog, demonstrations);
  await expect(page.getByTestId('import-result')).toContainText('Imported 2 models');
  const skipped = await page.getByTestId('import-errors').innerText();
  await plan(page, 'a knight in shining armor before a castle');
  await expect(page.getByRole('button', { name: 'Edit plan' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate' })).toBeVisible();
  expect(skipped).toContain('demos.jsonl:2 field "image_id": duplicate image_id 5 (first on line 1)');
  expect(skipped).toContain('demos.jsonl:4 field "image_id": duplicate image_id 5 (first on line 1)');
  await page.reload();
  await expect(page.locator('[data-stage="model"]')).toContainText('mix');
  expect(pageErrors).toEqual([]);
});

test('finding 2: Chromium builds the index of 200k models and of one model with 20k demonstrations', async ({
  page,
}) => {
  await page.goto('/');
  const built = await page.evaluate(async () => {
    const modulePath = '/src/core/engines/default/index-build.ts';
    const { buildCatalogIndex } = (await import(
      /* @vite-ignore */ modulePath
    )) as typeof import('../../src/core/engines/default/index-build.ts');
    const model = (id: number) => ({
      id,
      name: `Synthetic model ${id}`,
      type: 'Checkpoint' as const,
      tags: [`tag${id % 97}`],
      base_model: 'SD 1.5',
      trained_words: [],
      file: `s${id}.safetensors`,
      hash: null,
      downloads: id,
      rating: 4,
      description: '',
    });
    const demo = (imageId: number, modelId: number) => ({
      image_id: imageId,
      model_id: modelId,
      prompt: `portrait of a knight ${imageId % 500}, detailed armor, castle walls, dramatic lighting, masterpiece, best quality, ultra detailed, sharp focus, cinematic composition, golden hour, intricate engraving, volumetric fog, rim light, depth of field, highly detailed face, oil painting style, trending artwork`,
      negative_prompt: '',
      arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 },
    });
    const outcome = (models: number, demos: number) => {
      try {
        const index = buildCatalogIndex({
          source: 'synthetic',
          version: 'v',
          models: Array.from({ length: models }, (_, i) => model(i + 1)),
          demonstrations: Array.from({ length: demos }, (_, i) => demo(i + 1, 1)),
        });
        return `${index.models.length} models, ${index.demosOfModel[0]!.length} demonstrations of model 1`;
      } catch (e) {
        return (e as Error).message;
      }
    };
    return [outcome(200_000, 0), outcome(10, 20_000)];
  });
  expect(built).toEqual(['200000 models, 0 demonstrations of model 1', '10 models, 20000 demonstrations of model 1']);
});

test('finding 3: a catalog URL that never answers can be cancelled, and Import works again', async ({ page }) => {
  const silent = http.createServer(() => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  try {
    await page.goto('/');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page
      .getByLabel('or catalog URL')
      .fill(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/catalog.jsonl`);
    await page.getByRole('button', { name: 'Import' }).click();
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await page.getByRole('button', { name: 'Cancel import' }).click();
    await expect(page.getByTestId('import-error')).toHaveText('The import was cancelled; nothing was imported.');
    await expect(page.getByRole('button', { name: 'Import' })).toBeEnabled();
    await expect(page.getByLabel('Largest download from a URL (MB)')).toHaveValue('512');
  } finally {
    silent.closeAllConnections();
    silent.close();
  }
});

/** CSP violations the page sees, and the browser's "Refused to …" console errors (which also cover workers). */
async function watchCsp(page: Page): Promise<() => Promise<string[]>> {
  const console: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) console.push(m.text());
  });
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  return async () => [
    ...console,
    ...(await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations)),
  ];
}

test('finding 13: the app runs under its Content-Security-Policy: engine worker, WASM neural pack, generation, images', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const server = new A1111TestServer({ delayMs: 50, ...starterModels() });
  const serverUrl = await server.listen();
  try {
    const violations = await watchCsp(page);
    const response = await page.goto('/');
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'wasm-unsafe-eval' blob:");
    await expect(page.getByText(/Engine: default/)).toBeVisible();

    // Generation: fetch to a user-chosen endpoint and the image shown from a blob: URL.
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Endpoint URL').fill(serverUrl);
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();
    await plan(page, 'a dreamy castle above the clouds');
    await page.getByRole('button', { name: 'Generate' }).click();
    const image = page.locator('[data-stage="image"] img').first();
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0), { timeout: 20_000 })
      .toBe(true);

    // The neural engine: the LLM worker and onnxruntime-web's WASM.
    await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Settings' }).click();
    const engine = page.getByRole('region', { name: 'Engine' });
    await engine.getByLabel('Neural pack').check();
    await engine.getByRole('radio', { name: /^Custom pack/ }).check();
    await engine.getByLabel('Pack URL', { exact: true }).fill('/test/fixtures/pack-tiny/');
    await engine.getByLabel('Neural backend').selectOption('wasm');
    await engine.getByRole('button', { name: 'Use this engine' }).click();
    await expect(page.getByRole('banner').getByTestId('llm-runtime')).toHaveText('(tiny-test on wasm, fp32)', {
      timeout: 60_000,
    });
    await plan(page, 'a lighthouse at dusk');

    expect(await violations()).toEqual([]);

    // The policy is in force: markup that slipped into the page cannot run a script, and says so.
    const injectedRan = await page.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.injectedRan = true';
      document.head.append(script);
      return (window as unknown as { injectedRan?: boolean }).injectedRan === true;
    });
    expect(injectedRan).toBe(false);
    await expect.poll(violations).toContainEqual('script-src-elem inline');
  } finally {
    await server.close();
  }
});

test('finding 5: an upgrade in another tab is never blocked by this one, which asks for a reload; newer data is explained, not a hang', async ({
  page,
  context,
}) => {
  await page.goto('/');
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  await page.getByRole('textbox', { name: 'Message' }).fill('a red fox');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');

  // A newer version of the app opens the database in a second tab (same origin, a higher version).
  const newer = await context.newPage();
  await newer.goto('/models/starter/catalog.jsonl');
  const upgrade = await newer.evaluate(
    () =>
      new Promise<string>((resolve) => {
        const request = indexedDB.open('chatgen-web', 100);
        request.onupgradeneeded = () => request.result.createObjectStore('added-by-a-newer-version');
        request.onsuccess = () => {
          request.result.close();
          resolve('upgraded');
        };
        request.onerror = () => resolve(`error: ${request.error?.name}`);
        setTimeout(() => resolve('still blocked after 5 s'), 5000);
      }),
  );
  expect(upgrade).toBe('upgraded');
  await expect(page.getByTestId('storage-version')).toContainText('Reload this tab');

  // The older app, reloaded against the newer data, says why it cannot start.
  await page.reload();
  await expect(page.getByTestId('storage-version').first()).toContainText('newer version of the app', {
    timeout: 15_000,
  });
  await expect(page.getByText('Loading the engine…')).toHaveCount(0);
});

test('finding 9: a chat whose planning was cut off by a reload offers "Plan again"', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  // What a reload during planning leaves: the chat is stored before planning starts, its result still null.
  await page.evaluate(
    () =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open('chatgen-web');
        open.onsuccess = () => {
          const tx = open.result.transaction('chats', 'readwrite');
          const now = Date.now();
          tx.objectStore('chats').put({
            id: 'cut-off',
            created: now,
            updated: now,
            title: 'a lighthouse at dusk',
            input: { messages: ['a lighthouse at dusk'], images: [] },
            result: null,
            plan_key: null,
          });
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
      }),
  );
  await page.reload();
  await expect(page.getByTestId('plan-missing')).toBeVisible();
  await page.getByRole('button', { name: 'Plan again' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
  await expect(page.getByTestId('plan-missing')).toHaveCount(0);
  await page.reload();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
});

test('finding 9: closing or reloading the tab interrupts the job it left running on A1111 and ComfyUI', async ({
  page,
}) => {
  const models = starterModels();
  const a1111 = new A1111TestServer({ delayMs: 50, stall: true, ...models });
  const comfy = new ComfyTestServer({
    delayMs: 50,
    stall: true,
    checkpoints: models.checkpoints.map((m) => m.file),
    loras: models.loras,
  });
  const urls = { a1111: await a1111.listen(), comfyui: await comfy.listen() };
  try {
    for (const [kind, server, generationPath, interruptPath] of [
      ['a1111', a1111, '/sdapi/v1/txt2img', '/sdapi/v1/interrupt'],
      ['comfyui', comfy, '/prompt', '/interrupt'],
    ] as const) {
      await page.goto('/');
      await page.getByRole('button', { name: 'Settings' }).click();
      await page.getByLabel('Endpoint type').selectOption(kind);
      await page.getByLabel('Endpoint URL').fill(urls[kind]);
      await page.getByRole('button', { name: 'Save endpoints' }).click();
      await expect(page.getByText('Saved.')).toBeVisible();
      await plan(page, 'a lighthouse on a cliff at dusk');
      await page.getByRole('button', { name: 'Generate' }).click();
      await expect
        .poll(() => server.requests.some((r) => r.path === generationPath), {
          message: `${kind} received the job`,
          timeout: 20_000,
        })
        .toBe(true);
      await page.reload();
      await expect
        .poll(() => server.requests.some((r) => r.method === 'POST' && r.path === interruptPath), {
          message: `${kind} was told to interrupt`,
        })
        .toBe(true);
    }
  } finally {
    await Promise.all([a1111.close(), comfy.close()]);
  }
});

test('finding 4: a link naming another endpoint asks first, showing its host, and nothing reaches it unless accepted', async ({
  page,
}) => {
  const options = { delayMs: 20, ...starterModels() };
  const mine = new A1111TestServer(options);
  const theirs = new A1111TestServer(options);
  const [mineUrl, theirsUrl] = [await mine.listen(), await theirs.listen()];
  try {
    await page.goto('/');
    await page.getByRole('button', { name: 'Settings' }).click();
    await page.getByLabel('Endpoint URL').fill(mineUrl);
    await page.getByRole('button', { name: 'Save endpoints' }).click();
    await expect(page.getByText('Saved.')).toBeVisible();

    await page.goto(`/?endpoint=a1111:${theirsUrl}`);
    const question = page.getByTestId('link-request');
    await expect(question).toContainText(`This link asks to send your prompts to ${new URL(theirsUrl).host} (a1111)`);
    await plan(page, 'a lighthouse on a cliff at dusk');
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(
      page.getByRole('alert').filter({ hasText: 'First answer whether to use the endpoints from the link' }),
    ).toBeVisible();
    await page.getByRole('button', { name: 'Keep my saved endpoints' }).click();
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(page.locator('[data-stage="image"] img')).toHaveCount(1);
    expect(mine.requests.some((r) => r.path === '/sdapi/v1/txt2img')).toBe(true);
    expect(theirs.requests).toEqual([]);
    // Asked once: the answer holds for the visit.
    await page.reload();
    await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
    await expect(question).toHaveCount(0);
  } finally {
    await Promise.all([mine.close(), theirs.close()]);
  }
});

test('finding 8: tabs follow each other: endpoints, a deleted chat that never comes back, the active catalog', async ({
  page: a,
  context,
}) => {
  const b = await context.newPage();
  for (const tab of [a, b]) {
    await tab.goto('/');
    await expect(tab.getByText(/Engine: default/)).toBeVisible();
  }
  const storedSettings = (tab: Page) =>
    tab.evaluate(
      () =>
        new Promise<{ url: string; onlyInstalled: boolean }>((resolve) => {
          const open = indexedDB.open('chatgen-web');
          open.onsuccess = () => {
            const get = open.result.transaction('settings').objectStore('settings').get('generation-endpoints');
            get.onsuccess = () => {
              const value = get.result?.value as
                | { endpoints: { baseUrl: string }[]; onlyInstalledModels: boolean }
                | undefined;
              open.result.close();
              resolve({ url: value?.endpoints[0]?.baseUrl ?? '', onlyInstalled: value?.onlyInstalledModels ?? false });
            };
          };
        }),
    );

  // Endpoints: B's open form follows A's save, so B's later save keeps A's endpoint.
  await b.getByRole('button', { name: 'Settings' }).click();
  await expect(b.getByLabel('Endpoint URL')).toHaveValue('http://127.0.0.1:7860');
  await a.getByRole('button', { name: 'Settings' }).click();
  await a.getByLabel('Endpoint URL').fill('http://127.0.0.1:7999');
  await a.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(a.getByText('Saved.')).toBeVisible();
  await expect(b.getByLabel('Endpoint URL')).toHaveValue('http://127.0.0.1:7999');
  await b.getByLabel('Only models on my server').check();
  await b.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(b.getByText('Saved.')).toBeVisible();
  expect(await storedSettings(a)).toEqual({ url: 'http://127.0.0.1:7999', onlyInstalled: true });

  // Chats: a chat deleted in A is not brought back by B adding a turn to it.
  await plan(a, 'a castle in the rain');
  await b.getByRole('button', { name: 'Chat', exact: true }).click();
  await b.getByRole('button', { name: /^a castle in the rain/ }).click();
  await a.getByRole('button', { name: 'Delete chat: a castle in the rain' }).click();
  await expect(b.getByRole('button', { name: /^a castle in the rain/ })).toHaveCount(0);
  await plan(b, 'with a red door');
  await a.reload();
  await expect(a.getByRole('button', { name: /^with a red door/ })).toBeVisible();
  await expect(a.getByRole('button', { name: /^a castle in the rain/ })).toHaveCount(0);

  // Catalogs: an import in A becomes B's active catalog too.
  await importCatalog(a, [modelLine(1, 'knightmix'), modelLine(2, 'castlemix')].join('\n'), demoLine(5, 1, 'a knight'));
  await expect(a.getByTestId('import-result')).toContainText('Imported 2 models');
  await expect(b.getByRole('banner')).toContainText('catalog: catalog.jsonl (2 models');
});

test('a slow start: the endpoint form waits for the saved endpoints instead of letting edits be wiped by them', async ({
  page,
}) => {
  await page.goto('/');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Endpoint URL').fill('http://127.0.0.1:7861');
  await page.getByLabel('Only models on my server').check();
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();

  // The saved endpoints are read after /kiosk.json is asked for: holding it back is a slow start.
  let releaseKioskFile!: () => void;
  const kioskFileHeld = new Promise<void>((resolve) => (releaseKioskFile = resolve));
  await page.route('**/kiosk.json', async (route) => {
    await kioskFileHeld;
    await route.continue();
  });
  await page.reload();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByText('Loading the saved endpoints…')).toBeVisible();
  await expect(page.getByLabel('Endpoint URL')).toBeDisabled();

  releaseKioskFile();
  await expect(page.getByLabel('Endpoint URL')).toBeEnabled();
  await expect(page.getByLabel('Endpoint URL')).toHaveValue('http://127.0.0.1:7861');
  await expect(page.getByLabel('Only models on my server')).toBeChecked();
  await expect(page.getByText('Loading the saved endpoints…')).toHaveCount(0);
});
