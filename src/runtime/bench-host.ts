/// <reference lib="webworker" />
/**
 * The bench host: what workers/bench.worker.ts serves. It runs the same benchmark as `npm run bench`
 * (src/core/bench) over files the user picked, off the page's thread. The neural engine runs the model
 * pack chosen in Settings (opened by ./pack-loader.ts, with the head trained in this browser when there
 * is one), so the table compares the engines the user actually has.
 */
import { env } from '@huggingface/transformers';
import type {
  BenchNeuralRuntime,
  BenchRunOutcome,
  BenchRunProgress,
  BenchRunRequest,
  BenchWorkerApi,
} from '../../workers/bench-api.ts';
import { buildBenchEngines, parseEngineList, type BenchEngineInputs } from '../core/bench/engines.ts';
import { loadBenchItems } from '../core/bench/items.ts';
import { metricsTable, perArgumentTable } from '../core/bench/report.ts';
import { runBench } from '../core/bench/run.ts';
import { loadCatalog } from '../core/catalog/load.ts';
import { loadBertEmbedder } from '../core/metrics/bert-embedder.ts';
import { BertScorer } from '../core/metrics/bertscore.ts';
import type { HeadStore } from '../storage/heads.ts';
import { openPack, savedHead, type OpenedPack } from './pack-loader.ts';

export interface BenchHostOptions {
  /** onnxruntime-web's WASM build as the app serves it (transformers.js would otherwise fetch it from a CDN). */
  wasmPaths: { mjs: string; wasm: string };
  /** Heads trained in this browser, one of which replaces a pack's own head. */
  heads: HeadStore;
}

interface OpenedNeural {
  opened: OpenedPack;
  inputs: BenchEngineInputs;
  runtime: BenchNeuralRuntime;
}

export class BenchHost implements BenchWorkerApi {
  private running: AbortController | null = null;

  constructor(private readonly options: BenchHostOptions) {}

  async run(request: BenchRunRequest, onProgress: (progress: BenchRunProgress) => void): Promise<BenchRunOutcome> {
    if (this.running) throw new Error('a benchmark is already running');
    const controller = new AbortController();
    this.running = controller;
    let neural: OpenedNeural | null = null;
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
        neural = await this.openNeuralPack(request.neuralPack, onProgress);
      }
      const engines = [];
      for (const name of engineNames) {
        onProgress({ phase: 'building', engine: name });
        engines.push(...(await buildBenchEngines([name], catalog, neural?.inputs)));
      }
      let bert: BertScorer | undefined;
      if (request.bert) {
        onProgress({ phase: 'bert', model: request.bert.modelUrl });
        bert = await this.bertScorer(
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
      this.running = null;
      await neural?.opened.session.dispose().catch(() => undefined);
    }
  }

  cancel(): void {
    this.running?.abort();
  }

  /** Loads the BERT model at a folder URL ("/models/bert-base" -> base "/models/", id "bert-base") on WASM. */
  private async bertScorer(modelUrl: string, idf: boolean, references: string[]): Promise<BertScorer> {
    const trimmed = modelUrl.trim().replace(/\/+$/, '');
    const cut = trimmed.lastIndexOf('/');
    if (trimmed === '' || cut === trimmed.length - 1) throw new Error(`not a model folder URL: "${modelUrl}"`);
    env.backends.onnx.wasm!.wasmPaths = this.options.wasmPaths;
    env.backends.onnx.wasm!.numThreads = 1;
    const embedder = await loadBertEmbedder({
      localModelPath: trimmed.slice(0, cut + 1) || '/',
      modelId: trimmed.slice(cut + 1),
      device: 'wasm',
    });
    return BertScorer.create(embedder, references, { idf });
  }

  /** Opens the pack for the neural engine; a head trained for it in this browser replaces the pack's own. */
  private async openNeuralPack(
    pack: NonNullable<BenchRunRequest['neuralPack']>,
    onProgress: (p: BenchRunProgress) => void,
  ): Promise<OpenedNeural> {
    const url = new URL(pack.url, self.location.href).href;
    const opened = await openPack(
      url,
      { wasmPaths: this.options.wasmPaths, prefer: pack.prefer, numThreads: 1 },
      (p) => onProgress({ phase: 'pack', ...p }),
      pack.hubUrl ? { hubUrl: pack.hubUrl } : {},
    );
    const trained = await savedHead(this.options.heads, url, opened.session.hiddenSize);
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
}
