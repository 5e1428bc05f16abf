import path from 'node:path';
import { expect, test } from '@playwright/test';
import { lowContrastMuted, overflowing, SCREENSHOTS } from './layout-check.ts';

const shots = SCREENSHOTS;

const LONG_TITLE = `a${'verylongwordwithoutanyspaces'.repeat(8)} in a cozy library with watercolor autumn light and a fox reading`;

for (const scheme of ['light', 'dark'] as const) {
  test(`no horizontal overflow at 390 px and 1280 px in the app's states (${scheme})`, async ({ page }) => {
    await page.emulateMedia({ colorScheme: scheme });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/');
    await expect(page.getByText(/Engine: default/)).toBeVisible();
    expect(await page.evaluate(() => getComputedStyle(document.documentElement).colorScheme)).toBe(scheme);
    expect(await overflowing(page), 'empty chat').toEqual([]);

    // After Send on a narrow screen the plan comes into view.
    await page.getByRole('textbox', { name: 'Message' }).fill(LONG_TITLE);
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
    await expect
      .poll(() => page.locator('.plan-column').evaluate((el) => Math.round(el.getBoundingClientRect().top)), {
        timeout: 5000,
      })
      .toBeLessThan(200);
    expect(await overflowing(page), 'after a chat with a long title').toEqual([]);
    await page.screenshot({ path: path.join(shots, `chat-390-${scheme}.png`) });
    for (const details of await page.locator('.stage details > summary').all()) await details.click();
    await page.getByRole('button', { name: 'Edit plan' }).click();
    expect(await overflowing(page), 'evidence and plan editor open').toEqual([]);
    expect(await lowContrastMuted(page), 'muted text at AA contrast').toEqual([]);
    await page.evaluate(() => scrollTo(0, 0));
    await page.screenshot({ path: path.join(shots, `chat-390-${scheme}-top.png`) });

    for (const name of ['Settings', 'Gallery', 'Bench']) {
      await page.getByRole('button', { name, exact: true }).click();
      expect(await overflowing(page), `${name} page`).toEqual([]);
      if (name === 'Settings')
        await page.screenshot({ path: path.join(shots, `settings-390-${scheme}.png`), fullPage: true });
    }

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.getByRole('button', { name: 'Chat', exact: true }).click();
    expect(await overflowing(page), 'chat at 1280 px').toEqual([]);
    await page.screenshot({ path: path.join(shots, `chat-1280-${scheme}.png`) });
  });
}

test('the header toggle switches dark mode against the system setting and keeps the choice', async ({ page }) => {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.goto('/');
  const toggle = page.getByRole('button', { name: 'Dark mode' });
  await expect(toggle).toHaveAttribute('aria-pressed', 'false');
  await toggle.click();
  await expect(toggle).toHaveAttribute('aria-pressed', 'true');
  const background = () => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  expect(await background()).toBe('rgb(18, 23, 34)');
  await page.reload();
  await expect(page.getByRole('button', { name: 'Dark mode' })).toHaveAttribute('aria-pressed', 'true');
  expect(await background()).toBe('rgb(18, 23, 34)');
});
