/**
 * Reliability suite, the browser half (issue 15): the findings where the browser is the point (Svelte
 * keys, the call stack of Chromium, IndexedDB across tabs, unload, CSP). Each test names its finding
 * and failed on the code before the fix. The Node half is test/unit/reliability-*.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';

const modelLine = (id: number, name: string) =>
  JSON.stringify({ id, name, type: 'Checkpoint', tags: ['fantasy'], base_model: 'SD 1.5', trained_words: [], file: `${name}.safetensors`, hash: '', downloads: 100 * id, rating: 5, description: 'knights and castles' });
const demoLine = (imageId: number, modelId: number, prompt: string) =>
  JSON.stringify({ image_id: imageId, model_id: modelId, prompt, negative_prompt: 'blurry', arguments: { sampler: 'Euler a', steps: 24, cfg_scale: 7, width: 512, height: 768 } });

async function importCatalog(page: Page, catalog: string, demonstrations: string) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Catalog file (JSONL)').setInputFiles({ name: 'catalog.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(catalog) });
  await page.getByLabel('Demonstrations file (JSONL)').setInputFiles({ name: 'demos.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(demonstrations) });
  await page.getByRole('button', { name: 'Import' }).click();
}

async function plan(page: Page, text: string) {
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
}

test('finding 1: a catalog repeating a demonstration image_id names the line, and planning keeps Edit plan and Generate', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  const catalog = [modelLine(1, 'knightmix'), modelLine(2, 'castlemix')].join('\n');
  const prompt = 'a knight in shining armor before a castle, detailed, masterpiece';
  const demonstrations = [demoLine(5, 1, prompt), demoLine(5, 1, prompt), demoLine(6, 2, prompt), demoLine(5, 2, prompt)].join('\n');
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

test('finding 2: Chromium builds the index of 200k models and of one model with 20k demonstrations', async ({ page }) => {
  await page.goto('/');
  const built = await page.evaluate(async () => {
    const modulePath = '/src/core/engines/default/index-build.ts';
    const { buildCatalogIndex } = (await import(/* @vite-ignore */ modulePath)) as typeof import('../../src/core/engines/default/index-build.ts');
    const model = (id: number) => ({ id, name: `Synthetic model ${id}`, type: 'Checkpoint' as const, tags: [`tag${id % 97}`], base_model: 'SD 1.5', trained_words: [], file: `s${id}.safetensors`, hash: null, downloads: id, rating: 4, description: '' });
    const demo = (imageId: number, modelId: number) => ({ image_id: imageId, model_id: modelId, prompt: `portrait of a knight ${imageId % 500}, detailed armor, castle walls, dramatic lighting, masterpiece, best quality, ultra detailed, sharp focus, cinematic composition, golden hour, intricate engraving, volumetric fog, rim light, depth of field, highly detailed face, oil painting style, trending artwork`, negative_prompt: '', arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 } });
    const outcome = (models: number, demos: number) => {
      try {
        const index = buildCatalogIndex({ source: 'synthetic', version: 'v', models: Array.from({ length: models }, (_, i) => model(i + 1)), demonstrations: Array.from({ length: demos }, (_, i) => demo(i + 1, 1)) });
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
    await page.getByLabel('or catalog URL').fill(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/catalog.jsonl`);
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
