/**
 * Drives the LLM host (the LLM worker's, with test hooks: ./llm-test.worker.ts) over the tiny test pack; test/browser/neural.spec.ts and
 * scripts/bench-neural.ts call window.runNeural and compare or time what it returns.
 */
import * as Comlink from 'comlink';
import type { PipelineEvent } from '../../../src/core/pipeline.ts';
import type { NeuralRun, NeuralRunOptions } from '../../../scripts/lib/neural-run.ts';
import type { LlmLoadProgress } from '../../../workers/llm-api.ts';
import type { LlmTestHost } from './llm-test.worker.ts';

async function runNeural(options: NeuralRunOptions): Promise<NeuralRun> {
  const worker = new Worker(new URL('./llm-test.worker.ts', import.meta.url), { type: 'module' });
  const api = Comlink.wrap<LlmTestHost>(worker);
  const progress: LlmLoadProgress[] = [];
  try {
    await api.configure({
      wasmPaths: {
        mjs: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.mjs',
        wasm: '/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.asyncify.wasm',
      },
      prefer: options.prefer,
      numThreads: options.numThreads ?? 1,
      ...(options.hubUrl ? { hubUrl: options.hubUrl } : {}),
    });
    let started = performance.now();
    const loadStatus = await api.load(
      options.packUrl ?? '/test/fixtures/pack-tiny/',
      Comlink.proxy((p: LlmLoadProgress) => void progress.push(p)),
    );
    const loadMs = performance.now() - started;
    if (options.loseDevice) await api.loseGpuDevice();
    const outputs: NeuralRun['outputs'] = [];
    for (let r = 0; r < (options.repeats ?? 1); r++) {
      for (const p of options.prompts) {
        started = performance.now();
        const out = await api.generate(p.input_ids, p.max_new_tokens);
        outputs.push({ ids: out.ids, backend: out.backend, ms: performance.now() - started });
      }
    }
    const run: NeuralRun = { loadStatus, finalStatus: await api.status(), outputs, progress, loadMs };
    if (options.chat) {
      const read = async (file: string) => ({ file, text: await (await fetch(`/models/starter/${file}`)).text() });
      const catalog = { catalog: await read('catalog.jsonl'), demonstrations: await read('demonstrations.jsonl') };
      let streamed = 0;
      const stageMs: Record<string, number> = {};
      const result = await api.plan(
        { messages: [options.chat], images: [] },
        catalog,
        { seed: 7 },
        Comlink.proxy((e: PipelineEvent) => {
          if (e.type !== 'stage-start') stageMs[e.type] = e.ms;
        }),
        Comlink.proxy(() => void streamed++),
      );
      run.plan = {
        valid: true,
        prompt: result.plan.prompt,
        model: result.plan.model.name,
        arguments: result.plan.arguments,
        streamed,
        stageMs,
      };
    }
    await api.unload();
    return run;
  } finally {
    worker.terminate();
  }
}

(window as unknown as { runNeural: typeof runNeural }).runNeural = runNeural;
document.body.dataset.ready = 'true';
