import { expect, test, type Page } from '@playwright/test';

/** How long the app may take to start its engine (and try the chosen pack) after a navigation. */
const STARTUP_MS = 60_000;

const stage = (page: Page, name: string) => page.locator(`[data-stage="${name}"]`);

async function chooseEngine(page: Page, choice: { packUrl: string } | 'embedded') {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Settings' }).click();
  const section = page.getByRole('region', { name: 'Engine' });
  if (choice === 'embedded') {
    await section.getByLabel('Embedded (default, no weights)').check();
  } else {
    await section.getByLabel('Neural pack').check();
    await section.getByRole('radio', { name: /^Custom pack/ }).check();
    await section.getByLabel('Pack URL', { exact: true }).fill(choice.packUrl);
    // WebGPU on SwiftShader decodes under 1 token/s here: the app's WASM-only choice keeps this test fast.
    await section.getByLabel('Neural backend').selectOption('wasm');
  }
  await section.getByRole('button', { name: 'Use this engine' }).click();
  await expect(section.getByRole('button', { name: 'Use this engine' })).toBeEnabled({ timeout: 30_000 });
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Chat' }).click();
}

async function send(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  try {
    await expect(stage(page, 'arguments')).toContainText(
      /Sampler: .+ · Steps: \d+ · CFG scale: [\d.]+ · Size: \d+×\d+ · Seed: \d+/,
      { timeout: 30_000 },
    );
  } catch (e) {
    // Say where the plan stopped: the header (engine, backend), any error shown, and the stage headings.
    const seen = await page.locator('header.top, [role="alert"], article.stage h3').allInnerTexts();
    throw new Error(`no plan for "${text}"; the page shows: ${JSON.stringify(seen)}`, { cause: e });
  }
}

test('the neural pack plans in the app on WASM, streams stage 1, caches apart from the embedded engine, and a bad pack falls back visibly', async ({
  page,
}) => {
  page.on('console', (m) => m.type() === 'error' && console.warn(`[page] ${m.text()}`));
  const started = Date.now();
  const lap = (label: string) => console.log(`[neural e2e] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await page.goto('/');
  // Start-up (worker, starter catalog, index) had the default 5 s to finish: on the shared 2-core machine
  // it sometimes took longer, which was this test's one-in-ten failure. Waits on start-up get STARTUP_MS.
  await expect(page.getByText(/Engine: default/)).toBeVisible({ timeout: STARTUP_MS });

  await chooseEngine(page, { packUrl: '/test/fixtures/pack-tiny/' });
  const header = page.getByRole('banner');
  await expect(header).toContainText('Engine: neural');
  await expect(header.getByTestId('llm-runtime')).toHaveText('(tiny-test on wasm, fp32)');
  await expect(page.getByTestId('engine-fallback')).toHaveCount(0);
  lap('pack loaded');

  // Every text the prompt stage shows while the model writes it, to check that tokens arrive one by one.
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { streamedPrompts: string[] }).streamedPrompts = seen;
    const el = document.querySelector('[data-stage="prompt"]')!;
    new MutationObserver(() => {
      if (el.getAttribute('data-streaming') === 'true') seen.push(el.textContent ?? '');
    }).observe(el, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  await send(page, 'a red fox in the snow, watercolor');
  lap('first plan');
  const streamed = await page.evaluate(() => (window as unknown as { streamedPrompts: string[] }).streamedPrompts);
  expect(new Set(streamed).size).toBeGreaterThan(1);
  const prompt = await stage(page, 'prompt').innerText();
  expect(prompt.trim().length).toBeGreaterThan(0);
  // Stage 1 then passes the request rules (the request's own words kept first, left-out terms moved to the
  // negative prompt), which may reorder the model's text: its streamed words are in the final prompt.
  const draftWords = streamed
    .at(-1)!
    .trim()
    .split(/[\s,]+/)
    .filter((w) => w.length > 3);
  expect(draftWords.some((w) => prompt.includes(w))).toBe(true);
  // The 0.18M-parameter test decoder never writes a "Negative prompt:" line, so that stage stays empty here.
  await expect(stage(page, 'negative-prompt')).toBeAttached();
  await expect(stage(page, 'model')).toContainText(/\((Checkpoint|LORA), /);
  await expect(page.getByTestId('plan-engine')).toHaveText('engine: neural');
  const modelStage = page.locator('article.stage').filter({ has: stage(page, 'model') });
  await expect(modelStage).toContainText(/ModelToken: W_m·h joined to the vocabulary logits in one softmax/);
  await expect(modelStage).toContainText(/the model tokens took \d+\.\d% of the next-token probability/);
  await expect(modelStage).toContainText(/P\(model token\) = [\d.e-]+ in the joint softmax/);
  await expect(modelStage).toContainText(/ran on wasm \(fp32\), pack "tiny-test"/);
  await page.screenshot({ path: 'test-results/neural.png', fullPage: true });
  const neuralPlan = {
    model: await stage(page, 'model').innerText(),
    args: await stage(page, 'arguments').innerText(),
  };

  // The same chat again: served from the plan cache, still the neural engine's plan.
  await page.getByRole('button', { name: 'New chat' }).click();
  await send(page, 'a red fox in the snow, watercolor');
  await expect(page.getByTestId('cache-badge')).toBeVisible();
  await expect(page.getByTestId('plan-engine')).toHaveText('engine: neural');
  expect(await stage(page, 'prompt').innerText()).toBe(prompt);
  expect(await stage(page, 'arguments').innerText()).toBe(neuralPlan.args);
  lap('cached plan');

  // The Bench page offers the chosen pack as the neural engine, beside the catalog-only engines.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Bench' }).click();
  await expect(page.getByRole('checkbox', { name: 'neural' })).not.toBeChecked();
  await expect(
    page.getByText(
      /neural runs the pack chosen in Settings \(http:\/\/127\.0\.0\.1:\d+\/test\/fixtures\/pack-tiny\/\)/,
    ),
  ).toBeVisible();
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Chat' }).click();

  // A pack that cannot be loaded: the header says so and the embedded engine plans, never from the neural cache.
  await chooseEngine(page, { packUrl: '/test/fixtures/no-such-pack/' });
  await expect(page.getByTestId('engine-fallback')).toContainText(
    /The neural pack at http:\/\/127\.0\.0\.1:\d+\/test\/fixtures\/no-such-pack\/ could not be loaded \([\s\S]*manifest\.json is not there \(the server answered with an HTML page\)[\s\S]*\); plans come from the embedded engine\./,
  );
  await expect(header).toContainText('Engine: default');
  await expect(header.getByTestId('llm-runtime')).toHaveCount(0);
  await page.getByRole('button', { name: 'New chat' }).click();
  await send(page, 'a red fox in the snow, watercolor');
  await expect(page.getByTestId('plan-engine')).toHaveText('engine: default');
  await expect(page.getByTestId('cache-badge')).toHaveCount(0);
  const modelEvidence = await page
    .locator('article.stage')
    .filter({ has: stage(page, 'model') })
    .innerText();
  expect(modelEvidence).not.toContain('model tokens took');
  for (const name of ['prompt', 'negative-prompt', 'model', 'arguments'])
    expect((await stage(page, name).innerText()).trim().length).toBeGreaterThan(0);
  lap('fallback plan');

  // The choice survives a reload: the bad pack is tried again and the fallback is said again.
  await page.reload();
  await expect(page.getByTestId('engine-fallback')).toBeVisible({ timeout: STARTUP_MS });
  await chooseEngine(page, 'embedded');
  await expect(page.getByTestId('engine-fallback')).toHaveCount(0);
  lap('done');
});

test('Settings → Engine keeps what the person picked when the engine reports its saved choice after they started', async ({
  page,
}) => {
  // The engine worker reports its status (with the saved engine choice) once the starter catalog is read:
  // holding that file back lets the person change the form first, as on a slow start.
  let releaseCatalog!: () => void;
  const catalogHeld = new Promise<void>((resolve) => (releaseCatalog = resolve));
  await page.route('**/models/starter/*.jsonl', async (route) => {
    await catalogHeld;
    await route.continue();
  });
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Settings' }).click();
  const section = page.getByRole('region', { name: 'Engine' });
  await section.getByLabel('Neural pack').check();
  await section.getByRole('radio', { name: /^Custom pack/ }).check();
  await section.getByLabel('Pack URL', { exact: true }).fill('/models/my-pack/');
  await expect(page.getByRole('banner')).toContainText('Loading the engine');

  releaseCatalog();
  await expect(page.getByRole('banner')).toContainText(/catalog: /, { timeout: STARTUP_MS });
  await expect(section.getByLabel('Neural pack')).toBeChecked();
  await expect(section.getByRole('radio', { name: /^Custom pack/ })).toBeChecked();
  await expect(section.getByLabel('Pack URL', { exact: true })).toHaveValue('/models/my-pack/');
});
