/**
 * Speed of the neural engine (a benchmark that prints figures, not a test):
 *
 *   npx tsx scripts/bench-neural.ts [--sizes tiny,medium] [--browser] [--tokens 64]
 *
 * For each fixture pack (tiny: test/fixtures/pack-tiny, 0.18M parameters; medium: a 24M decoder
 * built on demand by scripts/fixtures/build_llm_fixtures.py into test/fixtures/llm-medium, with a
 * pack written to test/fixtures/pack-medium) it prints greedy decoding tokens/s and the latency of
 * the three stages on onnxruntime-node; with --browser also in headless Chromium through
 * workers/llm.worker.ts on WASM (1 and 2 threads) and WebGPU (SwiftShader here: a correctness path,
 * not a speed one), with browser WASM as a ratio of native.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { createNeuralEngine } from '../src/core/engines/neural/index.ts';
import { encodeHeadFile } from '../src/core/engines/neural/manifest.ts';
import { generateGreedy } from '../src/core/engines/neural/session.ts';
import { createHead } from '../src/core/modeltoken.ts';
import { runPipeline } from '../src/core/pipeline.ts';
import { loadNodePack } from '../src/node/neural.ts';
import type { NeuralRun, NeuralRunOptions } from './lib/neural-run.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { sizes: { type: 'string', default: 'tiny,medium' }, browser: { type: 'boolean', default: false }, tokens: { type: 'string', default: '64' } },
});
const maxNewTokens = Number(values.tokens);
const sizes = values.sizes!.split(',').map((s) => s.trim());

const starterDir = path.join(root, 'public/models/starter');
const read = (file: string) => ({ file, text: readFileSync(path.join(starterDir, file), 'utf8') });
const { catalog } = loadCatalog({ catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') }, 'starter');
const chats = ['a red fox in the snow, watercolor', 'portrait of an old fisherman, photo, dramatic light', 'cyberpunk city street at night, anime style'];

/** The medium pack: built on demand (too big to commit); its head is random, which does not change speed. */
function ensureMediumPack(): string {
  const modelDir = path.join(root, 'test/fixtures/llm-medium');
  if (!existsSync(path.join(modelDir, 'onnx/model.onnx'))) {
    console.log('building the medium fixture (a few minutes) ...');
    const r = spawnSync('/usr/bin/python3', [path.join(root, 'scripts/fixtures/build_llm_fixtures.py'), 'medium'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error('building the medium fixture failed');
  }
  const packDir = path.join(root, 'test/fixtures/pack-medium');
  mkdirSync(packDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(path.join(root, 'test/fixtures/pack-tiny/manifest.json'), 'utf8')) as Record<string, unknown>;
  const dim = (JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { hidden_size: number }).hidden_size;
  const head = createHead(catalog.models.map((m) => m.id), dim);
  let s = 12345;
  head.weights.forEach((_, i) => (head.weights[i] = (((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296) - 0.5) * 0.02));
  writeFileSync(path.join(packDir, 'head.f32'), encodeHeadFile(head));
  const manifest = {
    ...tiny,
    name: 'medium-bench',
    description: 'The 24M benchmark decoder (exported with its hidden state) and a random head.',
    base_model: { path: '../llm-medium' },
    hidden_state_output: 'last_hidden_state',
    head: { file: 'head.f32', dim, model_ids: head.modelIds },
  };
  writeFileSync(path.join(packDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return packDir;
}

interface NativeFigures {
  tokensPerSecond: number;
  stages: Record<string, number>;
  loadMs: number;
}

const referencePrompts = (size: string) => {
  const dir = size === 'tiny' ? 'llm-tiny' : 'llm-medium';
  const ref = JSON.parse(readFileSync(path.join(root, 'test/fixtures', dir, 'reference.json'), 'utf8')) as { prompts: { input_ids: number[] }[] };
  return ref.prompts.map((p) => ({ input_ids: p.input_ids, max_new_tokens: maxNewTokens }));
};

async function native(packDir: string, size: string): Promise<NativeFigures> {
  let t = performance.now();
  const pack = await loadNodePack(packDir);
  const loadMs = performance.now() - t;
  const { session } = pack;
  let tokens = 0;
  let ms = 0;
  for (let rep = 0; rep < 2; rep++) {
    for (const p of referencePrompts(size)) {
      t = performance.now();
      const out = await generateGreedy(session, p.input_ids, { maxNewTokens });
      if (rep > 0) {
        ms += performance.now() - t;
        tokens += out.ids.length + 1;
      }
    }
  }
  const engine = createNeuralEngine({ session, catalog, head: pack.head, pack: pack.manifest });
  const stages: Record<string, number> = { prompt: 0, model: 0, arguments: 0 };
  for (const chat of chats) {
    const result = await runPipeline(engine, { messages: [chat], images: [] }, { seed: 1 });
    for (const timing of result.timings) stages[timing.stage]! += timing.ms / chats.length;
  }
  await session.dispose();
  return { tokensPerSecond: (tokens / ms) * 1000, stages, loadMs };
}

async function startVite(port: number): Promise<() => void> {
  const child = spawn('node', ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', String(port), '--strictPort'], { cwd: root, stdio: 'ignore' });
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/`)).ok) return () => child.kill();
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  child.kill();
  throw new Error('the Vite dev server did not start');
}

async function browserRuns(packDirs: Record<string, string>): Promise<Record<string, Record<string, NeuralRun>>> {
  const { chromium } = await import('@playwright/test');
  const port = 5199;
  const stopVite = await startVite(port);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-unsafe-webgpu'],
  });
  const out: Record<string, Record<string, NeuralRun>> = {};
  try {
    for (const [size, dir] of Object.entries(packDirs)) {
      out[size] = {};
      const configs: [string, Omit<NeuralRunOptions, 'prompts'>][] = [
        ['wasm-1', { prefer: 'wasm', numThreads: 1 }],
        ['wasm-2', { prefer: 'wasm', numThreads: 2 }],
        ['webgpu', { prefer: 'webgpu' }],
      ];
      for (const [label, options] of configs) {
        // WebGPU on SwiftShader decodes the 24M model at under 1 token/s: one short prompt is enough there.
        const slow = label === 'webgpu' && size !== 'tiny';
        const prompts = referencePrompts(size).slice(0, slow ? 1 : 3).map((p) => ({ ...p, max_new_tokens: slow ? 8 : p.max_new_tokens }));
        const request = { ...options, packUrl: `/${path.relative(root, dir)}/`, prompts, repeats: slow ? 1 : 2, ...(slow ? {} : { chat: chats[0]! }) };
        let run: NeuralRun | null = null;
        // A fresh dev server may reload the page once while it optimises dependencies: retry then.
        for (let attempt = 0; attempt < 3 && !run; attempt++) {
          const page = await browser.newPage();
          try {
            await page.goto(`http://127.0.0.1:${port}/test/browser/pages/neural.html`);
            await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
            run = await page.evaluate((o) => (window as unknown as { runNeural: (o: NeuralRunOptions) => Promise<NeuralRun> }).runNeural(o), request);
          } catch (err) {
            if (!String(err).includes('Execution context was destroyed')) throw err;
          } finally {
            await page.close();
          }
        }
        if (!run) throw new Error(`the ${label} run kept being interrupted by page reloads`);
        out[size]![label] = run;
      }
    }
  } finally {
    await browser.close();
    stopVite();
  }
  return out;
}

function browserTokensPerSecond(run: NeuralRun): number {
  // The first pass over the prompts warms the session up; later passes are timed.
  const timed = run.outputs.length > 3 ? run.outputs.slice(3) : run.outputs;
  const tokens = timed.reduce((s, o) => s + o.ids.length + 1, 0);
  const ms = timed.reduce((s, o) => s + o.ms, 0);
  return (tokens / ms) * 1000;
}

const packDirs: Record<string, string> = {};
for (const size of sizes) {
  if (size === 'tiny') packDirs.tiny = path.join(root, 'test/fixtures/pack-tiny');
  else if (size === 'medium') packDirs.medium = ensureMediumPack();
  else throw new Error(`unknown size "${size}"; use tiny and/or medium`);
}
const nativeFigures: Record<string, NativeFigures> = {};
for (const [size, dir] of Object.entries(packDirs)) nativeFigures[size] = await native(dir, size);
const browserFigures = values.browser ? await browserRuns(packDirs) : null;

console.log(`\nGreedy decoding, up to ${maxNewTokens} new tokens per prompt (tokens/s), and stage latency (ms, mean of ${chats.length} chats)\n`);
console.log('| fixture | backend | tokens/s | ratio to native | load ms | prompt ms | model ms | arguments ms |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of Object.keys(packDirs)) {
  const n = nativeFigures[size]!;
  console.log(`| ${size} | onnxruntime-node (cpu) | ${n.tokensPerSecond.toFixed(0)} | 1.00 | ${n.loadMs.toFixed(0)} | ${n.stages.prompt!.toFixed(0)} | ${n.stages.model!.toFixed(0)} | ${n.stages.arguments!.toFixed(0)} |`);
  for (const [label, run] of Object.entries(browserFigures?.[size] ?? {})) {
    const tps = browserTokensPerSecond(run);
    const st = run.plan?.stageMs ?? {};
    const backend = `browser ${label} (${run.finalStatus?.backend ?? '?'}, ${run.finalStatus?.dtype ?? '?'})`;
    console.log(
      `| ${size} | ${backend} | ${tps.toFixed(1)} | ${(tps / n.tokensPerSecond).toFixed(2)} | ${run.loadMs.toFixed(0)} | ${(st.prompt ?? NaN).toFixed(0)} | ${(st.model ?? NaN).toFixed(0)} | ${(st.arguments ?? NaN).toFixed(0)} |`,
    );
  }
}
