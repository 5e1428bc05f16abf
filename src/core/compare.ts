/**
 * Compare engines on one chat: each engine plans the same chat, and the fields where their plans
 * differ are named so the UI can highlight them.
 */
import type { ChatInput } from './chat.ts';
import type { Engine } from './engines/engine.ts';
import { runPipeline, type PlanResult } from './pipeline.ts';
import type { GenerationPlan } from './plan.ts';

export type ComparedPlan = { engine: string; result: PlanResult } | { engine: string; error: string };

/** Plans the chat with each engine in turn (one failing engine does not stop the others). */
export async function compareEngines(
  engines: readonly Engine[],
  input: ChatInput,
  options: { seed?: number; signal?: AbortSignal } = {},
): Promise<ComparedPlan[]> {
  const out: ComparedPlan[] = [];
  for (const engine of engines) {
    try {
      const result = await runPipeline(engine, input, {
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      out.push({ engine: engine.name, result });
    } catch (e) {
      if (options.signal?.aborted) throw e;
      out.push({ engine: engine.name, error: e instanceof Error ? e.message : String(e) });
    }
  }
  return out;
}

export type PlanField = 'prompt' | 'negative_prompt' | 'model' | 'sampler' | 'steps' | 'cfg_scale' | 'size' | 'seed';

const fieldValue = (plan: GenerationPlan, field: PlanField): string => {
  switch (field) {
    case 'prompt':
      return plan.prompt;
    case 'negative_prompt':
      return plan.negative_prompt;
    case 'model':
      return String(plan.model.id);
    case 'size':
      return `${plan.arguments.width}x${plan.arguments.height}`;
    default:
      return String(plan.arguments[field]);
  }
};

export const PLAN_FIELDS: readonly PlanField[] = [
  'prompt',
  'negative_prompt',
  'model',
  'sampler',
  'steps',
  'cfg_scale',
  'size',
  'seed',
];

/** The fields on which not all the plans agree. */
export function differingFields(plans: readonly GenerationPlan[]): Set<PlanField> {
  return new Set(PLAN_FIELDS.filter((f) => new Set(plans.map((p) => fieldValue(p, f))).size > 1));
}
