/**
 * `npm run bench:app`: drives the built app (vite build, served by `vite preview` with the app's
 * cross-origin isolation headers) in Debian's Chromium and prints, for the starter catalog and for the
 * 8,049-model civitai-2023 catalog (imported through Settings from ../shared/data/civitai-2023):
 *  - reload-to-ready: from navigation start to the header naming the active catalog's model count;
 *  - plan wall time: from the Send click to the arguments stage (the last one) showing, p50 / p95 over
 *    distinct chats (each in a new chat, so none is answered from the plan cache).
 *
 *   npm run bench:app -- [--no-build] [--reloads 5] [--plans 20] [--data ../shared/data/civitai-2023] [--json FILE]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Page } from '@playwright/test';

const root = path.resolve(import.meta.dirname, '..');
const { values: args } = parseArgs({
  options: {
    'no-build': { type: 'boolean', default: false },
    reloads: { type: 'string', default: '5' },
    plans: { type: 'string', default: '20' },
    data: { type: 'string', default: path.resolve(root, '../shared/data/civitai-2023') },
    json: { type: 'string' },
  },
});
const reloads = Number(args.reloads);
const plans = Number(args.plans);

/** Requests in the style of the benchmark's chats; each runs in a new chat so the plan cache never answers. */
const REQUESTS = [
  'a cozy watercolor fox reading in a library, autumn vibes',
  'realistic close-up photo of a woman knight in ornate armor, castle garden',
  'anime girl with silver hair under cherry blossoms at night',
  'a cyberpunk city street in the rain, neon signs, cinematic',
  'isometric pixel art of a small farm with a windmill',
  'product photo of a perfume bottle on black marble, soft light',
  'an oil painting of a stormy sea with a lighthouse',
  'a cute chibi dragon sticker, white background',
  'portrait of an old fisherman, dramatic lighting, 85mm',
  'a futuristic sports car in a desert at sunset',
  'modern living room interior, scandinavian style, morning light',
  'a fantasy elf archer in a misty forest, detailed armor',
  'a bowl of ramen, food photography, steam, bokeh',
  'a steampunk airship above victorian london',
  'watercolor landscape of rolling hills in spring',
  'a samurai standing in the snow, ink wash painting',
  'a 3d render of a cute robot holding a flower',
  'a gothic cathedral interior with stained glass, volumetric light',
  'a comic book style superhero flying over a city',
  'macro photo of a dew drop on a green leaf',
  'a medieval village market, busy, warm colors',
  'a portrait of a cat wearing a tiny crown, renaissance painting',
  'an astronaut floating above the earth, photorealistic',
  'a low poly mountain lake at dawn',
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitForServer(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`vite preview exited with ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within 60 s`);
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;

function summary(values: number[]): { p50: number; p95: number; min: number; max: number; n: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: quantile(sorted, 0.5),
    p95: quantile(sorted, 0.95),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
    n: sorted.length,
  };
}

/**
 * Probes installed before any page script runs (as source text: tsx would rewrite a function's body):
 * the time the header names the expected model count, and the wall time of one plan.
 */
const READY_PROBE = `
  window.__readyAt = (expected) => new Promise((resolve) => {
    const check = () => {
      const status = document.querySelector('header .status');
      const m = status && /\\((\\d+) models/.exec(status.textContent || '');
      return m && (expected === null || Number(m[1]) === expected);
    };
    if (check()) return resolve(performance.now());
    const observer = new MutationObserver(() => {
      if (check()) { observer.disconnect(); resolve(performance.now()); }
    });
    observer.observe(document, { subtree: true, childList: true, characterData: true });
  });
  // Send -> the arguments stage showing its result (it is cleared on Send, then filled by the last stage).
  window.__timePlan = () => new Promise((resolve, reject) => {
    const shown = () => (document.querySelector('[data-stage="arguments"]')?.textContent || '').includes('Sampler:');
    let cleared = !shown();
    const started = performance.now();
    const observer = new MutationObserver(() => {
      if (!shown()) cleared = true;
      else if (cleared) { observer.disconnect(); resolve(performance.now() - started); }
    });
    observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    const send = [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === 'Send');
    if (!send) reject(new Error('no Send button'));
    else send.click();
  });
`;

async function reloadToReady(page: Page, models: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < reloads; i++) {
    await page.reload({ waitUntil: 'commit' });
    times.push((await page.evaluate(`window.__readyAt(${models})`)) as number);
  }
  return times;
}

/** Plan wall times over distinct chats, each measured in the page by a MutationObserver. */
async function planWallTimes(page: Page): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < plans; i++) {
    await page.getByRole('button', { name: 'New chat' }).click();
    await page
      .getByRole('textbox', { name: 'Message' })
      .fill(REQUESTS[i % REQUESTS.length]! + (i >= REQUESTS.length ? ` (${i})` : ''));
    const ms = (await page.evaluate('window.__timePlan()')) as number;
    times.push(ms);
    // The chat is saved after the last stage shows; wait for it so the next plan starts from rest.
    await page.getByRole('button', { name: 'Send' }).and(page.locator(':not([disabled])')).waitFor();
  }
  return times;
}

async function main(): Promise<void> {
  if (!args['no-build']) {
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--logLevel', 'warn'], {
      cwd: root,
      stdio: 'inherit',
    });
    if (build.status !== 0) throw new Error('vite build failed');
  }
  const port = await freePort();
  const preview = spawn(
    process.execPath,
    ['node_modules/vite/bin/vite.js', 'preview', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: root, stdio: 'ignore' },
  );
  const origin = `http://127.0.0.1:${port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const results: Record<string, unknown> = {};
  try {
    await waitForServer(origin, preview);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(READY_PROBE);
    const page = await context.newPage();
    await page.goto(origin);
    await page.getByText(/Engine: /).waitFor();

    const starterReload = summary(await reloadToReady(page, 59));
    const starterPlan = summary(await planWallTimes(page));
    results['starter'] = { reloadToReadyMs: starterReload, planWallMs: starterPlan };

    const catalogFile = path.join(args.data, 'catalog.jsonl');
    if (existsSync(catalogFile)) {
      await page.getByRole('button', { name: 'Settings' }).click();
      const importStarted = Date.now();
      await page.getByLabel('Catalog file (JSONL)').setInputFiles(catalogFile);
      await page.getByLabel('Demonstrations file (JSONL)').setInputFiles(path.join(args.data, 'demonstrations.jsonl'));
      await page.getByRole('button', { name: 'Import' }).click();
      await page
        .getByTestId('import-result')
        .filter({ hasText: 'Imported 8,049 models' })
        .waitFor({ timeout: 300_000 });
      const importMs = Date.now() - importStarted;
      await page.getByRole('button', { name: 'Chat', exact: true }).click();
      const bigReload = summary(await reloadToReady(page, 8049));
      const bigPlan = summary(await planWallTimes(page));
      results['civitai-2023'] = { importMs, reloadToReadyMs: bigReload, planWallMs: bigPlan };
    } else {
      console.warn(`${catalogFile} is absent: only the starter catalog was measured`);
    }
  } finally {
    await browser.close();
    preview.kill();
  }

  const fmt = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
  console.log('\n| catalog | reload to ready p50 / p95 (ms) | plan wall p50 / p95 (ms) | plans | import (ms) |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const [name, r] of Object.entries(results) as [
    string,
    { reloadToReadyMs: ReturnType<typeof summary>; planWallMs: ReturnType<typeof summary>; importMs?: number },
  ][]) {
    console.log(
      `| ${name} | ${fmt(r.reloadToReadyMs.p50)} / ${fmt(r.reloadToReadyMs.p95)} | ${fmt(r.planWallMs.p50)} / ${fmt(r.planWallMs.p95)} | ${r.planWallMs.n} | ${r.importMs !== undefined ? fmt(r.importMs) : '-'} |`,
    );
  }
  if (args.json) writeFileSync(args.json, JSON.stringify(results, null, 2));
}

await main();
