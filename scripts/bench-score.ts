/**
 * Images scored per second per scorer pack.
 *
 *   npm run bench:score -- [--pack DIR ...] [--images DIR] [--count N] [--browser] [--fid-dim D]
 *
 * onnxruntime-node (CPU) always; with --browser also the scoring worker in headless Chromium on WASM (1 thread)
 * and WebGPU (SwiftShader here: a correctness path, not a speed figure; 2 images, as FID needs at least 2). Defaults to the fixture packs and images.
 * --fid-dim times the TypeScript Fréchet distance (two symmetric eigendecompositions) for D-dimensional features.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { frechetDistance, type FeatureStatistics } from '../src/core/metrics/fid.ts';
import { PROMPT_KINDS } from '../src/core/scoring/scorers.ts';
import { IMAGE_EXTENSIONS, openFolderPack, readImageFile } from './lib/score-node.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    pack: { type: 'string', multiple: true },
    images: { type: 'string', default: path.join(root, 'test/fixtures/images') },
    count: { type: 'string', default: '32' },
    browser: { type: 'boolean', default: false },
    'fid-dim': { type: 'string', default: '256' },
  },
});
const packDirs =
  values.pack ??
  readdirSync(path.join(root, 'test/fixtures/scorers'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => path.join(root, 'test/fixtures/scorers', e.name));
const files = readdirSync(values.images)
  .filter((f) => IMAGE_EXTENSIONS.includes(path.extname(f).toLowerCase()))
  .sort();
const decoded = await Promise.all(files.map((f) => readImageFile(path.join(values.images, f))));
const count = Number(values.count);
const images = Array.from({ length: count }, (_, i) => decoded[i % decoded.length]!);
const prompt = 'portrait of a girl with green hair, highly detailed';

console.log(`onnxruntime-node CPU, ${count} images (${files.length} distinct, cycled), batch 4, one prompt`);
console.log('pack                  kind          images/s   ms/image');
for (const dir of packDirs) {
  const pack = await openFolderPack(dir);
  const { id, kind } = pack.manifest;
  await pack.load();
  const run = () =>
    kind === 'fid-features'
      ? pack.features(images)
      : pack.score(images.map((image) => ({ image, prompt: PROMPT_KINDS.has(kind) ? prompt : undefined })));
  await run(); // warm-up
  const started = performance.now();
  await run();
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${id.padEnd(22)}${kind.padEnd(14)}${(count / seconds).toFixed(1).padStart(8)}   ${((seconds * 1000) / count).toFixed(2).padStart(8)}`,
  );
  await pack.unload();
}

const d = Number(values['fid-dim']);
if (d > 0) {
  const stats = (seed: number): FeatureStatistics => {
    // A random symmetric positive definite covariance: A Aᵀ / d + I.
    let s = seed;
    const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648 - 0.5;
    const a = Float64Array.from({ length: d * d }, next);
    const covariance = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let j = i; j < d; j++) {
        let sum = 0;
        for (let k = 0; k < d; k++) sum += a[i * d + k]! * a[j * d + k]!;
        covariance[i * d + j] = covariance[j * d + i] = sum / d + (i === j ? 1 : 0);
      }
    }
    return { count: 10 * d, dim: d, mean: Float64Array.from({ length: d }, next), covariance };
  };
  const [first, second] = [stats(1), stats(2)];
  const started = performance.now();
  const result = frechetDistance(first, second);
  console.log(
    `Fréchet distance in TypeScript, d=${d}: ${(performance.now() - started).toFixed(0)} ms (FID ${result.distance.toFixed(3)})`,
  );
}

if (values.browser) await browserBench();

async function browserBench(): Promise<void> {
  const { chromium } = await import('@playwright/test');
  const port = 5191;
  const vite = spawn(
    process.execPath,
    [path.join(root, 'node_modules/vite/bin/vite.js'), '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: root, stdio: 'ignore' },
  );
  try {
    for (let i = 0; i < 60; i++) {
      if (
        await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => r.ok,
          () => false,
        )
      )
        break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--enable-unsafe-webgpu',
      ],
    });
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/test/browser/pages/score.html`);
    await page.waitForSelector('body[data-ready="true"]');
    for (const [prefer, repeats, names] of [
      ['wasm', 3, files],
      ['webgpu', 1, files.slice(0, 2)],
    ] as const) {
      const result = await page.evaluate(
        ([p, n, prompts, r]) =>
          (
            window as unknown as {
              runScoring: (
                ...a: unknown[]
              ) => Promise<{ packs: Record<string, { backend: string; msPerRepeat: number }> }>;
            }
          ).runScoring(p, n, prompts, r),
        [prefer, names, [prompt], repeats] as const,
      );
      console.log(
        `browser scoring worker, prefer ${prefer}, ${names.length} image(s) per call incl. decode, ${repeats} call(s) after load`,
      );
      for (const [id, entry] of Object.entries(result.packs)) {
        console.log(
          `  ${id.padEnd(22)}${entry.backend.padEnd(8)}${((names.length * 1000) / entry.msPerRepeat).toFixed(2).padStart(8)} images/s`,
        );
      }
    }
    await browser.close();
  } finally {
    vite.kill();
  }
}
