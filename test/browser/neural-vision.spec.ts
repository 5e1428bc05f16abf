import { expect, test, type Page } from '@playwright/test';
import { HUB_FIXTURES, HubTestServer } from '../servers/hub-test-server.ts';
import type { VisionRun, VisionRunOptions } from './pages/neural-vision-page.ts';

const CIRCLE = '/test/fixtures/images/circle-48x40.png';
const STRIPES = '/test/fixtures/images/stripes-64x64.png';
const MESSAGE = 'I want a red fox in the snow, watercolor';

async function run(page: Page, options: VisionRunOptions): Promise<VisionRun> {
  page.on('console', (m) => m.type() === 'error' && console.warn(`[page] ${m.text()}`));
  await page.goto('/test/browser/pages/neural-vision.html');
  await page.waitForSelector('body[data-ready="true"]');
  return page.evaluate(
    (o) => (window as unknown as { runVision: (o: VisionRunOptions) => Promise<VisionRun> }).runVision(o),
    options,
  );
}

test('LLM worker on WASM: a vision-language pack reads the reference image in stage 1', async ({ page }) => {
  const result = await run(page, {
    packUrl: '/test/fixtures/pack-vlm-tiny/',
    message: MESSAGE,
    imageSets: [[CIRCLE], [STRIPES], []],
  });
  expect(result.status).toMatchObject({ backend: 'wasm', dtype: 'fp32', pack: 'vlm-tiny-test' });
  // The same prompts as in Node (test/unit/neural-vision-session.test.ts): the fixture opens with a tag only the image tells.
  expect(result.results[0]!.prompt).toMatch(/^a red circle, a red fox/);
  expect(result.results[1]!.prompt).toMatch(/^striped pattern, a red/);
  expect(result.notes[0]).toContain('the reference image went through the vision encoder');
  expect(result.notes[1]).toContain('the reference image went through the vision encoder');
  expect(result.notes[2]!.join('\n')).not.toMatch(/reference image/);
});

test('LLM worker on WASM: an Idefics3 pack (SmolVLM) from the hub reads the reference image as tiles plus the whole image', async ({
  page,
}) => {
  const hub = new HubTestServer({ root: HUB_FIXTURES });
  try {
    const result = await run(page, {
      packUrl: '/test/fixtures/pack-smolvlm-hub/',
      hubUrl: await hub.listen(),
      message: MESSAGE,
      imageSets: [[CIRCLE], [STRIPES]],
    });
    expect(result.status).toMatchObject({ backend: 'wasm', dtype: 'fp32' });
    // As in Node (test/unit/neural-smolvlm.test.ts): the fixture writes a tag only the image tells.
    expect(result.results[0]!.prompt).toContain('a red circle');
    expect(result.results[0]!.prompt).not.toContain('striped pattern');
    expect(result.results[1]!.prompt).toContain('striped pattern');
    expect(result.notes[0]).toContain('the reference image went through the vision encoder');
    const fetched = hub.requests.map((r) => r.path);
    expect(fetched).toContain('/HuggingFaceTB/SmolVLM-256M-Instruct/resolve/main/onnx/vision_encoder.onnx');
  } finally {
    await hub.close();
  }
});

test('LLM worker on WASM: a text-only pack says the reference image was not used', async ({ page }) => {
  const result = await run(page, { packUrl: '/test/fixtures/pack-tiny/', message: MESSAGE, imageSets: [[CIRCLE]] });
  expect(result.notes[0]).toContain("the reference image was not used: this pack's model reads text only");
});
