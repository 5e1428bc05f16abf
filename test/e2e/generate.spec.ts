import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';
import { OpenAITestServer } from '../servers/openai-test-server.ts';
import { serveDuringSpec } from '../servers/spec-servers.ts';

// The servers install part of the starter catalog, so "Only models on my server" has something to match.
const starter = readFileSync(path.resolve(import.meta.dirname, '../../public/models/starter/catalog.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { file: string; type: string });
const checkpoints = starter
  .filter((m) => m.type === 'Checkpoint')
  .map((m) => m.file)
  .slice(0, 12);
const loras = starter.filter((m) => m.type === 'LORA').map((m) => m.file);

const a1111 = new A1111TestServer({
  delayMs: 300,
  checkpoints: checkpoints.map((file) => ({ file, sha256: null })),
  loras,
});
const comfy = new ComfyTestServer({ delayMs: 300, checkpoints, loras });
const openai = new OpenAITestServer({ delayMs: 50, apiKey: 'sk-test-key' });
const urls = serveDuringSpec({ a1111, comfyui: comfy, openai });

async function useEndpoint(
  page: Page,
  kind: string,
  url: string,
  options: { apiKey?: string; onlyInstalled?: boolean } = {},
) {
  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByLabel('Endpoint type').selectOption(kind);
  await page.getByLabel('Endpoint URL').fill(url);
  await page.getByLabel('API key').fill(options.apiKey ?? '');
  await page.getByLabel('Only models on my server').setChecked(options.onlyInstalled ?? false);
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
}

async function plan(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
}

async function generate(page: Page, kind: string) {
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.locator('[data-stage="image"] figcaption').first()).toContainText(`· ${kind} ·`);
  const image = page.locator('[data-stage="image"] img').first();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
}

test('plans among the models installed on the server and generates through each endpoint kind from the app', async ({
  page,
}) => {
  await page.goto('/');
  await useEndpoint(page, 'a1111', urls.a1111, { onlyInstalled: true });
  await plan(page, 'a cozy watercolor fox reading in a library, autumn vibes');
  await expect(page.getByTestId('installed-note')).toContainText(
    `Only the ${checkpoints.length + loras.length} catalog models installed on the endpoint compete.`,
  );
  const chosen = await page.locator('[data-stage="model"]').innerText();
  expect(checkpoints.concat(loras).some((file) => chosen.includes(file))).toBe(true);
  await generate(page, 'a1111');
  const txt2img = a1111.requests.find((r) => r.path === '/sdapi/v1/txt2img');
  expect(txt2img, 'A1111 received the job').toBeTruthy();

  await useEndpoint(page, 'comfyui', urls.comfyui);
  await generate(page, 'comfyui');
  expect(comfy.requests.some((r) => r.path === '/prompt')).toBe(true);

  await useEndpoint(page, 'openai', urls.openai, { apiKey: 'sk-test-key' });
  await expect(page.getByRole('note', { name: 'What this endpoint loses' })).toContainText(
    'The negative prompt is not sent',
  );
  await generate(page, 'openai');
  // The key went to its own endpoint only.
  expect(a1111.requests.concat(comfy.requests).some((r) => JSON.stringify(r).includes('sk-test-key'))).toBe(false);

  await page.getByRole('button', { name: 'Gallery' }).click();
  await expect(page.locator('.gallery .result')).toHaveCount(3);
  expect(a1111.rejected.length + comfy.rejected.length + openai.rejected.length).toBe(0);
});

test('cancels a run, survives a server error without losing earlier images, and finds the gallery after reload', async ({
  page,
}) => {
  await page.goto('/');
  await useEndpoint(page, 'a1111', urls.a1111);
  await plan(page, 'a pixel art castle at night');
  await generate(page, 'a1111');

  const setSeed = async (seed: string) => {
    await page.getByRole('button', { name: 'Edit plan' }).click();
    await page.getByLabel('Seed').fill(seed);
    await page.getByRole('button', { name: 'Save plan' }).click();
  };
  a1111.mode.delayMs = 8000;
  await setSeed('7');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(/Sampling step \d+ of \d+/)).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.locator('[data-reason="cancelled"]')).toBeVisible();
  await expect.poll(() => a1111.requests.some((r) => r.path === '/sdapi/v1/interrupt')).toBe(true);

  a1111.mode.delayMs = 100;
  a1111.mode.fail = { status: 500, message: 'CUDA out of memory. Tried to allocate 2.00 GiB' };
  await setSeed('8');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.locator('[data-reason="http"]')).toContainText('CUDA out of memory');

  await page.reload();
  await page.getByRole('button', { name: 'Gallery' }).click();
  await expect(page.locator('.gallery .result')).toHaveCount(1);
  const thumb = page.locator('.gallery img').first();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
});
