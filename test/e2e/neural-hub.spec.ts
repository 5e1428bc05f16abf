/**
 * A curated pack from the model hub, end to end in the app: Settings -> Engine lists the curated packs,
 * "Model hub URL" points at the hub test server (which speaks the hub's resolve / redirect / Range / error
 * protocol and serves the Qwen2.5-0.5B-Instruct export layout built on its real tokenizer). A gated repo
 * (401) and a missing file (404) are said in words while the embedded engine keeps planning; a download
 * cancelled half-way resumes with a Range request; the pack plans in hybrid mode (no head: the LLM writes
 * stage 1, the embedded engine stages 2 and 3), and after a reload with the hub gone it loads from the
 * browser's cache and plans again.
 */
import { expect, test, type Page } from '@playwright/test';
import { HUB_FIXTURES, HubTestServer } from '../servers/hub-test-server.ts';

const QWEN = 'onnx-community/Qwen2.5-0.5B-Instruct';
const stage = (page: Page, name: string) => page.locator(`[data-stage="${name}"]`);
const nav = (page: Page, name: string) =>
  page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name }).click();

async function send(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(stage(page, 'arguments')).toContainText(/Sampler: .+ · Steps: \d+/, { timeout: 30_000 });
}

test('a curated pack downloads from the hub URL, resumes, plans in hybrid mode, survives a reload offline, and hub errors fall back visibly', async ({
  page,
}) => {
  const hub = new HubTestServer({ root: HUB_FIXTURES });
  const hubUrl = await hub.listen();
  try {
    await page.goto('/');
    // Settings shows the saved choice once the engine worker reports it: wait, so that it does not undo the clicks below.
    await expect(page.getByText(/Engine: default/)).toBeVisible();
    await nav(page, 'Settings');
    const section = page.getByRole('region', { name: 'Engine' });
    await section.getByLabel('Neural pack').check();
    const qwen = section.getByTestId('curated-pack').filter({ hasText: 'Qwen2.5-0.5B-Instruct' });
    await expect(qwen).toContainText(
      '494M parameters · download ≈ 786 MB (q4, WASM), 483 MB (q4f16, WebGPU with shader-f16)',
    );
    await expect(qwen).toContainText('Adds: stage 1 (prompt and negative prompt) by an LLM');
    await qwen.getByRole('radio').check();
    await expect(section.getByLabel('Pack URL', { exact: true })).toHaveCount(0);
    await section.getByLabel('Model hub URL').fill(hubUrl);
    // WebGPU on SwiftShader decodes under 1 token/s here: WASM keeps the test fast.
    await section.getByLabel('Neural backend').selectOption('wasm');
    const use = section.getByRole('button', { name: 'Use this engine' });
    const notice = section.locator('p.note[role="status"]');

    // A gated repo: 401 GatedRepo, said in words; the embedded engine keeps planning.
    hub.configure({ gated: [QWEN] });
    await use.click();
    await expect(notice).toContainText(
      `the model hub at ${hubUrl} refuses ${QWEN}: it is gated and needs a logged-in account (401`,
      { timeout: 30_000 },
    );
    await expect(section.getByTestId('engine-active')).toContainText('Planning with default');

    // A missing file: 404 EntryNotFound.
    hub.configure({ gated: [], missing: [`${QWEN}/onnx/model_q4.onnx`] });
    await use.click();
    await expect(notice).toContainText(`has no file onnx/model_q4.onnx in ${QWEN} (404`, { timeout: 30_000 });
    await nav(page, 'Chat');
    await send(page, 'a lighthouse at dusk');
    await expect(page.getByTestId('plan-engine')).toHaveText('engine: default');

    // Cancelled half-way through the weights (served slowly), then resumed with a Range request.
    hub.configure({ missing: [], bytesPerSecond: 600_000 });
    await nav(page, 'Settings');
    await use.click();
    const modelRow = section
      .getByRole('list', { name: 'Pack downloads' })
      .getByRole('listitem')
      .filter({ hasText: 'onnx/model_q4.onnx' });
    await expect(modelRow).toContainText(/[1-9][\d.]* MB of 3\.0 MB|[1-9]\d* KB of 3\.0 MB/, { timeout: 30_000 });
    await section.getByRole('button', { name: 'Cancel download' }).click();
    await expect(notice).toContainText('the download was cancelled', { timeout: 30_000 });
    hub.configure({ bytesPerSecond: 0 });
    await use.click();
    await expect(use).toBeEnabled({ timeout: 60_000 });
    await expect(section.getByTestId('engine-active')).toContainText('pack “Qwen2.5-0.5B-Instruct” on WASM (q4)');
    const resumed = hub.requests.filter(
      (r) => r.path.startsWith('/cdn/') && r.path.endsWith('onnx/model_q4.onnx') && r.range !== null,
    );
    expect(resumed.map((r) => r.status)).toEqual([206]);
    await expect(section.getByTestId('planning-mode')).toContainText(
      "Hybrid planning: the pack's LLM writes the prompt (stage 1); the embedded engine picks the model and arguments (stages 2 and 3) because the pack has no ModelToken head",
    );
    await expect(section.getByTestId('head-info')).toContainText('None yet');
    await page.screenshot({ path: 'test-results/neural-hub-settings.png', fullPage: true });

    // Hybrid planning: stage 1 by the LLM, stages 2 and 3 by the embedded engine; each stage says so.
    await nav(page, 'Chat');
    await page.getByRole('button', { name: 'New chat' }).click();
    await send(page, 'a red fox in the snow, watercolor');
    await expect(page.getByTestId('plan-engine')).toHaveText('engine: neural');
    // Each stage says, visibly, which engine ran it.
    await expect(page.getByTestId('stage-engine')).toHaveText([
      'by LLM "Qwen2.5-0.5B-Instruct" (wasm, q4)',
      'by the embedded engine (default)',
      'by the embedded engine (default)',
    ]);
    const promptStage = page.locator('article.stage').filter({ has: stage(page, 'prompt') });
    await expect(promptStage).toContainText('Stage 1 by the LLM "Qwen2.5-0.5B-Instruct" (wasm, q4) (hybrid planning).');
    const modelStage = page.locator('article.stage').filter({ has: stage(page, 'model') });
    await expect(modelStage).toContainText(
      'Stage 2 by the embedded engine (default): the pack has no ModelToken head.',
    );
    await page.screenshot({ path: 'test-results/neural-hub-plan.png', fullPage: true });

    // The hub goes away; after a reload the pack comes from the browser's cache and plans again.
    await hub.close();
    const served = hub.requests.length;
    await page.reload();
    await expect(page.getByRole('banner')).toContainText('Engine: neural', { timeout: 60_000 });
    await page.getByRole('button', { name: 'New chat' }).click();
    await send(page, 'a castle at night, oil painting');
    await expect(promptStage).toContainText('Stage 1 by the LLM "Qwen2.5-0.5B-Instruct" (wasm, q4)');
    expect(hub.requests.length).toBe(served);
  } finally {
    await hub.close().catch(() => undefined);
  }
});
