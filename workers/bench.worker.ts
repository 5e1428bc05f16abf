/// <reference lib="webworker" />
/**
 * The bench worker: a thin comlink adapter over src/core/bench, running the same benchmark as
 * `npm run bench` over files the user picked, off the page's thread. The neural engine runs the model
 * pack chosen in Settings (opened here by src/runtime/pack-loader.ts, with the head trained in this browser
 * when there is one), so the table compares the engines the user actually has.
 */
import { env } from '@huggingface/transformers';
import * as Comlink from 'comlink';
// onnxruntime-web's WASM build, served by the app itself: transformers.js would otherwise fetch it from a CDN.
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { buildBenchEngines, parseEngineList, type BenchEngineInputs } from '../src/core/bench/engines.ts';
import { loadBenchItems } from '../src/core/bench/items.ts';
import { metricsTable, perArgumentTable } from '../src/core/bench/report.ts';
import { runBench } from '../src/core/bench/run.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { loadBertEmbedder } from '../src/core/metrics/bert-embedder.ts';
import { BertScorer } from '../src/core/metrics/bertscore.ts';
import type {
  BenchNeuralRuntime,
  BenchRunOutcome,
  BenchRunProgress,
  BenchRunRequest,
  BenchWorkerApi,
} from './bench-api.ts';
import { openPack, savedHead, type OpenedPack } from '../src/runtime/pack-loader.ts';
import { headStore } from '../src/storage/heads.ts';

let running: AbortController | null = null;

/** Loads the BERT model at a folder URL ("/models/bert-base" -> base "/models/", id "bert-base") on WASM. */
async function bertScorer(modelUrl: string, idf: boolean, references: string[]): Promise<BertScorer> {
  const trimmed = modelUrl.trim().replace(/\/+$/, '');
  const cut = trimmed.lastIndexOf('/');
  if (trimmed === '' || cut === trimmed.length - 1) throw new Error(`not a model folder URL: "${modelUrl}"`);
  env.backends.onnx.wasm!.wasmPaths = { mjs: ortWasmMjs, wasm: ortWasm };
  env.backends.onnx.wasm!.numThreads = 1;
  const embedder = await loadBertEmbedder({
    localModelPath: trimmed.slice(0, cut + 1) || '/',
    modelId: trimmed.slice(cut + 1),
    device: 'wasm',
  });
  return BertScorer.create(embedder, references, { idf });
}

/** Opens the pack for the neural engine; a head trained for it in this browser replaces the pack's own. */
async function openNeuralPack(
  pack: NonNullable<BenchRunRequest['neuralPack']>,
  onProgress: (p: BenchRunProgress) => void,
): Promise<{ opened: OpenedPack; inputs: BenchEngineInputs; runtime: BenchNeuralRuntime }> {
  const url = new URL(pack.url, self.location.href).href;
  const opened = await openPack(
    url,
    { wasmPaths: { mjs: ortWasmMjs, wasm: ortWasm }, prefer: pack.prefer, numThreads: 1 },
    (p) => onProgress({ phase: 'pack', ...p }),
    pack.hubUrl ? { hubUrl: pack.hubUrl } : {},
  );
  const trained = await savedHead(headStore(), url, opened.session.hiddenSize);
  const head = trained?.head ?? opened.pack.head;
  return {
    opened,
    inputs: { neuralPack: { session: opened.session, head, manifest: opened.pack.manifest } },
    runtime: {
      pack: opened.pack.manifest.name,
      backend: opened.backend,
      dtype: opened.session.dtype,
      notice: opened.notice,
      head: trained ? 'trained' : 'pack',
    },
  };
}

const api: BenchWorkerApi = {
  async run(request: BenchRunRequest, onProgress: (progress: BenchRunProgress) => void): Promise<BenchRunOutcome> {
    if (running) throw new Error('a benchmark is already running');
    const controller = new AbortController();
    running = controller;
    let neural: Awaited<ReturnType<typeof openNeuralPack>> | null = null;
    try {
      const started = performance.now();
      const engineNames = parseEngineList(request.engines.join(','));
      if (request.limit !== undefined && !(Number.isInteger(request.limit) && request.limit >= 1)) {
        throw new Error(`the item limit must be a whole number of at least 1, got ${request.limit}`);
      }
      const read = async (f: { name: string; file: Blob }) => {
        onProgress({ phase: 'reading', file: f.name });
        return { file: f.name, text: await f.file.text() };
      };
      const { catalog, errors } = loadCatalog(
        {
          catalog: await read(request.catalog),
          ...(request.demonstrations ? { demonstrations: await read(request.demonstrations) } : {}),
        },
        request.catalog.name,
        onProgress,
      );
      const itemsText = await read(request.items);
      const allItems = loadBenchItems(itemsText.text, itemsText.file);
      const items = request.limit === undefined ? allItems : allItems.slice(0, request.limit);
      if (engineNames.includes('neural')) {
        if (!request.neuralPack)
          throw new Error('the neural engine needs a model pack: choose one in Settings → Engine');
        neural = await openNeuralPack(request.neuralPack, onProgress);
      }
      const engines = [];
      for (const name of engineNames) {
        onProgress({ phase: 'building', engine: name });
        engines.push(...(await buildBenchEngines([name], catalog, neural?.inputs)));
      }
      let bert: BertScorer | undefined;
      if (request.bert) {
        onProgress({ phase: 'bert', model: request.bert.modelUrl });
        bert = await bertScorer(
          request.bert.modelUrl,
          request.bert.idf,
          items.map((i) => i.gold.prompt),
        );
      }
      const result = await runBench({
        items,
        itemsFile: request.items.name,
        catalog,
        engines,
        ...(bert ? { bert } : {}),
        signal: controller.signal,
        onProgress: (p) => onProgress({ phase: 'running', ...p }),
      });
      return {
        report: result.report,
        tables: { metrics: metricsTable(result.report), perArgument: perArgumentTable(result.report) },
        predictionsJsonl: result.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n',
        catalogErrors: errors,
        itemsRun: items.length,
        itemsInFile: allItems.length,
        ms: performance.now() - started,
        neural: neural?.runtime ?? null,
      };
    } finally {
      running = null;
      await neural?.opened.session.dispose().catch(() => undefined);
    }
  },

  cancel() {
    running?.abort();
  },
};

Comlink.expose(api);
