import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import type { PageRun } from './pages/score-page.ts';

const reference = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../fixtures/scorers/reference.json'), 'utf8'),
) as {
  images: string[];
  prompts: string[];
  packs: Record<string, { scores?: number[] | number[][]; features?: number[][] }>;
};

function worstDifference(actual: number[], expected: number[]): number {
  expect(actual).toHaveLength(expected.length);
  return Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)));
}

async function run(page: Page, prefer: 'wasm' | 'webgpu'): Promise<PageRun> {
  await page.goto('/test/browser/pages/score.html');
  await page.waitForSelector('body[data-ready="true"]');
  return page.evaluate(
    ([p, images, prompts]) =>
      (window as unknown as { runScoring: (...a: unknown[]) => Promise<PageRun> }).runScoring(p, images, prompts),
    [prefer, reference.images, reference.prompts] as const,
  );
}

function expectReference(result: PageRun): void {
  const tolerance: Record<string, number> = {
    'fixture-clip': 1e-3,
    'fixture-hpsv2': 1e-3,
    'fixture-imagereward': 1e-4,
    'fixture-aesthetic': 1e-5,
  };
  for (const [id, tol] of Object.entries(tolerance)) {
    expect(
      worstDifference(result.packs[id]!.scores!, (reference.packs[id]!.scores as number[] | number[][]).flat()),
      id,
    ).toBeLessThan(tol);
  }
  expect(
    worstDifference(result.packs['fixture-fid']!.features!.flat(), reference.packs['fixture-fid']!.features!.flat()),
  ).toBeLessThan(1e-5);
  expect(result.fidSelf).toBeLessThan(1e-9);
  // Every model file reported download progress up to its full size.
  const done = result.progress
    .filter((p) => p.total !== null && p.loaded === p.total)
    .map((p) => `${p.pack}/${p.file}`);
  expect(new Set(done).size).toBe(13); // 10 ONNX graphs and 3 tokenizers
}

test('scoring worker on WASM reproduces the torch reference scores', async ({ page }) => {
  const result = await run(page, 'wasm');
  for (const entry of Object.values(result.packs)) expect(entry.backend).toBe('wasm');
  expectReference(result);
});

// WebGPU here is SwiftShader (software): about 25 s per pack even for one image, so this covers the pack with the
// most graphs (ImageReward: ViT, cross-attending text encoder, MLP head) on one image and one prompt.
test('scoring worker prefers WebGPU (SwiftShader here) and reproduces the reference, or says why it fell back', async ({
  page,
}) => {
  await page.goto('/test/browser/pages/score.html');
  await page.waitForSelector('body[data-ready="true"]');
  const result = await page.evaluate(
    ([image, prompt]) =>
      (window as unknown as { runScoring: (...a: unknown[]) => Promise<PageRun> }).runScoring(
        'webgpu',
        [image],
        [prompt],
        1,
        ['fixture-imagereward'],
      ),
    [reference.images[0]!, reference.prompts[0]!] as const,
  );
  const entry = result.packs['fixture-imagereward']!;
  if (entry.backend !== 'webgpu') {
    expect(entry.backend).toBe('wasm');
    expect(entry.fallback).toMatch(/WebGPU/);
    console.warn(`fell back to WASM: ${entry.fallback}`);
  }
  const expected = (reference.packs['fixture-imagereward']!.scores as number[][])[0]![0]!;
  expect(Math.abs(entry.scores![0]! - expected)).toBeLessThan(1e-4);
});
