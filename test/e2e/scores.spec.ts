import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { A1111TestServer } from '../servers/a1111-test-server.ts';

// The scorer packs are the fixture packs (random weights of the real shapes), served by Vite from the repo root.
const PACKS = ['fixture-clip', 'fixture-hpsv2', 'fixture-imagereward', 'fixture-aesthetic', 'fixture-fid'];
const PER_IMAGE = PACKS.filter((p) => p !== 'fixture-fid');
// The server installs the starter catalog's models and "Only models on my server" is on, so any plan can run.
const starter = readFileSync(path.resolve(import.meta.dirname, '../../public/models/starter/catalog.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { file: string; type: string });
const a1111 = new A1111TestServer({
  delayMs: 100,
  checkpoints: starter.filter((m) => m.type === 'Checkpoint').map((m) => ({ file: m.file, sha256: null })),
  loras: starter.filter((m) => m.type === 'LORA').map((m) => m.file),
});
let url: string;

test.beforeAll(async () => {
  url = await a1111.listen();
});
test.afterAll(async () => {
  await a1111.close();
});

async function useEndpoint(page: Page) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Endpoint type').selectOption('a1111');
  await page.getByLabel('Endpoint URL').fill(url);
  await page.getByLabel('Only models on my server').setChecked(true);
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
}

/** Score values shown for the first image inside `scope`, by pack id. */
async function shownScores(page: Page, scope: string): Promise<Record<string, number>> {
  const rows = page.locator(`${scope} .image-scores`).first().locator('.score');
  await expect(rows).toHaveCount(PER_IMAGE.length);
  const out: Record<string, number> = {};
  for (const row of await rows.all())
    out[(await row.getAttribute('data-pack'))!] = Number(await row.locator('.value').getAttribute('data-value'));
  return out;
}

test('scores appear beside generated images, come back from IndexedDB after reload without recomputation, and sort the gallery', async ({
  page,
}) => {
  page.on('response', (r) => r.status() >= 400 && console.log(`page: HTTP ${r.status()} ${r.url()}`));
  await page.goto('/');
  await useEndpoint(page);

  // Scorer settings: the fixture packs on WASM (never WebGPU in this spec).
  await page.getByLabel('Scorer pack URLs').fill(PACKS.map((p) => `/test/fixtures/scorers/${p}/`).join('\n'));
  await page.getByLabel('Scorer backend').selectOption('wasm');
  const loadStarted = Date.now();
  await page.getByRole('button', { name: 'Load scorers' }).click();
  const loaded = page.getByRole('table', { name: 'Loaded scorers' }).locator('tbody tr');
  await expect(loaded).toHaveCount(PACKS.length, { timeout: 30_000 });
  console.log(`scorers: ${PACKS.length} fixture packs downloaded and loaded on WASM in ${Date.now() - loadStarted} ms`);
  for (const row of await loaded.all())
    await expect(row.locator('[data-backend]')).toHaveAttribute('data-backend', 'wasm');
  await expect(page.getByRole('list', { name: 'Scorer downloads' })).toContainText(
    'fixture-imagereward/text_encoder.onnx',
  );

  // Plan and generate: the image is scored at once by every per-image pack, each named with its meaning.
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('a pixel art castle at night');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
  const generated = async (seed?: number) => {
    await page.getByRole('button', { name: 'Generate' }).click();
    // The panel keeps showing the previous result until the new one arrives.
    if (seed !== undefined)
      await expect(page.locator('[data-stage="image"] figcaption').first()).toContainText(`Seed ${seed} `);
    const image = page.locator('[data-stage="image"] img').first();
    await expect(image.or(page.locator('.generate-panel .error[data-reason]')).first()).toBeVisible({
      timeout: 30_000,
    });
    expect(await page.locator('.generate-panel .error').allInnerTexts()).toEqual([]);
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    const shown = Date.now();
    const scores = await shownScores(page, '[data-stage="image"]');
    console.log(
      `scores: 1 image x ${PER_IMAGE.length} packs scored on WASM ${Date.now() - shown} ms after the image was shown`,
    );
    return scores;
  };
  const first = await generated();
  expect(Object.keys(first).sort()).toEqual([...PER_IMAGE].sort());
  for (const v of Object.values(first)) expect(Number.isFinite(v)).toBe(true);
  expect(first['fixture-clip']).toBeGreaterThanOrEqual(0);
  const panel = page.locator('[data-stage="image"] .image-scores').first();
  await expect(panel).toContainText('CLIP score');
  await expect(panel).toContainText('agreement of image and approved prompt, 0-100');
  await expect(panel).toContainText('pack: Fixture CLIP (random weights, CLIP ViT shape)');
  await expect(panel).toContainText('ImageReward');
  await expect(panel).toContainText('pack: Fixture ImageReward');
  await expect(panel).toContainText('LAION aesthetic predictor, 1-10');

  // A second result (another seed), then "Score" again on it: every score is stored, so nothing is computed.
  await page.getByRole('button', { name: 'Edit plan' }).click();
  await page.getByLabel('Seed').fill('7');
  await page.getByRole('button', { name: 'Save plan' }).click();
  const second = await generated(7);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('scorer-calls')).toContainText('computed in this page: 8 ');
  await page.getByRole('button', { name: 'Gallery' }).click();
  await page.getByRole('button', { name: 'Score the images of this result' }).first().click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('scorer-calls')).toContainText('computed in this page: 8 ');

  // After a reload the scores come from IndexedDB: the score worker is not created and no pack file is fetched.
  const packRequests: string[] = [];
  page.on('request', (r) => r.url().includes('/test/fixtures/scorers/') && packRequests.push(r.url()));
  await page.reload();
  await page.getByRole('button', { name: 'Gallery' }).click();
  await expect(page.locator('.gallery .result')).toHaveCount(2);
  const byResult = page.locator('.gallery .result');
  const galleryScores = [
    await shownScores(page, '.gallery .result:nth-child(1)'),
    await shownScores(page, '.gallery .result:nth-child(2)'),
  ];
  // Newest first: the second generation, then the first; the values are the stored ones.
  expect(galleryScores).toEqual([second, first]);
  await expect(page.getByRole('button', { name: 'Score the images of this result' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('scorer-calls')).toContainText('computed in this page: 0 ');
  await expect(page.getByRole('button', { name: 'Unload scorers' })).toHaveCount(0);
  expect(packRequests).toEqual([]);

  // Sort by a score: the result whose best image has the higher HPS v2 comes first.
  await page.getByRole('button', { name: 'Gallery' }).click();
  await page.getByLabel('Sort by').selectOption('fixture-hpsv2');
  const expectedTop = second['fixture-hpsv2']! >= first['fixture-hpsv2']! ? second : first;
  expect(await shownScores(page, '.gallery .result:nth-child(1)')).toEqual(expectedTop);
  await page.getByLabel('Sort by').selectOption('newest');
  expect(await shownScores(page, '.gallery .result:nth-child(1)')).toEqual(second);

  // Compare the two results: the Unified Metric with its normalisation spelled out.
  for (const r of await byResult.all()) await r.getByLabel('Compare').check();
  const comparison = page.getByRole('region', { name: 'Comparison' });
  await expect(comparison).toContainText('Unified Metric over 2 results');
  await expect(comparison).toContainText('min-max normalised');
  await expect(comparison).toContainText('fid left out');
  const unified = await comparison
    .locator('[data-unified]')
    .evaluateAll((cells) => cells.map((c) => Number(c.getAttribute('data-unified'))));
  expect(unified).toHaveLength(2);
  // Two runs: each of the three metrics gives 1 to the better run and 0 to the other (0.5 each when tied).
  expect(unified[0]! + unified[1]!).toBeCloseTo(1, 10);
  expect(packRequests).toEqual([]);
});
