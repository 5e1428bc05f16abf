/**
 * Speed of the neural engine (a benchmark that prints figures, not a test):
 *
 *   npx tsx scripts/bench-neural.ts [--sizes tiny,medium,hub] [--browser] [--tokens 64]
 *
 * For each fixture pack (tiny: test/fixtures/pack-tiny, 0.18M parameters; medium: a 24M decoder
 * built on demand by scripts/fixtures/build_llm_fixtures.py into test/fixtures/llm-medium, with a
 * pack written to test/fixtures/pack-medium; hub: the curated Qwen2.5-0.5B-Instruct pack, downloaded
 * from the hub test server, i.e. the real tokenizer and 151,936-row vocabulary on a 2.4M-parameter
 * fixture decoder, planning in hybrid mode) it prints greedy decoding tokens/s, the latency of the
 * three stages and the memory a loaded pack takes on onnxruntime-node; with --browser also in headless
 * Chromium through workers/llm.worker.ts on WASM (1 and 2 threads) and WebGPU (SwiftShader here: a
 * correctness path, not a speed one), as a ratio to native. Last, from the curated packs' published
 * sizes and the throughput measured here, an estimate of download size, memory and head-training time
 * for the 8,049-model catalog.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { createNeuralEngine } from '../src/core/engines/neural/index.ts';
import { encodeHeadFile } from '../src/core/engines/neural/manifest.ts';
import { generateGreedy } from '../src/core/engines/neural/session.ts';
import { createHead } from '../src/core/modeltoken.ts';
import { runPipeline } from '../src/core/pipeline.ts';
import { createDefaultEngine } from '../src/core/engines/default/index.ts';
import { createPackEngine } from '../src/core/engines/neural/hybrid.ts';
import { parsePackManifest, type PackManifest } from '../src/core/engines/neural/manifest.ts';
import { trainHead, type TrainingExample } from '../src/core/modeltoken.ts';
import { mulberry32 } from '../src/core/random.ts';
import { loadNodePack, type NodePack } from '../src/node/neural.ts';
import type { NeuralRun, NeuralRunOptions } from './lib/neural-run.ts';
import { HUB_FIXTURES, HubTestServer } from '../test/servers/hub-test-server.ts';
import { tmpdir } from 'node:os';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: 'tiny,medium,hub' },
    browser: { type: 'boolean', default: false },
    tokens: { type: 'string', default: '64' },
  },
});
const maxNewTokens = Number(values.tokens);
const sizes = values.sizes!.split(',').map((s) => s.trim());

const starterDir = path.join(root, 'public/models/starter');
const read = (file: string) => ({ file, text: readFileSync(path.join(starterDir, file), 'utf8') });
const { catalog } = loadCatalog(
  { catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') },
  'starter',
);
const chats = [
  'a red fox in the snow, watercolor',
  'portrait of an old fisherman, photo, dramatic light',
  'cyberpunk city street at night, anime style',
];

/** The medium pack: built on demand (too big to commit); its head is random, which does not change speed. */
function ensureMediumPack(): string {
  const modelDir = path.join(root, 'test/fixtures/llm-medium');
  if (!existsSync(path.join(modelDir, 'onnx/model.onnx'))) {
    const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch, onnx'], { encoding: 'utf8' });
    if (probe.status !== 0) {
      console.error(
        "bench-neural: the medium fixture is built with PyTorch and ONNX under Debian's Python, which this machine lacks" +
          (probe.error ? ' (/usr/bin/python3 is missing)' : ` (${probe.stderr.trim().split('\n').at(-1)})`) +
          '.\nInstall them with:  sudo apt-get install python3-torch python3-onnx\nor run without it:  npx tsx scripts/bench-neural.ts --sizes tiny,hub',
      );
      process.exit(1);
    }
    console.log('building the medium fixture (a few minutes) ...');
    const r = spawnSync('/usr/bin/python3', [path.join(root, 'scripts/fixtures/build_llm_fixtures.py'), 'medium'], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('building the medium fixture failed');
  }
  const packDir = path.join(root, 'test/fixtures/pack-medium');
  mkdirSync(packDir, { recursive: true });
  const tiny = JSON.parse(readFileSync(path.join(root, 'test/fixtures/pack-tiny/manifest.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const dim = (JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { hidden_size: number })
    .hidden_size;
  const head = createHead(
    catalog.models.map((m) => m.id),
    dim,
  );
  let s = 12345;
  head.weights.forEach(
    (_, i) => (head.weights[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296 - 0.5) * 0.02),
  );
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
  /** Resident memory the loaded pack added (MB): onnxruntime's session, weights, tokenizer. */
  memoryMb: number;
  parameters: number;
  /** Tokens per second of one forward pass over a whole context (prefill), the cost of encoding a demonstration for head training. */
  prefillTokensPerSecond: number;
}

const referenceFiles: Record<string, string> = {
  tiny: 'test/fixtures/llm-tiny/reference.json',
  medium: 'test/fixtures/llm-medium/reference.json',
  hub: 'test/fixtures/hub/qwen2.5-0.5b-instruct.reference.json',
};
const referencePrompts = (size: string) => {
  const ref = JSON.parse(readFileSync(path.join(root, referenceFiles[size]!), 'utf8')) as {
    prompts: { input_ids: number[] }[];
  };
  return ref.prompts.map((p) => ({ input_ids: p.input_ids, max_new_tokens: maxNewTokens }));
};

/** The hub test server serving the committed hub fixtures, and a fresh download cache (the first load downloads). */
let hub: { server: HubTestServer; url: string; cacheDir: string } | null = null;
async function hubServer(): Promise<{ server: HubTestServer; url: string; cacheDir: string }> {
  if (!hub) {
    const server = new HubTestServer({ root: HUB_FIXTURES });
    hub = { server, url: await server.listen(), cacheDir: mkdtempSync(path.join(tmpdir(), 'chatgen-bench-hub-')) };
  }
  return hub;
}

async function closeHubServer(): Promise<void> {
  if (!hub) return;
  await hub.server.close();
  rmSync(hub.cacheDir, { recursive: true, force: true });
  hub = null;
}

function parameterCount(size: string): number {
  const dir = { tiny: 'test/fixtures/llm-tiny', medium: 'test/fixtures/llm-medium' }[size];
  const ref = JSON.parse(
    readFileSync(path.join(root, dir ? `${dir}/reference.json` : referenceFiles[size]!), 'utf8'),
  ) as { parameters: number };
  return ref.parameters;
}

async function native(packDir: string, size: string): Promise<NativeFigures> {
  globalThis.gc?.();
  const rssBefore = process.memoryUsage().rss;
  let t = performance.now();
  const pack: NodePack =
    size === 'hub'
      ? await loadNodePack(packDir, { hubUrl: (await hubServer()).url, cacheDir: (await hubServer()).cacheDir })
      : await loadNodePack(packDir);
  const loadMs = performance.now() - t;
  const memoryMb = (process.memoryUsage().rss - rssBefore) / (1 << 20);
  const { session } = pack;
  // Prefill: one pass over a 128-token context, repeated.
  const context = Array.from(
    { length: 128 },
    (_, i) => referencePrompts(size)[0]!.input_ids[i % referencePrompts(size)[0]!.input_ids.length]!,
  );
  let prefillMs = 0;
  for (let rep = 0; rep < 4; rep++) {
    const state = session.begin();
    t = performance.now();
    await state.feed(context);
    if (rep > 0) prefillMs += performance.now() - t;
    state.dispose();
  }
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
  // A pack without a head plans in hybrid mode (its stage 1, the default engine's stages 2 and 3).
  const engine = pack.head
    ? createNeuralEngine({ session, catalog, head: pack.head, pack: pack.manifest })
    : createPackEngine({ session, catalog, head: null, pack: pack.manifest, embedded: createDefaultEngine(catalog) })
        .engine;
  const stages: Record<string, number> = { prompt: 0, model: 0, arguments: 0 };
  for (const chat of chats) {
    const result = await runPipeline(engine, { messages: [chat], images: [] }, { seed: 1 });
    for (const timing of result.timings) stages[timing.stage]! += timing.ms / chats.length;
  }
  await session.dispose();
  return {
    tokensPerSecond: (tokens / ms) * 1000,
    stages,
    loadMs,
    memoryMb,
    parameters: parameterCount(size),
    prefillTokensPerSecond: (3 * 128) / (prefillMs / 1000),
  };
}

async function startVite(port: number): Promise<() => void> {
  const child = spawn(
    'node',
    ['node_modules/vite/bin/vite.js', '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
    { cwd: root, stdio: 'ignore' },
  );
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
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--enable-unsafe-webgpu',
    ],
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
        const prompts = referencePrompts(size)
          .slice(0, slow ? 1 : 3)
          .map((p) => ({ ...p, max_new_tokens: slow ? 8 : p.max_new_tokens }));
        const packUrl = dir.startsWith(path.join(root, 'public'))
          ? `/${path.relative(path.join(root, 'public'), dir)}/`
          : `/${path.relative(root, dir)}/`;
        const hubUrl = size === 'hub' ? { hubUrl: (await hubServer()).url } : {};
        const request = {
          ...options,
          ...hubUrl,
          packUrl,
          prompts,
          repeats: slow ? 1 : 2,
          ...(slow ? {} : { chat: chats[0]! }),
        };
        let run: NeuralRun | null = null;
        // A fresh dev server may reload the page once while it optimises dependencies: retry then.
        for (let attempt = 0; attempt < 3 && !run; attempt++) {
          const page = await browser.newPage();
          try {
            await page.goto(`http://127.0.0.1:${port}/test/browser/pages/neural.html`);
            await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
            run = await page.evaluate(
              (o) => (window as unknown as { runNeural: (o: NeuralRunOptions) => Promise<NeuralRun> }).runNeural(o),
              request,
            );
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
  else if (size === 'hub') packDirs.hub = path.join(root, 'public/models/packs/qwen2.5-0.5b-instruct');
  else throw new Error(`unknown size "${size}"; use tiny, medium and/or hub`);
}
const nativeFigures: Record<string, NativeFigures> = {};
for (const [size, dir] of Object.entries(packDirs)) nativeFigures[size] = await native(dir, size);
const browserFigures = values.browser ? await browserRuns(packDirs) : null;

console.log(
  `\nGreedy decoding, up to ${maxNewTokens} new tokens per prompt (tokens/s), and stage latency (ms, mean of ${chats.length} chats)\n`,
);
console.log(
  '(hub: hybrid planning, so "model" and "arguments" are the default engine\'s stages; load includes the download from the hub test server)\n',
);
console.log(
  '| fixture | parameters | backend | tokens/s | ratio to native | load ms | prompt ms | model ms | arguments ms | memory MB |',
);
console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const size of Object.keys(packDirs)) {
  const n = nativeFigures[size]!;
  console.log(
    `| ${size} | ${(n.parameters / 1e6).toFixed(2)}M | onnxruntime-node (cpu) | ${n.tokensPerSecond.toFixed(0)} | 1.00 | ${n.loadMs.toFixed(0)} | ${n.stages.prompt!.toFixed(0)} | ${n.stages.model!.toFixed(0)} | ${n.stages.arguments!.toFixed(0)} | ${n.memoryMb.toFixed(0)} |`,
  );
  for (const [label, run] of Object.entries(browserFigures?.[size] ?? {})) {
    const tps = browserTokensPerSecond(run);
    const st = run.plan?.stageMs ?? {};
    const backend = `browser ${label} (${run.finalStatus?.backend ?? '?'}, ${run.finalStatus?.dtype ?? '?'})`;
    console.log(
      `| ${size} | | ${backend} | ${tps.toFixed(1)} | ${(tps / n.tokensPerSecond).toFixed(2)} | ${run.loadMs.toFixed(0)} | ${(st.prompt ?? NaN).toFixed(0)} | ${(st.model ?? NaN).toFixed(0)} | ${(st.arguments ?? NaN).toFixed(0)} | |`,
    );
  }
}
await closeHubServer();
await catalogEstimate(nativeFigures, browserFigures);

/**
 * What the curated packs would cost on the full catalog (8,049 models, 39,300 demonstrations), from their
 * published sizes and the speed measured above. Encoding: one forward pass per demonstration (~ 2·P FLOPs
 * per token over a context of CONTEXT_TOKENS), at the FLOP rate the largest fixture reached in prefill.
 * Training: the head's own epochs, timed here on random h of the real width with the project's trainer.
 */
async function catalogEstimate(
  nativeRuns: Record<string, NativeFigures>,
  browser: Record<string, Record<string, NeuralRun>> | null,
): Promise<void> {
  const MODELS = 8049;
  const DEMONSTRATIONS = 39300;
  const CONTEXT_TOKENS = 160;
  const EPOCHS = 60;
  // The fixture that reached the highest FLOP rate in prefill stands for onnxruntime's matmul speed here.
  const flops = (n: NativeFigures) => 2 * n.parameters * n.prefillTokensPerSecond;
  const largest = Object.values(nativeRuns).sort((a, b) => flops(b) - flops(a))[0];
  if (!largest) return;
  const nativeFlops = flops(largest);
  const largestSize = Object.keys(nativeRuns).find((k) => nativeRuns[k] === largest)!;
  const ASSUMED_GPU_FLOPS = 1e12;
  const wasmRatio = browser?.[largestSize]?.['wasm-1']
    ? browserTokensPerSecond(browser[largestSize]!['wasm-1']!) / largest.tokensPerSecond
    : null;
  const packsDir = path.join(root, 'public/models/packs');
  const index = JSON.parse(readFileSync(path.join(packsDir, 'index.json'), 'utf8')) as { packs: string[] };
  const manifests: PackManifest[] = index.packs.map((p) =>
    parsePackManifest(JSON.parse(readFileSync(path.join(packsDir, p, 'manifest.json'), 'utf8'))),
  );
  const hidden: Record<string, { dim: number; parameters: number }> = {
    'Qwen2.5-0.5B-Instruct': { dim: 896, parameters: 494e6 },
    'SmolLM2-360M-Instruct': { dim: 960, parameters: 362e6 },
  };
  console.log(
    `\nEstimate for the ${MODELS.toLocaleString('en')}-model catalog (${DEMONSTRATIONS.toLocaleString('en')} demonstrations, ~${CONTEXT_TOKENS} tokens each, ${EPOCHS} epochs)`,
  );
  console.log(
    `measured here: prefill ${(nativeFlops / 1e9).toFixed(2)} GFLOP/s on onnxruntime-node (${largestSize} fixture)${wasmRatio ? `, browser WASM (1 thread) at ${wasmRatio.toFixed(2)}x native` : ''}\n`,
  );
  console.log(
    '| pack | download (dtype) | memory | head file | encode demonstrations (native, this machine) | encode (browser WASM, this machine) | encode at 1 TFLOP/s (a GPU via WebGPU, assumed) | train head (60 epochs, this machine) |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const m of manifests) {
    const size = hidden[m.name];
    if (!size || !m.listing) continue;
    const dtype = m.dtypes.find((d) => d !== 'fp16' && d !== 'q4f16')!;
    const encodeSeconds = (DEMONSTRATIONS * CONTEXT_TOKENS * 2 * size.parameters) / nativeFlops;
    const trainSeconds = await timeHeadEpochs(size.dim, MODELS, DEMONSTRATIONS, EPOCHS);
    const hours = (s: number) => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : `${(s / 60).toFixed(0)} min`);
    console.log(
      `| ${m.name} | ${m.listing.download_mb[dtype]} MB (${dtype}) | ${m.listing.memory_mb[dtype]} MB | ${((MODELS * size.dim * 4) / (1 << 20)).toFixed(1)} MB | ${hours(encodeSeconds)} | ${wasmRatio ? hours(encodeSeconds / wasmRatio) : 'run with --browser'} | ${hours((encodeSeconds * nativeFlops) / ASSUMED_GPU_FLOPS)} | ${hours(trainSeconds)} |`,
    );
  }
}

/** Times the project's head trainer for one epoch on a slice of random examples and scales it to the catalog. */
async function timeHeadEpochs(dim: number, models: number, demonstrations: number, epochs: number): Promise<number> {
  const random = mulberry32(7);
  const sample = 400;
  const modelIds = Array.from({ length: models }, (_, i) => i + 1);
  const examples: TrainingExample[] = Array.from({ length: sample }, (_, i) => ({
    h: Float32Array.from({ length: dim }, () => random() - 0.5),
    vocabLogSumExp: 10,
    modelId: modelIds[i % models]!,
  }));
  const started = performance.now();
  await trainHead(createHead(modelIds, dim), examples, { epochs: 1 });
  const perExample = (performance.now() - started) / 1000 / sample;
  return perExample * demonstrations * epochs;
}
