import path from 'node:path';
import { expect, type Page, test } from '@playwright/test';

// Hand-made files in the ChatGenBench format: three models, a few demonstrations, three items.
const jsonl = (rows: object[]) => Buffer.from(rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
const args = (over: object = {}) => ({
  sampler: 'DPM++ 2M Karras',
  steps: 30,
  cfg_scale: 7,
  width: 512,
  height: 768,
  ...over,
});
const catalog = jsonl([
  {
    id: 1,
    name: 'Ink Fox',
    type: 'LORA',
    tags: ['fox', 'ink'],
    base_model: 'SD 1.5',
    trained_words: ['inkfox'],
    downloads: 50,
  },
  {
    id: 2,
    name: 'Castle Realism',
    type: 'Checkpoint',
    tags: ['architecture', 'castle', 'realistic'],
    base_model: 'SD 1.5',
    downloads: 900,
  },
  { id: 3, name: 'Anime Girls', type: 'Checkpoint', tags: ['anime', 'girl'], base_model: 'SD 1.5', downloads: 4000 },
]);
const demonstrations = jsonl([
  {
    image_id: 11,
    model_id: 1,
    prompt: 'inkfox, a fox in ink wash style, snow',
    arguments: args({ sampler: 'Euler a', steps: 25 }),
  },
  {
    image_id: 12,
    model_id: 1,
    prompt: 'inkfox, red fox sitting, ink painting',
    arguments: args({ sampler: 'Euler a', steps: 25 }),
  },
  { image_id: 21, model_id: 2, prompt: 'medieval castle on a hill, realistic photo, sunset', arguments: args() },
  {
    image_id: 31,
    model_id: 3,
    prompt: 'anime girl, silver hair, school uniform',
    arguments: args({ width: 512, height: 512 }),
  },
]);
const items = jsonl([
  {
    id: 't1',
    input_type: 'single',
    setting: 'supervised',
    messages: ['an ink drawing of a fox in the snow'],
    gold: { prompt: 'inkfox, fox, snow, ink', model_id: 1, arguments: args({ sampler: 'Euler a', steps: 25 }) },
  },
  {
    id: 't2',
    input_type: 'history',
    setting: 'few-shot',
    messages: ['a castle on a hill', 'at sunset, realistic'],
    gold: { prompt: 'castle, hill, sunset, realistic', model_id: 2, arguments: args() },
  },
  {
    id: 't3',
    input_type: 'multimodal',
    setting: 'supervised',
    messages: ['this girl but with silver hair'],
    images: ['data:image/png;base64,iVBORw0KGgo='],
    gold: { prompt: 'anime girl, silver hair', model_id: 3, arguments: args({ height: 512 }) },
  },
]);

/** Picks the bench files by the page's own file inputs, as a person would. */
async function pickFiles(page: Page, files: { catalog?: Buffer; demonstrations?: Buffer; items?: Buffer }) {
  for (const [kind, buffer] of Object.entries(files)) {
    await page
      .getByTestId(`bench-${kind}`)
      .setInputFiles({ name: `${kind}.jsonl`, mimeType: 'application/x-ndjson', buffer });
  }
}

// What the page and its workers report goes to the test log, so a failure on CI says what happened.
test.beforeEach(({ page }) => {
  page.on('pageerror', (error) => console.log(`[bench page] uncaught: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`[bench page] console: ${message.text()}`);
  });
  page.on('worker', (worker) => {
    worker.on('console', (message) => {
      if (message.type() !== 'debug') console.log(`[bench worker] ${message.type()}: ${message.text()}`);
    });
  });
});

test('the Bench page runs baseline and default in its worker over picked files and shows the tables', async ({
  page,
}) => {
  await page.goto('/test/browser/pages/bench.html');
  await expect(page.getByTestId('bench-run')).toBeDisabled();
  await pickFiles(page, { catalog, demonstrations, items });
  await page.getByTestId('bench-run').click();

  await expect(page.getByTestId('bench-status')).toHaveText(/^3 of 3 items in [\d.]+ s$/, { timeout: 60_000 });
  const tables = page.getByTestId('bench-table');
  await expect(tables).toHaveCount(2);
  const metrics = tables.nth(0);
  await expect(metrics.locator('thead th')).toHaveText([
    'Engine',
    'Items',
    'n',
    'Selection Acc',
    'Config Acc',
    'Prompt F1',
    'Input coverage',
    'p50 ms',
    'p95 ms',
  ]);
  await expect(metrics.locator('tbody tr')).toHaveCount(12);
  // The baseline always picks the most downloaded Checkpoint (Anime Girls, model 3): only t3 hits.
  await expect(metrics.locator('tbody tr').nth(0).locator('td').nth(3)).toHaveText('0.333');
  await expect(metrics.locator('tbody tr').nth(4).locator('td')).toHaveText([
    'baseline',
    'multimodal',
    '1',
    '1.000',
    /0\.\d{3}/,
    /0\.\d{3}/,
    /[01]\.\d{3}/,
    /[\d.]+/,
    /[\d.]+/,
  ]);
  await expect(metrics.locator('tbody tr').nth(6).locator('td').nth(0)).toHaveText('default');
  await expect(tables.nth(1).locator('thead th')).toHaveText([
    'Engine',
    'Items',
    'n',
    'sampler',
    'steps',
    'cfg_scale',
    'width',
    'height',
    'Config Acc',
  ]);
});

test('a bench worker that dies mid-run is reported, and Run works again', async ({ page }) => {
  await page.goto('/test/browser/pages/bench.html?broken');
  await pickFiles(page, { catalog, items });
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-error')).toHaveText(
    /^the benchmark worker stopped: .*out of memory while scoring/,
  );
  await expect(page.getByTestId('bench-run')).toBeEnabled();
});

test('the Bench page shows the loader errors with file, line and field', async ({ page }) => {
  await page.goto('/test/browser/pages/bench.html');
  await pickFiles(page, { catalog });
  const bad = Buffer.from(items.toString().replace('"setting":"few-shot"', '"setting":"zero-shot"'));
  await pickFiles(page, { items: bad });
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-error')).toContainText(
    'items.jsonl:2 field "setting": expected one of "supervised", "few-shot", got "zero-shot"',
  );
});

test('the Bench page adds BERTScore with a BERT model the app serves (the tiny fixture, on WASM)', async ({ page }) => {
  await page.goto('/test/browser/pages/bench.html');
  await pickFiles(page, { catalog, items });
  await page.getByRole('checkbox', { name: 'default' }).uncheck();
  await page.getByTestId('bench-bert').fill('/test/fixtures/bert-tiny/');
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-status')).toHaveText(/^3 of 3 items in [\d.]+ s$/, { timeout: 60_000 });
  const metrics = page.getByTestId('bench-table').nth(0);
  await expect(metrics.locator('thead th').nth(7)).toHaveText('BERTScore F1');
  await expect(metrics.locator('tbody tr')).toHaveCount(6);
  const overall = Number(await metrics.locator('tbody tr').nth(0).locator('td').nth(7).textContent());
  expect(overall).toBeGreaterThan(0);
  expect(overall).toBeLessThanOrEqual(1);
});

test('the Bench page runs the neural engine with the pack chosen in Settings, beside the default engine', async ({
  page,
}) => {
  test.setTimeout(120_000);
  // The tiny pack's head has rows for the starter catalog, so the run uses the starter files.
  const starter = (file: string) => path.resolve(import.meta.dirname, '../../public/models/starter', file);
  const starterItems = jsonl([
    {
      id: 's1',
      input_type: 'single',
      setting: 'supervised',
      messages: ['a red fox in the snow, watercolor'],
      gold: { prompt: 'fox, snow, watercolor', model_id: 4201, arguments: args() },
    },
    {
      id: 's2',
      input_type: 'history',
      setting: 'few-shot',
      messages: ['a castle at night', 'make it pixel art'],
      gold: { prompt: 'castle, night, pixel art', model_id: 25694, arguments: args() },
    },
  ]);
  await page.goto('/test/browser/pages/bench.html?pack=/test/fixtures/pack-tiny/');
  await page.getByTestId('bench-catalog').setInputFiles(starter('catalog.jsonl'));
  await page.getByTestId('bench-demonstrations').setInputFiles(starter('demonstrations.jsonl'));
  await pickFiles(page, { items: starterItems });
  await page.getByRole('checkbox', { name: 'baseline' }).uncheck();
  await page.getByRole('checkbox', { name: 'neural' }).check();
  await page.getByTestId('bench-run').click();

  await expect(page.getByTestId('bench-status')).toHaveText(/^2 of 2 items in [\d.]+ s$/, { timeout: 110_000 });
  await expect(page.getByTestId('bench-neural')).toHaveText(
    "neural: pack tiny-test on wasm (fp32), the pack's own head",
  );
  const rows = page.getByTestId('bench-table').nth(0).locator('tbody tr');
  await expect(rows).toHaveCount(12);
  await expect(rows.nth(6).locator('td').nth(0)).toHaveText('neural');
  await expect(rows.nth(6).locator('td').nth(1)).toHaveText('overall');
  await expect(rows.nth(6).locator('td').nth(2)).toHaveText('2');
  // Every metric of the neural row is a measured number (the tiny pack's values mean nothing).
  for (const cell of [3, 4, 5, 6]) await expect(rows.nth(6).locator('td').nth(cell)).toHaveText(/^[01]\.\d{3}$/);
});

test('the Bench page says why a neural pack cannot be loaded', async ({ page }) => {
  await page.goto('/test/browser/pages/bench.html?pack=/test/fixtures/no-such-pack/');
  await pickFiles(page, { catalog, items });
  await page.getByRole('checkbox', { name: 'neural' }).check();
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-error')).toContainText('/test/fixtures/no-such-pack/manifest.json is not there');
});
