import { expect, test, type Page } from '@playwright/test';
import fs from 'node:fs';
import { readParameters } from '../../src/core/endpoints/infotext.ts';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';
import { OpenAITestServer } from '../servers/openai-test-server.ts';
import { serveDuringSpec } from '../servers/spec-servers.ts';

// The test servers run in the spec's own process, so each test flips their modes directly.
const a1111 = new A1111TestServer({ delayMs: 400 });
const comfy = new ComfyTestServer({ delayMs: 400 });
const openai = new OpenAITestServer({ delayMs: 50, apiKey: 'sk-test-key' });
const urls = serveDuringSpec({ a1111, comfyui: comfy, openai });

async function useEndpoint(page: Page, kind: string, url: string, apiKey = '') {
  await page.getByLabel('Endpoint type').selectOption(kind);
  await page.getByLabel('Endpoint URL').fill(url);
  await page.getByLabel('API key').fill(apiKey);
  await page.getByLabel('Timeout (seconds)').fill('20');
  await page.getByRole('button', { name: 'Save endpoints' }).click();
  await expect(page.getByText('Saved.')).toBeVisible();
}

async function expectImages(page: Page, count: number, kind: string) {
  await expect(page.locator('[data-stage="image"] figcaption').first()).toContainText(`· ${kind} ·`);
  const images = page.locator('[data-stage="image"] img');
  await expect(images).toHaveCount(count);
  await expect
    .poll(() => images.first().evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0))
    .toBe(true);
}

test('generates through each endpoint kind from the components, the second identical request served from the cache', async ({
  page,
}) => {
  await page.goto('/test/browser/pages/generation.html');
  const kinds: [string, string, string, () => number][] = [
    ['a1111', urls.a1111, '', () => a1111.requests.filter((r) => r.path === '/sdapi/v1/txt2img').length],
    ['comfyui', urls.comfyui, '', () => comfy.requests.filter((r) => r.path === '/prompt').length],
    [
      'openai',
      urls.openai,
      'sk-test-key',
      () => openai.requests.filter((r) => r.path === '/v1/images/generations').length,
    ],
    [
      'hf-inference',
      `${urls.openai}/hf/models/test-sd`,
      'sk-test-key',
      () => openai.requests.filter((r) => r.path.startsWith('/hf/')).length,
    ],
  ];
  for (const [kind, url, key, sent] of kinds) {
    await useEndpoint(page, kind, url, key);
    await page.getByRole('button', { name: 'Test connection' }).click();
    await expect(page.locator('.endpoint [role="status"]')).toContainText(url.replace(/\/hf\/.*$/, ''));
    const before = sent(); // the HF test connection itself asks for a small image
    await page.getByRole('button', { name: 'Generate' }).click();
    await expectImages(page, 1, kind);
    await expect(page.getByRole('alert')).toHaveCount(0);
    expect(sent() - before, kind).toBe(1);
    await page.getByRole('button', { name: 'Generate' }).click();
    await expect(page.getByText('Served from the cache')).toBeVisible();
    expect(sent() - before, `${kind} after the cached run`).toBe(1);
    const losses = page.getByRole('note', { name: 'What this endpoint loses' });
    // A1111 and ComfyUI run the whole plan; OpenAI cannot take the negative prompt, steps, cfg, sampler or seed.
    if (kind === 'a1111' || kind === 'comfyui') await expect(losses).toHaveCount(0);
    if (kind === 'openai') await expect(losses).toContainText('The negative prompt is not sent');
    if (kind === 'hf-inference') await expect(losses).toContainText('The sampler (DPM++ 2M Karras) is not sent');
  }
  await expect(page.locator('.gallery .result')).toHaveCount(4);
  expect(a1111.rejected.length + comfy.rejected.length + openai.rejected.length).toBe(0);
});

test('cancels a run mid-way, survives a server error, and keeps the gallery (with parameters in the PNG) across a reload', async ({
  page,
}) => {
  await page.goto('/test/browser/pages/generation.html');
  await useEndpoint(page, 'a1111', urls.a1111);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expectImages(page, 1, 'a1111');

  a1111.mode.delayMs = 8000;
  await page.getByLabel('Plan seed').fill('7');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByText(/Sampling step \d+ of 20/)).toBeVisible();
  await page.getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('alert')).toHaveAttribute('data-reason', 'cancelled');
  await expect.poll(() => a1111.requests.some((r) => r.path === '/sdapi/v1/interrupt')).toBe(true);

  a1111.mode.delayMs = 100;
  a1111.mode.fail = { status: 500, message: 'CUDA out of memory. Tried to allocate 2.00 GiB' };
  await page.getByLabel('Plan seed').fill('8');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('alert')).toContainText('CUDA out of memory');
  await expect(page.locator('.gallery .result')).toHaveCount(1);

  await page.reload();
  await expect(page.locator('.gallery .result')).toHaveCount(1);
  const thumb = page.locator('.gallery img').first();
  await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Download PNG' }).first().click(),
  ]);
  const bytes = new Uint8Array(fs.readFileSync((await download.path())!));
  expect(readParameters(bytes)).toBe(
    'a lighthouse on a cliff at dusk, dramatic sky, highly detailed\nNegative prompt: blurry, lowres, watermark\n' +
      'Steps: 20, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 123456789, Size: 512x768, Model hash: 15012c538f, Model: realisticVisionV51_v51VAE',
  );
});

test('explains a refused origin with the server flag for this page, and a server that is down', async ({ page }) => {
  await page.goto('/test/browser/pages/generation.html');
  await useEndpoint(page, 'comfyui', urls.comfyui);
  comfy.mode.cors = false;
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('alert')).toContainText("refuses this page's origin (CORS)");
  await expect(page.getByRole('alert')).toContainText(`--enable-cors-header ${new URL(page.url()).origin}`);

  await useEndpoint(page, 'a1111', 'http://127.0.0.1:9');
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.getByRole('alert')).toHaveAttribute('data-reason', 'unreachable');
  await expect(page.getByRole('alert')).toContainText('Cannot reach http://127.0.0.1:9');
  await expect(page.getByRole('alert')).toContainText(`--cors-allow-origins=${new URL(page.url()).origin}`);
});
