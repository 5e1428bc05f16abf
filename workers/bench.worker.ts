/// <reference lib="webworker" />
/**
 * The bench worker: a thin comlink adapter over src/core/bench, running the same benchmark as
 * `npm run bench` over files the user picked, off the page's thread.
 */
import * as Comlink from 'comlink';
import { BENCH_ENGINE_FACTORIES, buildBenchEngines, parseEngineList } from '../src/core/bench/engines.ts';
import { loadBenchItems } from '../src/core/bench/items.ts';
import { metricsTable, perArgumentTable } from '../src/core/bench/report.ts';
import { runBench } from '../src/core/bench/run.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import type { BenchRunOutcome, BenchRunProgress, BenchRunRequest, BenchWorkerApi } from './bench-api.ts';

let running: AbortController | null = null;

const api: BenchWorkerApi = {
  engines: () => Object.keys(BENCH_ENGINE_FACTORIES),

  async run(request: BenchRunRequest, onProgress: (progress: BenchRunProgress) => void): Promise<BenchRunOutcome> {
    if (running) throw new Error('a benchmark is already running');
    const controller = new AbortController();
    running = controller;
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
        { catalog: await read(request.catalog), ...(request.demonstrations ? { demonstrations: await read(request.demonstrations) } : {}) },
        request.catalog.name,
        onProgress,
      );
      const itemsText = await read(request.items);
      const allItems = loadBenchItems(itemsText.text, itemsText.file);
      const items = request.limit === undefined ? allItems : allItems.slice(0, request.limit);
      const engines = [];
      for (const name of engineNames) {
        onProgress({ phase: 'building', engine: name });
        engines.push(...(await buildBenchEngines([name], catalog)));
      }
      const result = await runBench({
        items,
        itemsFile: request.items.name,
        catalog,
        engines,
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
      };
    } finally {
      running = null;
    }
  },

  cancel() {
    running?.abort();
  },
};

Comlink.expose(api);
