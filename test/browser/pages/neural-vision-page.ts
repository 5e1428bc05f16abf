/**
 * Runs stage 1 of the neural engine in workers/llm.worker.ts with reference images, for
 * test/browser/neural-vision.spec.ts: a vision-language pack reads them, a text pack says it did not.
 */
import { loadCatalog } from '../../../src/core/catalog/load.ts';
import { mergeTurns, type ReferenceImage } from '../../../src/core/chat.ts';
import type { PromptResult } from '../../../src/core/engines/engine.ts';
import type { LlmStatus } from '../../../workers/llm-api.ts';
import { startLlmWorker } from '../../../src/runtime/workers.ts';

export interface VisionRunOptions {
  packUrl: string;
  message: string;
  /** Each entry is one stage 1 run with these image URLs (fetched here and passed as data: URLs). */
  imageSets: string[][];
  /** The Model hub URL for a pack with base_model.hub_id (the hub test server). */
  hubUrl?: string;
}

export interface VisionRun {
  status: LlmStatus;
  results: Pick<PromptResult, 'prompt' | 'negative_prompt'>[];
  notes: string[][];
}

async function asDataUrl(url: string): Promise<ReferenceImage> {
  const blob = await (await fetch(url)).blob();
  const source = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result as string);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
  return { source, mime: blob.type };
}

async function runVision(options: VisionRunOptions): Promise<VisionRun> {
  const { worker, api } = startLlmWorker();
  try {
    await api.configure({
      wasmPaths: {
        mjs: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs',
        wasm: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm',
      },
      prefer: 'wasm',
      numThreads: 1,
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    });
    const status = await api.load(options.packUrl);
    const read = async (file: string) => ({ file, text: await (await fetch(`/models/starter/${file}`)).text() });
    await api.useCatalog(
      loadCatalog(
        { catalog: await read('catalog.jsonl'), demonstrations: await read('demonstrations.jsonl') },
        'starter',
      ).catalog,
    );
    const run: VisionRun = { status, results: [], notes: [] };
    for (const urls of options.imageSets) {
      const images = await Promise.all(urls.map(asDataUrl));
      const result = await api.writePrompt({
        input: { messages: [options.message], images },
        merged: mergeTurns([options.message]),
      });
      run.results.push({ prompt: result.prompt, negative_prompt: result.negative_prompt });
      run.notes.push(result.evidence.notes);
    }
    await api.unload();
    return run;
  } finally {
    worker.terminate();
  }
}

(window as unknown as { runVision: typeof runVision }).runVision = runVision;
document.body.dataset.ready = 'true';
