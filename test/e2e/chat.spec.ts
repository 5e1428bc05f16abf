import { expect, test, type Page } from '@playwright/test';

async function send(page: Page, text: string) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  // The stage results arrive in order; arguments come last.
  await expect(page.locator('[data-stage="arguments"]')).toContainText(
    /Sampler: .+ · Steps: \d+ · CFG scale: [\d.]+ · Size: \d+×\d+ · Seed: \d+/,
  );
}

const stage = (page: Page, name: string) => page.locator(`[data-stage="${name}"]`);

test('a single message and a three-turn chat are planned step by step, cached, and restored after reload', async ({
  page,
}) => {
  await page.goto('/');
  await expect(page.getByText(/Engine: default/)).toBeVisible();

  await send(page, 'a cozy watercolor fox reading in a library, autumn vibes');
  const prompt = await stage(page, 'prompt').innerText();
  for (const word of ['watercolor', 'fox', 'library', 'autumn']) expect(prompt.toLowerCase()).toContain(word);
  expect(prompt.split(',').length).toBeGreaterThan(3);
  expect((await stage(page, 'negative-prompt').innerText()).length).toBeGreaterThan(10);
  await expect(stage(page, 'model')).toContainText(/\((Checkpoint|LORA), /);
  await expect(page.locator('table.candidates tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('cache-badge')).toHaveCount(0);
  const firstPlan = {
    prompt,
    model: await stage(page, 'model').innerText(),
    args: await stage(page, 'arguments').innerText(),
  };

  // Three turns: later turns refine the first; every turn's content reaches the prompt.
  await page.getByRole('button', { name: 'New chat' }).click();
  await send(page, 'a pixel art castle on a hill');
  await send(page, 'make it at night with a big full moon');
  await send(page, 'add a small dragon flying over the towers');
  const merged = (await stage(page, 'prompt').innerText()).toLowerCase();
  for (const word of ['castle', 'night', 'moon', 'dragon']) expect(merged).toContain(word);
  await expect(page.getByRole('list', { name: 'Messages' }).getByRole('listitem')).toHaveCount(3);

  // The same input again gives the same plan, from the IndexedDB cache.
  await page.getByRole('button', { name: 'New chat' }).click();
  await send(page, 'a cozy watercolor fox reading in a library, autumn vibes');
  await expect(page.getByTestId('cache-badge')).toBeVisible();
  expect(await stage(page, 'prompt').innerText()).toBe(firstPlan.prompt);
  expect(await stage(page, 'model').innerText()).toBe(firstPlan.model);
  expect(await stage(page, 'arguments').innerText()).toBe(firstPlan.args);

  // After a reload the history is still there and the latest chat's plan is shown again.
  await page.reload();
  const history = page.getByRole('complementary', { name: 'Past chats' });
  await expect(history.getByRole('button', { name: /^a pixel art castle/ })).toBeVisible();
  await expect(history.getByRole('button', { name: /^a cozy watercolor fox/ })).toHaveCount(2);
  expect(await stage(page, 'prompt').innerText()).toBe(firstPlan.prompt);
  await history.getByRole('button', { name: /^a pixel art castle/ }).click();
  await page.screenshot({ path: 'test-results/chat.png', fullPage: true });
  await expect(page.getByRole('list', { name: 'Messages' }).getByRole('listitem')).toHaveCount(3);
  await expect(stage(page, 'prompt')).toContainText('dragon');
});

test('a message with a reference image is planned, and the text-only engine says the image was not used', async ({
  page,
}) => {
  await page.goto('/');
  // A real 2x2 PNG.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==',
    'base64',
  );
  await page.getByLabel('Attach image file').setInputFiles({ name: 'cat.png', mimeType: 'image/png', buffer: png });
  await expect(page.getByRole('img', { name: 'Attached image 1' })).toBeVisible();
  await send(page, 'make my cat look like a ghibli hero, cozy evening light');
  await expect(page.getByRole('img', { name: 'Reference image 1' })).toBeVisible();
  // Said up front, not inside a collapsed panel.
  await expect(page.getByTestId('image-notice')).toHaveText(
    'The default engine reads text only: the reference image was not used.',
  );

  // Something that is not an image is refused with a specific message, and nothing is lost.
  await page
    .getByLabel('Attach image file')
    .setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  await expect(page.getByRole('alert')).toContainText('notes.txt is not an image (text/plain).');
  await expect(page.locator('[data-stage="prompt"]')).toContainText('ghibli');
});
