import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';

/** Chooses the tiny pack on WASM in Settings and stays there; returns the ModelToken head section. */
async function openHeadSettings(page: Page, chooseNeural: boolean) {
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Settings' }).click();
  const engine = page.getByRole('region', { name: 'Engine' });
  if (chooseNeural) {
    await engine.getByLabel('Neural pack').check();
    await engine.getByRole('radio', { name: /^Custom pack/ }).check();
    await engine.getByLabel('Pack URL', { exact: true }).fill('/test/fixtures/pack-tiny/');
    await engine.getByLabel('Neural backend').selectOption('wasm');
    await engine.getByRole('button', { name: 'Use this engine' }).click();
  }
  const head = engine.getByRole('region', { name: 'ModelToken head' });
  await expect(head).toBeVisible({ timeout: 30_000 });
  return head;
}

test("the neural pack's ModelToken head trains in the app on WASM (progress, cancel, resume), is restored from IndexedDB after a reload, and exports as a pack head file", async ({
  page,
}) => {
  page.on('console', (m) => m.type() === 'error' && console.warn(`[page] ${m.text()}`));
  const started = Date.now();
  const lap = (label: string) => console.log(`[head e2e] ${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await page.goto('/');
  await expect(page.getByText(/Engine: default/)).toBeVisible();
  const head = await openHeadSettings(page, true);
  const manifest = JSON.parse(readFileSync('test/fixtures/pack-tiny/manifest.json', 'utf8')) as {
    head: { file: string; dim: number; model_ids: number[] };
  };
  await expect(head.getByTestId('head-info')).toHaveText(
    `From the pack · ${manifest.head.model_ids.length} models × ${manifest.head.dim}`,
  );
  lap('pack loaded');

  // Cancel while the frozen model encodes the starter demonstrations: the encoded pairs are kept.
  await head.getByLabel('Epochs').fill('40');
  await head.getByRole('button', { name: 'Train head' }).click();
  await expect(head.getByTestId('head-progress')).toContainText(/Encoding demonstrations: \d+ of \d+/);
  await head.getByRole('button', { name: 'Cancel training' }).click();
  await expect(head.getByTestId('head-message')).toHaveText(
    'Training was cancelled; Train head resumes it where it stopped.',
  );
  await expect(head.getByTestId('head-info')).toContainText('From the pack');
  lap('cancelled');

  // Resume: only the pairs not encoded before the cancel are encoded now; epochs show loss and accuracy.
  const epochs: string[] = [];
  await page.exposeFunction('recordEpoch', (text: string) => epochs.push(text));
  await page.evaluate(() => {
    const record = (window as unknown as { recordEpoch: (t: string) => void }).recordEpoch;
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="head-progress"]')?.textContent ?? '';
      if (text.includes('Epoch')) record(text.replace(/\s+/g, ' ').trim());
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await head.getByRole('button', { name: 'Train head' }).click();
  const outcome = head.getByTestId('head-outcome');
  await expect(outcome).toBeVisible({ timeout: 45_000 });
  const text = await outcome.innerText();
  console.log(`[head e2e] ${text}`);
  const m = /Trained on (\d+) demonstrations \((\d+) encoded now\): train accuracy ([\d.]+)%, loss ([\d.]+)/.exec(
    text,
  )!;
  expect(m).not.toBeNull();
  const [pairs, encodedNow, accuracy] = [Number(m[1]), Number(m[2]), Number(m[3])];
  expect(encodedNow).toBeLessThan(pairs);
  expect(accuracy).toBeGreaterThan(100 / manifest.head.model_ids.length);
  expect(epochs.some((e) => /Epoch \d+ of 40 · loss [\d.]+ · train accuracy [\d.]+%/.test(e))).toBe(true);
  const trainedInfo = `Trained in this browser, saved · ${manifest.head.model_ids.length} models × ${manifest.head.dim} · train accuracy ${accuracy.toFixed(1)}%`;
  await expect(head.getByTestId('head-info')).toHaveText(trainedInfo);
  lap('trained');

  // The trained head plans: the model stage's evidence comes from it.
  await page.getByRole('navigation', { name: 'Pages' }).getByRole('button', { name: 'Chat' }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill('a castle on a hill at dusk, oil painting');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('article.stage').filter({ has: page.locator('[data-stage="model"]') })).toContainText(
    /the model tokens took \d+\.\d% of the next-token probability/,
    { timeout: 30_000 },
  );
  await expect(page.getByTestId('plan-engine')).toHaveText('engine: neural');
  lap('planned with the trained head');

  // After a reload the same pack loads with the trained head from IndexedDB.
  await page.reload();
  await expect(page.getByText(/Engine: neural/)).toBeVisible({ timeout: 30_000 });
  const restored = await openHeadSettings(page, false);
  await expect(restored.getByTestId('head-info')).toHaveText(trainedInfo);
  lap('restored');

  // Export: the head file a pack's manifest names, and the manifest's head entry beside it.
  const downloads: import('@playwright/test').Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await restored.getByRole('button', { name: 'Export head' }).click();
  await expect.poll(() => downloads.length).toBe(2);
  const byName = new Map(downloads.map((d) => [d.suggestedFilename(), d]));
  expect([...byName.keys()].sort()).toEqual(
    [manifest.head.file, manifest.head.file.replace(/\.[^.]*$/, '.json')].sort(),
  );
  const bytes = readFileSync((await byName.get(manifest.head.file)!.path())!);
  expect(bytes.length).toBe(manifest.head.model_ids.length * manifest.head.dim * 4);
  const packBytes = readFileSync(`test/fixtures/pack-tiny/${manifest.head.file}`);
  expect(bytes.equals(packBytes)).toBe(false);
  const entry = JSON.parse(
    readFileSync((await byName.get(manifest.head.file.replace(/\.[^.]*$/, '.json'))!.path())!, 'utf8'),
  ) as { pack: string; head: typeof manifest.head };
  expect(entry).toEqual({
    pack: 'tiny-test',
    head: { file: manifest.head.file, dim: manifest.head.dim, model_ids: manifest.head.model_ids },
  });
  lap('exported');
});
