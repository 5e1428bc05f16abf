import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { validateArguments, type GenerationArguments } from '../../src/core/plan.ts';
import type { NeuralRun, NeuralRunOptions } from '../../scripts/lib/neural-run.ts';

const reference = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../fixtures/llm-tiny/reference.json'), 'utf8'),
) as {
  prompts: { input_ids: number[]; greedy_ids: number[] }[];
};
const EOS = 691;
const prompts = reference.prompts.map((p) => ({ input_ids: p.input_ids, max_new_tokens: p.greedy_ids.length }));
const expected = reference.prompts.map((p) => (p.greedy_ids.at(-1) === EOS ? p.greedy_ids.slice(0, -1) : p.greedy_ids));

async function run(page: Page, options: Omit<NeuralRunOptions, 'prompts'>): Promise<NeuralRun> {
  page.on('console', (m) => m.type() === 'error' && console.warn(`[page] ${m.text()}`));
  await page.goto('/test/browser/pages/neural.html');
  await page.waitForSelector('body[data-ready="true"]');
  return page.evaluate(
    (o) => (window as unknown as { runNeural: (o: NeuralRunOptions) => Promise<NeuralRun> }).runNeural(o),
    { ...options, prompts },
  );
}

test('LLM worker on WASM: graph-edited tiny pack reproduces the torch tokens and plans a valid job', async ({
  page,
}) => {
  const result = await run(page, { prefer: 'wasm', chat: 'a red fox in the snow, watercolor' });
  expect(result.loadStatus).toMatchObject({ backend: 'wasm', dtype: 'fp32', notice: null, pack: 'tiny-test' });
  expect(result.outputs.map((o) => o.ids)).toEqual(expected);
  // The decoder's bytes were reported as they arrived (the graph edit reads them itself).
  expect(result.progress.some((p) => p.file === 'onnx/model.onnx' && p.total !== null && p.loaded === p.total)).toBe(
    true,
  );
  expect(result.plan!.streamed).toBeGreaterThan(1);
  expect(validateArguments(result.plan!.arguments as GenerationArguments)).toEqual([]);
});

test('LLM worker on WebGPU (SwiftShader) reproduces the torch tokens', async ({ page }) => {
  const result = await run(page, { prefer: 'webgpu' });
  expect(result.loadStatus.backend, result.loadStatus.notice ?? '').toBe('webgpu');
  expect(result.loadStatus.shaderF16).toBe(false);
  expect(result.outputs.map((o) => o.ids)).toEqual(expected);
  expect(result.outputs.every((o) => o.backend === 'webgpu')).toBe(true);
});

test('a lost WebGPU device falls back to WASM with a notice, and decoding still matches', async ({ page }) => {
  const result = await run(page, { prefer: 'webgpu', loseDevice: true });
  expect(result.loadStatus.backend).toBe('webgpu');
  expect(result.finalStatus!.backend).toBe('wasm');
  expect(result.finalStatus!.notice).toMatch(
    /WebGPU device was lost.*switched to WASM|WebGPU failed during the run.*switched to WASM/,
  );
  expect(result.outputs.map((o) => o.ids)).toEqual(expected);
  expect(result.outputs.every((o) => o.backend === 'wasm')).toBe(true);
});
