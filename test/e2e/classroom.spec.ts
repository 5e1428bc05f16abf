/**
 * The classroom: first visit, step-through, plain explanations, what-if in Edit plan, comparing
 * engines, copy / export / share / print of a plan. Exports are read back with the same core readers
 * a user's tools would use, and the ComfyUI workflow is posted to the ComfyUI test server.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { plannedModelOf } from '../../src/core/catalog/types.ts';
import {
  catalogResolver,
  jsonToPlanDocument,
  markdownToPlanDocument,
  parametersToPlan,
} from '../../src/core/export/index.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';

const starterDir = path.resolve(import.meta.dirname, '../../public/models/starter/');
const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(path.join(starterDir, 'catalog.jsonl'), 'utf8') },
    demonstrations: {
      file: 'demonstrations.jsonl',
      text: readFileSync(path.join(starterDir, 'demonstrations.jsonl'), 'utf8'),
    },
  },
  'starter',
);
// The server holds the catalog's files and the reference SD 1.5 checkpoint a LoRA plan without its own falls back to.
const comfy = new ComfyTestServer({
  checkpoints: [
    'v1-5-pruned-emaonly.safetensors',
    ...catalog.models.filter((m) => m.type === 'Checkpoint').map((m) => m.file),
  ],
  loras: catalog.models.filter((m) => m.type === 'LORA').map((m) => m.file),
});
let comfyUrl = '';
test.beforeAll(async () => {
  comfyUrl = await comfy.listen();
});
test.afterAll(() => comfy.close());

const stage = (page: Page, name: string) => page.locator(`[data-stage="${name}"]`);
const ARGUMENTS = /Sampler: .+ · Steps: \d+ · CFG scale: [\d.]+ · Size: \d+×\d+ · Seed: \d+/;

async function send(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(stage(page, 'arguments')).toContainText(ARGUMENTS);
}

test('first visit: a welcome with four example requests; one click plans it with explanations in words', async ({
  page,
}) => {
  await page.goto('/');
  const welcome = page.getByRole('region', { name: 'Welcome to ChatGen' });
  await expect(welcome).toContainText('needs a diffusion server');
  const examples = welcome.getByRole('list', { name: 'Example requests' }).getByRole('button');
  await expect(examples).toHaveCount(4);
  await expect(page.locator('.empty-state')).toBeVisible();
  await examples.first().click();
  await expect(stage(page, 'arguments')).toContainText(ARGUMENTS);
  await expect(welcome).toHaveCount(0);
  await expect(page.locator('[data-explain="prompt"]')).toContainText(/The prompt keeps your (words|phrases)/);
  await expect(page.locator('[data-explain="model"]')).toContainText(/chosen from \d+ models/);
  const text = await page.locator('article.stage').allInnerTexts();
  // Reasons are visible without hover, and the "Came from" column is words, not code names.
  await expect(page.locator('table.candidates td.why').first()).toBeVisible();
  expect(text.join(' ')).not.toMatch(/model-habit|nearest-demonstration|base-model-prior/);
  // Wall time from Send, not the stage's own few milliseconds.
  await expect(page.getByRole('heading', { name: /3 · Arguments .* after Send/ })).toBeVisible();
  // The glossary is one tap away.
  await page.getByRole('button', { name: 'Glossary' }).click();
  await expect(page.getByRole('region', { name: 'Glossary' })).toContainText('CFG scale');
  // History marks the engine of each plan.
  await expect(page.getByRole('complementary', { name: 'Past chats' })).toContainText('default');
});

test('step-through (?teach=1) reveals the stages in order, and marks the person’s words apart from added terms', async ({
  page,
}) => {
  await page.goto('/?teach=1');
  await expect(page.getByRole('checkbox', { name: 'Step-through mode' })).toBeChecked();
  await page.getByRole('textbox', { name: 'Message' }).fill('an oil painting of a mountain landscape at sunset');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('button', { name: 'Next step' })).toBeVisible();
  const step = (n: number) => page.getByRole('article', { name: new RegExp(`^Step ${n}:`) });
  await expect(step(1)).toBeVisible();
  await expect(step(2)).toHaveCount(0);
  await expect(step(3)).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Export plan' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Next step' }).click();
  await expect(step(2)).toContainText('is an SD 1.5 checkpoint');
  await expect(step(3)).toHaveCount(0);
  await page.getByRole('button', { name: 'Next step' }).click();
  await expect(step(3)).toContainText('Where these come from');
  await expect(page.getByRole('button', { name: 'Next step' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Export plan' })).toBeVisible();

  const prompt = stage(page, 'prompt');
  const yours = (await prompt.locator('mark.yours').allInnerTexts()).join(' ');
  for (const word of ['oil', 'painting', 'mountain', 'landscape', 'sunset']) expect(yours).toContain(word);
  const added = await prompt.locator('mark.added').allInnerTexts();
  expect(added.length).toBeGreaterThan(0);
  for (const term of added) expect(yours).not.toContain(term);
  // The text cue: added terms are led by a "+" (CSS content), the person's words underlined.
  const cue = await prompt
    .locator('mark.added')
    .first()
    .evaluate((el) => getComputedStyle(el, '::before').content);
  expect(cue).toBe('"+"');
  expect(
    await prompt
      .locator('mark.yours')
      .first()
      .evaluate((el) => getComputedStyle(el).textDecorationLine),
  ).toBe('underline');
});

test('what-if: another model in Edit plan re-runs stage 3 (SDXL size, trigger words) and shows what changed', async ({
  page,
}) => {
  await page.goto('/');
  await send(page, 'an oil painting of a mountain landscape at sunset');
  const sizeBefore = /Size: (\d+×\d+)/.exec(await stage(page, 'arguments').innerText())![1]!;
  const editor = page.getByRole('form', { name: 'Edit plan' });
  const whatIf = page.getByRole('region', { name: 'What if' });
  const pick = async (search: string, label: string) => {
    await editor.getByLabel('Search the catalog').fill(search);
    await expect(editor.getByRole('option', { name: label })).toBeAttached();
    await editor.getByLabel('Model', { exact: true }).selectOption({ label });
  };

  // A LoRA with a trigger word: the word enters the prompt.
  await page.getByRole('button', { name: 'Edit plan' }).click();
  await pick('watercolor', 'Vivid Watercolors LoRA Extraction (LORA, SD 1.5)');
  await expect(whatIf.getByTestId('what-if-prompt')).toContainText('wtrcolor style');
  await expect(whatIf.getByRole('row', { name: /^Prompt/ })).toContainText('trigger words');
  await expect(whatIf.getByRole('row', { name: /^Model/ })).toContainText('Vivid Watercolors');
  await whatIf.getByRole('button', { name: 'Use the new plan' }).click();
  await expect(stage(page, 'model')).toContainText('Vivid Watercolors LoRA Extraction');
  await expect(stage(page, 'prompt')).toContainText('wtrcolor style');
  await expect(page.locator('[data-explain="model"]')).toContainText('You picked Vivid Watercolors');
  await expect(page.locator('.badge.edited')).toBeVisible();

  // Then an SDXL checkpoint: an SDXL size, and the LoRA's trigger words leave with it.
  await page.getByRole('button', { name: 'Edit plan' }).click();
  await pick('juggernaut xl', 'Juggernaut XL (Checkpoint, SDXL 1.0)');
  await expect(whatIf.getByTestId('what-if-arguments')).toContainText(
    /(1024×1024|832×1216|896×1152|1216×832|1152×896|1344×768|768×1344)/,
  );
  await expect(whatIf.getByTestId('what-if-prompt')).not.toContainText('wtrcolor style');
  await expect(whatIf.getByRole('row', { name: /^Size/ })).toContainText(sizeBefore);
  await whatIf.getByRole('button', { name: 'Use the new plan' }).click();
  await expect(stage(page, 'model')).toContainText('Juggernaut XL');
  await expect(stage(page, 'arguments')).not.toContainText(`Size: ${sizeBefore}`);
});

test('compare engines: baseline and default side by side, differences marked', async ({ page }) => {
  await page.goto('/');
  await send(page, 'anime girl with silver hair in a neon city at night');
  await page.getByRole('button', { name: 'Compare engines' }).click();
  const compare = page.getByRole('region', { name: 'Engines compared' });
  await expect(compare.getByRole('columnheader')).toHaveText(['Plan', 'baseline', 'default']);
  await expect(compare.getByRole('row', { name: /^Model differs/ })).toBeVisible();
  await expect(compare.getByRole('row', { name: /^Seed/ })).not.toContainText('differs');
});

test('copy, exports that round-trip, a share link that opens read-only, and a one-page print', async ({
  page,
  browser,
  context,
}) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.goto('/');
  await send(page, 'a cozy watercolor fox reading in a library, autumn vibes');
  const promptText = await stage(page, 'prompt').innerText();
  await page.getByRole('button', { name: 'Copy prompt' }).click();
  await expect(page.getByText('Prompt copied.')).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(promptText);

  await page.getByRole('button', { name: 'Export plan' }).click();
  const files: Record<string, string> = {};
  for (const format of ['Markdown handout', 'JSON', 'A1111 parameters', 'ComfyUI workflow']) {
    const download = page.waitForEvent('download');
    await page.getByRole('group', { name: 'Export formats' }).getByRole('button', { name: format }).click();
    files[format] = readFileSync(await (await download).path(), 'utf8');
  }
  const json = jsonToPlanDocument(files['JSON']!);
  expect(json.messages).toEqual(['a cozy watercolor fox reading in a library, autumn vibes']);
  expect(json.plan.prompt).toBe(promptText);
  expect(markdownToPlanDocument(files['Markdown handout']!)).toEqual(json);
  expect(files['Markdown handout']).toContain('## 2. The model');
  expect(parametersToPlan(files['A1111 parameters']!, catalogResolver(catalog.models.map(plannedModelOf)))).toEqual(
    json.plan,
  );
  const posted = await fetch(`${comfyUrl}/prompt`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: JSON.parse(files['ComfyUI workflow']!), client_id: 'classroom' }),
  });
  expect(posted.status, JSON.stringify(comfy.rejected)).toBe(200);

  await page.getByRole('button', { name: 'Share' }).click();
  const link = await page.getByRole('textbox', { name: 'Share link' }).inputValue();
  expect(link).toContain('#share=');
  const fresh = await browser.newContext();
  const reader = await fresh.newPage();
  await reader.goto(link);
  const shared = reader.getByRole('region', { name: 'Shared plan' });
  await expect(shared).toContainText('read-only');
  await expect(shared.locator('[data-stage="prompt"]')).toHaveText(promptText);
  await expect(shared.locator('[data-stage="arguments"]')).toHaveText(
    (await stage(page, 'arguments').innerText()).trim(),
  );
  await expect(shared.locator('[data-stage="model"]')).toContainText(json.plan.model.name);
  await expect(shared.locator('[data-explain="model"]')).toHaveText(
    await page.locator('[data-explain="model"]').innerText(),
  );
  await expect(reader.getByRole('navigation')).toHaveCount(0);
  await expect(reader.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await fresh.close();

  // An image from the ComfyUI test server, so the printed page holds the picture too.
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Endpoint type').selectOption('comfyui');
  await page.getByLabel('Endpoint URL').fill(comfyUrl);
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('button', { name: 'Generate' }).click();
  const image = page.locator('[data-stage="image"] img').first();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);

  await page.emulateMedia({ media: 'print' });
  await expect(page.getByRole('navigation', { name: 'Pages' })).toBeHidden();
  await expect(image).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate' })).toBeHidden();
  await expect(page.locator('[data-explain="model"]')).toBeVisible();
  await expect(page.getByRole('list', { name: 'Messages' })).toBeVisible();
  const pdf = (await page.pdf({ format: 'A4', printBackground: true })).toString('latin1');
  // What the printed page looks like, at the printable width of A4 (for people to look at).
  await page.setViewportSize({ width: 718, height: 1040 });
  await page.screenshot({ path: 'test-results/classroom-print.png', fullPage: true });
  expect(pdf.match(/\/Type\s*\/Page(?!s)/g)?.length).toBe(1);
});

test('Bench says what files it needs and why Run is disabled, and can run on the active catalog', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  await page.getByRole('button', { name: 'Bench' }).click();
  await expect(page.getByRole('region', { name: 'Benchmark' })).toContainText('It needs three files');
  await expect(page.getByTestId('bench-run')).toBeDisabled();
  await expect(page.getByTestId('bench-run-why')).toHaveText('Pick the catalog file, or use the active catalog.');
  await page.getByRole('checkbox', { name: /Use the active catalog \(starter, 59 models\)/ }).check();
  await expect(page.getByTestId('bench-run-why')).toHaveText('Pick the test items file.');
  const args = { sampler: 'DPM++ 2M Karras', steps: 30, cfg_scale: 7, width: 512, height: 768 };
  const items = [
    {
      id: 's1',
      input_type: 'single',
      setting: 'supervised',
      messages: ['an oil painting of a mountain lake at sunset'],
      gold: { prompt: 'oil painting, lake', model_id: 28068, arguments: args },
    },
  ];
  await page.getByTestId('bench-items').setInputFiles({
    name: 'items.jsonl',
    mimeType: 'application/x-ndjson',
    buffer: Buffer.from(items.map((i) => JSON.stringify(i)).join('\n')),
  });
  await expect(page.getByTestId('bench-run-why')).toHaveCount(0);
  await page.getByTestId('bench-run').click();
  await expect(page.getByTestId('bench-status')).toHaveText(/^1 of 1 items in [\d.]+ s$/, { timeout: 60_000 });
});
