/**
 * The planner: one catalog, one engine built over it, and a plan cache. The engine worker is a thin
 * adapter over this class, and Node code (tests, CLIs) can use it directly with any cache.
 */
import type { ChatInput } from './chat.ts';
import type { Catalog } from './catalog/types.ts';
import type { Engine } from './engines/engine.ts';
import { planCacheKey, runPipeline, type PipelineEvent, type PlanResult } from './pipeline.ts';

export interface PlanCache {
  get(key: string): Promise<PlanResult | undefined>;
  put(key: string, result: PlanResult): Promise<void>;
}

export interface PlanRequestOptions {
  /** Only these catalog model ids may be chosen (e.g. those installed on the endpoint). */
  allowedModelIds?: number[];
  /** A fixed seed instead of the one derived from the chat. */
  seed?: number;
}

export interface PlanOutcome {
  result: PlanResult;
  cacheKey: string;
  /** True when the plan came from the cache rather than from running the stages. */
  cached: boolean;
}

export interface CatalogSummary {
  source: string;
  version: string;
  models: number;
  demonstrations: number;
  checkpoints: number;
  loras: number;
}

export function summariseCatalog(catalog: Catalog): CatalogSummary {
  const checkpoints = catalog.models.filter((m) => m.type === 'Checkpoint').length;
  return {
    source: catalog.source,
    version: catalog.version,
    models: catalog.models.length,
    demonstrations: catalog.demonstrations.length,
    checkpoints,
    loras: catalog.models.length - checkpoints,
  };
}

export class Planner {
  constructor(
    readonly catalog: Catalog,
    readonly engine: Engine,
    private readonly cache: PlanCache | null,
  ) {}

  cacheKey(input: ChatInput, options: PlanRequestOptions): string {
    const normalisedOptions = {
      allowed: options.allowedModelIds ? [...options.allowedModelIds].sort((a, b) => a - b) : null,
      seed: options.seed ?? null,
    };
    return planCacheKey(input, this.engine, this.catalog.version, normalisedOptions);
  }

  /**
   * Plans a chat. A cached plan is replayed through `onEvent` as if the stages had just run, so the
   * UI shows it the same way, and is marked `cached`.
   */
  async plan(
    input: ChatInput,
    options: PlanRequestOptions = {},
    onEvent?: (event: PipelineEvent) => void,
    signal?: AbortSignal,
  ): Promise<PlanOutcome> {
    const cacheKey = this.cacheKey(input, options);
    const hit = await this.cache?.get(cacheKey);
    if (hit) {
      const [prompt, model, args] = hit.timings;
      onEvent?.({ type: 'prompt', result: hit.prompt, ms: prompt?.ms ?? 0 });
      onEvent?.({ type: 'model', result: hit.model, ms: model?.ms ?? 0 });
      onEvent?.({ type: 'arguments', result: hit.arguments, ms: args?.ms ?? 0 });
      return { result: hit, cacheKey, cached: true };
    }
    const pipelineOptions = {
      ...(signal ? { signal } : {}),
      ...(onEvent ? { onEvent } : {}),
      ...(options.allowedModelIds ? { allowedModelIds: new Set(options.allowedModelIds) } : {}),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
    };
    const result = await runPipeline(this.engine, input, pipelineOptions);
    // Written while the plan travels to the page: the user waits for the plan, not for storage. A write
    // that fails only costs a later cache hit; a later lookup is queued after it, so it sees the entry.
    void this.cache?.put(cacheKey, result).catch(() => undefined);
    return { result, cacheKey, cached: false };
  }
}
