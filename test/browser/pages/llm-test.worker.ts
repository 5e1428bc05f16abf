/// <reference lib="webworker" />
/**
 * The LLM worker with test hooks, for test/browser/neural.spec.ts and scripts/bench-neural.ts: the
 * production LLM host plus greedy decoding from token ids, a whole-pipeline run over a catalog handed in,
 * and a way to lose the WebGPU device as a driver crash would. None of this is in the app's protocol.
 */
import * as Comlink from 'comlink';
import { loadCatalog, type CatalogTexts } from '../../../src/core/catalog/load.ts';
import type { ChatInput } from '../../../src/core/chat.ts';
import { createDefaultEngine } from '../../../src/core/engines/default/index.ts';
import { createPackEngine } from '../../../src/core/engines/neural/hybrid.ts';
import type { LlmBackend } from '../../../src/core/engines/neural/runtime-api.ts';
import { generateGreedy } from '../../../src/core/engines/neural/session.ts';
import { runPipeline, type PipelineEvent, type PlanResult } from '../../../src/core/pipeline.ts';
import { LlmHost } from '../../../src/runtime/llm-host.ts';
import { headStore } from '../../../src/storage/heads.ts';

export interface LlmGenerateResult {
  ids: number[];
  text: string;
  backend: LlmBackend;
}

export class LlmTestHost extends LlmHost {
  /** Greedy decoding from token ids. */
  generate(inputIds: number[], maxNewTokens: number, onText?: (text: string) => void): Promise<LlmGenerateResult> {
    return this.withSession(async (l, signal) => {
      const out = await generateGreedy(l.session, inputIds, { maxNewTokens, signal, ...(onText ? { onText } : {}) });
      return { ids: out.ids, text: out.text, backend: l.status.backend };
    });
  }

  /** Runs the three stages with the loaded pack over a catalog. */
  plan(
    input: ChatInput,
    catalogTexts: CatalogTexts,
    options: { seed?: number; allowedModelIds?: number[] },
    onEvent?: (e: PipelineEvent) => void,
    onPromptText?: (t: string) => void,
  ): Promise<PlanResult> {
    const { catalog } = loadCatalog(catalogTexts, 'worker');
    return this.withSession((l, signal) => {
      // A head that cannot choose among this catalog's models: hybrid planning with the default engine.
      const { engine } = createPackEngine({
        session: l.session,
        catalog,
        head: l.pack.head,
        pack: l.pack.manifest,
        embedded: createDefaultEngine(catalog),
        ...(onPromptText ? { onPromptText } : {}),
      });
      return runPipeline(engine, input, {
        signal,
        ...(onEvent ? { onEvent } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.allowedModelIds ? { allowedModelIds: new Set(options.allowedModelIds) } : {}),
      });
    });
  }

  /** Destroys the WebGPU device as a driver crash would (the fallback test). */
  async loseGpuDevice(): Promise<boolean> {
    if (!this.gpuDevice) return false;
    const device = this.gpuDevice;
    device.destroy();
    await device.lost;
    return true;
  }
}

Comlink.expose(new LlmTestHost(headStore()));
