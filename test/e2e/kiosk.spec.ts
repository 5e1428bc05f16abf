import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';
import { OpenAITestServer } from '../servers/openai-test-server.ts';
import { serveDuringSpec } from '../servers/spec-servers.ts';
import { encodeGradientPng } from '../servers/test-server-common.ts';
import { overflowing, SCREENSHOTS } from './layout-check.ts';
import { demonstration, model } from './catalog-lines.ts';

// The A1111 test server has every starter model installed, so whatever the plan chooses can be generated.
const starter = readFileSync(path.resolve(import.meta.dirname, '../../public/models/starter/catalog.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line) as { file: string; type: string });
const a1111 = new A1111TestServer({
  delayMs: 100,
  checkpoints: starter.filter((m) => m.type === 'Checkpoint').map((m) => ({ file: m.file, sha256: null })),
  loras: starter.filter((m) => m.type === 'LORA').map((m) => m.file),
});
const urls = serveDuringSpec({
  a1111,
  comfyui: new ComfyTestServer({ delayMs: 0 }),
  openai: new OpenAITestServer({ delayMs: 0 }),
});
// A second A1111 server with only two of the starter checkpoints, for the two-endpoint test.
const starterCheckpoints = starter.filter((m) => m.type === 'Checkpoint').map((m) => m.file);
const smallServer = new A1111TestServer({
  delayMs: 50,
  checkpoints: starterCheckpoints.slice(0, 2).map((file) => ({ file, sha256: null })),
  loras: [],
});
let smallUrl = '';
test.beforeAll(async () => {
  smallUrl = await smallServer.listen();
});
test.afterAll(async () => {
  await smallServer.close();
});

const PIN = '2468';
const kioskJson = (extra: Record<string, unknown> = {}) => ({
  endpoints: [{ kind: 'a1111', url: urls.a1111 }],
  onlyInstalledModels: true,
  mode: 'kiosk',
  operatorPin: PIN,
  idleResetSeconds: 6,
  blockedTerms: ['clown'],
  ...extra,
});

/** Serves kiosk.json beside the app for this page (the dev server has none). */
async function serveKioskJson(page: Page, config: unknown) {
  await page.route('**/kiosk.json', (route) => route.fulfill({ json: config }));
}

/** What the visitor stores of IndexedDB hold, and the operator's catalogs. */
function storedCounts(page: Page) {
  return page.evaluate(async () => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('chatgen-web');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const count = (name: string) =>
      new Promise<number>((resolve, reject) => {
        const request = db.transaction(name).objectStore(name).count();
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
    const counts = {
      chats: await count('chats'),
      plans: await count('plans'),
      results: await count('results'),
      catalogs: await count('catalogs'),
    };
    db.close();
    return counts;
  });
}

async function visitorChatsAndGenerates(page: Page, text: string) {
  await page
    .locator('input[type="file"][aria-label="Attach image file"]')
    .setInputFiles({ name: 'ref.png', mimeType: 'image/png', buffer: encodeGradientPng(32, 32, 40) });
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('plan-summary')).toContainText('Model:');
  await page.getByRole('button', { name: 'Generate' }).click();
  const image = page.locator('[data-stage="image"] img').first();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
  await expect(page.getByRole('img', { name: 'Reference image 1' })).toBeVisible();
  const counts = await storedCounts(page);
  expect(counts.chats).toBe(1);
  expect(counts.results).toBe(1);
}

/** Nothing of an earlier visitor: no turn, reference image, plan or image on the page, nothing in IndexedDB. */
async function expectNoVisitorTrace(page: Page, text: string) {
  await expect(page.locator('.turn')).toHaveCount(0);
  await expect(page.getByText(text)).toHaveCount(0);
  await expect(page.getByTestId('plan-summary')).toHaveCount(0);
  await expect(page.locator('[data-stage="image"] img, .turn.image img')).toHaveCount(0);
  await expect.poll(() => storedCounts(page)).toMatchObject({ chats: 0, plans: 0, results: 0 });
}

test('a visitor chats and generates; after "Start over" and after the idle timeout the next visitor sees nothing of them', async ({
  page,
}) => {
  await serveKioskJson(page, kioskJson());
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.goto('/');
  await expect(page.getByRole('button', { name: 'Start over' })).toBeVisible();

  await visitorChatsAndGenerates(page, 'a cozy watercolor fox reading in a library');
  expect(a1111.requests.some((r) => r.path === '/sdapi/v1/txt2img')).toBe(true);
  // The result is shown big on a kiosk, not as a 256 px thumbnail.
  const shownWidth = await page
    .locator('[data-stage="image"] img')
    .first()
    .evaluate((img) => img.getBoundingClientRect().width);
  expect(shownWidth).toBeGreaterThan(400);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'kiosk-1280.png') });
  await page.setViewportSize({ width: 390, height: 844 });
  expect(await overflowing(page), 'kiosk at 390 px').toEqual([]);
  const smallest = await page
    .locator('button:visible')
    .evaluateAll((buttons) => Math.min(...buttons.map((b) => b.getBoundingClientRect().height)));
  expect(smallest, 'touch targets of at least 44 px').toBeGreaterThanOrEqual(44);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'kiosk-390.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.getByRole('button', { name: 'Start over' }).click();
  await expectNoVisitorTrace(page, 'a cozy watercolor fox reading in a library');

  // The next visitor leaves the station idle: a countdown shows, a touch cancels it, then the session is cleared.
  await visitorChatsAndGenerates(page, 'a pixel art castle at night');
  const countdown = page.getByTestId('idle-countdown');
  await expect(countdown).toBeVisible({ timeout: 10_000 });
  await expect(countdown).toContainText('Touch the screen to continue');
  await page.mouse.click(5, 400);
  await expect(countdown).toHaveCount(0);
  await expect(page.locator('.turn').first()).toHaveText('a pixel art castle at night');
  await expect(countdown).toBeVisible({ timeout: 10_000 });
  await expectNoVisitorTrace(page, 'a pixel art castle at night');
  await expect(countdown).toHaveCount(0);

  // A reload mid-visit does not bring a visitor back either.
  await visitorChatsAndGenerates(page, 'a paper boat on a puddle');
  await page.reload();
  await expectNoVisitorTrace(page, 'a paper boat on a puddle');
});

// The request names the NSFW-tagged model by its uncommon name, so the engine picks it; safe mode must still never choose it.
const REQUEST = 'a woman at the beach at sunset, zorblax style';
const CATALOG = [
  model(7001, 'Zorblax Beach Mix', ['sexy', 'woman', 'beach']),
  model(7002, 'Seaside Watercolor', ['watercolor', 'landscape']),
].join('\n');
const DEMONSTRATIONS = [
  demonstration(1, 7001, 'a woman at the beach at sunset, summer, golden hour'),
  demonstration(2, 7001, 'a woman walking on the beach at sunset, golden hour'),
  demonstration(3, 7001, 'a woman at the beach, sunset, summer vibes'),
  demonstration(4, 7002, 'a quiet harbour in watercolor, soft colours'),
].join('\n');

test('visitors cannot reach Settings or Bench without the PIN; safe mode refuses blocked terms and never selects an excluded model', async ({
  page,
}) => {
  // The operator's catalog, imported before the station became a kiosk: without safe mode the request gets the NSFW-tagged model.
  await page.goto('/');
  await page.getByRole('button', { name: 'Settings' }).click();
  await page
    .getByLabel('Catalog file (JSONL)')
    .setInputFiles({ name: 'beach.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(CATALOG) });
  await page
    .getByLabel('Demonstrations file (JSONL)')
    .setInputFiles({ name: 'beach-demos.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(DEMONSTRATIONS) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('import-result')).toContainText('Imported 2 models');
  await page.getByRole('button', { name: 'Chat', exact: true }).click();
  await page.getByRole('textbox', { name: 'Message' }).fill(REQUEST);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="model"]')).toContainText('Zorblax Beach Mix');

  await serveKioskJson(page, kioskJson({ onlyInstalledModels: false, idleResetSeconds: 600 }));
  await page.reload();
  await expect(page.getByRole('button', { name: 'Start over' })).toBeVisible();
  // Locked: only the chat, no Settings, Bench or Gallery, and no engine or catalog controls.
  await expect(page.getByRole('navigation', { name: 'Pages' }).getByRole('button')).toHaveText(['Chat']);
  await expect(page.getByRole('button', { name: 'Settings' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Bench' })).toHaveCount(0);
  await expect(page.getByLabel('Catalog file (JSONL)')).toHaveCount(0);
  // Starting the kiosk cleared the chat made before it.
  expect(await storedCounts(page)).toMatchObject({ chats: 0, plans: 0, results: 0, catalogs: 1 });

  // Blocked terms (built-in and the operator's own) are refused with a friendly message, before anything is stored.
  for (const text of ['a nude portrait on the beach', 'a scary CLOWN at the fair']) {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('button', { name: 'Send' }).click();
    await expect(page.getByRole('alert')).toContainText('Sorry, this station keeps images suitable for everyone');
  }
  expect((await storedCounts(page)).chats).toBe(0);

  await page.getByRole('textbox', { name: 'Message' }).fill(REQUEST);
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByTestId('plan-summary')).toContainText('Seaside Watercolor');
  await page.getByRole('button', { name: 'How this plan was made' }).click();
  await expect(page.locator('table.candidates')).not.toContainText('Zorblax Beach Mix');
  await expect(page.getByTestId('safety-note')).toContainText('Safe mode: 1 catalog model excluded');
  await expect(page.locator('[data-stage="negative-prompt"]')).toContainText('nsfw, nude, naked');

  // The operator's PIN opens Settings (with what safe mode excluded) until Lock.
  await page.getByRole('button', { name: 'Operator' }).click();
  await page.getByLabel('Operator PIN').fill('1111');
  await page.getByRole('button', { name: 'Unlock' }).click();
  await expect(page.getByText('That PIN is not right.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Settings' })).toHaveCount(0);
  await page.getByLabel('Operator PIN').fill(PIN);
  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByTestId('safety-summary')).toContainText('excluded 1 NSFW-leaning');
  await page.getByText(/What safe mode excluded/).click();
  await expect(page.getByText('Zorblax Beach Mix (id 7001) · NSFW-leaning: tag "sexy"')).toBeVisible();
  // Operator tools work on a kiosk: the endpoint health panel's Test connection.
  await page.getByRole('region', { name: 'Endpoint health' }).getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator(`tr[data-endpoint="${urls.a1111}"]`)).toContainText('yes');
  await expect(page.getByRole('button', { name: 'Bench' })).toBeVisible();
  await page.getByRole('button', { name: 'Lock' }).click();
  await expect(page.getByRole('button', { name: 'Settings' })).toHaveCount(0);
  await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();

  // Start over clears the visitor, never the operator's catalog.
  await page.getByRole('button', { name: 'Start over' }).click();
  expect(await storedCounts(page)).toMatchObject({ chats: 0, plans: 0, results: 0, catalogs: 1 });
  await expect(page.getByText(/catalog: beach\.jsonl/)).toBeVisible();
});

test('kiosk and URL configuration problems are shown at start, one line each', async ({ page }) => {
  await serveKioskJson(page, {
    endpoints: [{ kind: 'a1111', url: 'ftp://gpu' }],
    mode: 'kiosk',
    idleResetSeconds: -1,
    operatorPin: 'abc',
  });
  await page.goto('/?kiosk=maybe');
  const problems = page.getByTestId('config-problems').getByRole('listitem');
  await expect(problems).toHaveText([
    'kiosk.json: endpoints[0].url: "ftp://gpu" must start with http:// or https://',
    'kiosk.json: "idleResetSeconds" must be a whole number of seconds from 1 to 86400',
    'kiosk.json: "operatorPin" must be 4 to 12 digits, e.g. "4321"',
    'kiosk.json: kiosk mode has no "operatorPin": Settings and Bench stay locked on this station until kiosk.json sets one',
  ]);
  // Fails closed: a kiosk.json that asks for kiosk mode keeps the station locked even when other fields are wrong.
  await expect(page.getByRole('button', { name: 'Settings' })).toHaveCount(0);

  await page.unroute('**/kiosk.json');
  await page.route('**/kiosk.json', (route) =>
    route.fulfill({ contentType: 'application/json', body: '{"mode": "kiosk",' }),
  );
  await page.goto('/');
  await expect(page.getByTestId('config-problems').getByRole('listitem')).toHaveText([
    /^kiosk\.json: kiosk\.json is not valid JSON: /,
  ]);

  await page.unroute('**/kiosk.json');
  await page.goto('/?endpoint=a1111:not-a-url&endpoint=dalle:http://x&kiosk=1');
  await expect(page.getByTestId('config-problems').getByRole('listitem')).toHaveText([
    'URL parameters: endpoint #1.url: "not-a-url" is not an absolute URL (expected e.g. http://127.0.0.1:7860)',
    'URL parameters: endpoint #2.kind must be one of a1111, comfyui, openai, hf-inference, got "dalle"',
    '"?kiosk=1" is ignored: this site\'s kiosk.json does not allow it ("allowKioskParam": true)',
  ]);
});

test('with two endpoints a model installed on both counts once, and a job goes to an endpoint that has its model', async ({
  page,
}) => {
  smallServer.requests.length = 0;
  // The small server comes first: least-busy would send the job there if it did not look at what is installed.
  await page.goto(`/?endpoint=a1111:${smallUrl}&endpoint=a1111:${urls.a1111}&only-installed=1`);
  await page.getByRole('textbox', { name: 'Message' }).fill('a cozy watercolor fox reading in a library');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.locator('[data-stage="arguments"]')).toContainText('Sampler: ');
  // Every starter model is on the first server, two of them on the second too: none is "not in the catalog".
  await expect(page.getByTestId('installed-note')).toHaveText(
    `Only the ${starter.length} catalog models installed on the 2 endpoints compete.`,
  );
  const chosen = await page.locator('[data-stage="model"]').innerText();
  expect(
    starterCheckpoints.slice(0, 2).some((file) => chosen.includes(file)),
    'the plan chose a model only the first server has',
  ).toBe(false);
  await page.getByRole('button', { name: 'Generate' }).click();
  await expect(page.locator('[data-stage="image"] figcaption').first()).toContainText('· a1111 ·');
  expect(a1111.requests.filter((r) => r.path === '/sdapi/v1/txt2img')).toHaveLength(1);
  expect(smallServer.requests.some((r) => r.path === '/sdapi/v1/txt2img')).toBe(false);
});
