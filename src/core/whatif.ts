/**
 * What-if: the plan re-fitted to another model (stage 3 run again for it: arguments, size, trigger
 * words, base checkpoint, evidence), and what changed between two plans and why, in words.
 */
import { mergeTurns, validateChatInput, type ChatInput } from './chat.ts';
import { promptWithTriggerWords } from './endpoints/installed.ts';
import type { ArgumentName, ArgumentsResult, Engine, ModelResult, PromptResult } from './engines/engine.ts';
import { explainSource, ARGUMENT_LABELS, HAND_PICKED } from './explain.ts';
import type { GenerationPlan, PlannedModel } from './plan.ts';

/**
 * Stage 2's result when a person picks the model: `forStage3` is certain (stage 3 follows this model's
 * habits alone), `shown` keeps the engine's ranking of the best candidates for the stage 2 card.
 */
export function handPickedModel(
  model: PlannedModel,
  previous: ModelResult,
): { forStage3: ModelResult; shown: ModelResult } {
  const ranked = previous.evidence.candidates.find((c) => c.model_id === model.id);
  const note = ranked
    ? `You picked ${model.name}; the engine had given it ${Math.round(100 * ranked.score)}% of the vote.`
    : `You picked ${model.name}, which was not among the engine's best ${previous.evidence.candidates.length}.`;
  const certain = {
    model_id: model.id,
    name: model.name,
    type: model.type,
    base_model: model.base_model,
    score: 1,
    reasons: [HAND_PICKED],
  };
  return {
    forStage3: { model, evidence: { method: HAND_PICKED, candidates: [certain], competing: 1, notes: [note] } },
    shown: { model, evidence: { ...previous.evidence, method: HAND_PICKED, notes: [note] } },
  };
}

/** Drops the trigger words of the previous model that stage 1 added (the person's own words stay). */
function withoutTriggerWords(prompt: string, previous: PlannedModel, stage1: PromptResult): string {
  const added = new Set(stage1.evidence.added_terms.map((a) => a.term.toLowerCase()));
  const drop = new Set(previous.trained_words.map((w) => w.trim().toLowerCase()).filter((w) => added.has(w)));
  return prompt
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s && !drop.has(s.toLowerCase()))
    .join(', ');
}

export interface Refit {
  plan: GenerationPlan;
  model: ModelResult;
  arguments: ArgumentsResult;
}

export interface RefitRequest {
  input: ChatInput;
  prompt: PromptResult;
  /** Stage 2's result of the plan being changed. */
  previous: ModelResult;
  /** The model the person picked. */
  model: PlannedModel;
  seed: number;
  /** The negative prompt of the plan being changed (kept: it is not the model's). */
  negative_prompt: string;
}

/** Runs stage 3 again for another model and builds the new plan from it. */
export async function refitForModel(engine: Engine, request: RefitRequest, signal?: AbortSignal): Promise<Refit> {
  const input = validateChatInput(request.input);
  const stageRequest = { input, merged: mergeTurns(input.messages) };
  const model = handPickedModel(request.model, request.previous);
  const args = await engine.configureArguments(stageRequest, request.prompt, model.forStage3, request.seed, signal);
  // An engine whose stage 3 does not fit the prompt to the model leaves it to us: the old model's
  // added trigger words go, the new one's come in.
  const prompt =
    args.prompt ??
    promptWithTriggerWords(
      withoutTriggerWords(request.prompt.prompt, request.previous.model, request.prompt),
      request.model.trained_words,
    );
  return {
    plan: {
      prompt,
      negative_prompt: request.negative_prompt,
      model: request.model,
      ...(args.base_checkpoint ? { base_checkpoint: args.base_checkpoint } : {}),
      arguments: args.arguments,
    },
    model: model.shown,
    arguments: args,
  };
}

export interface PlanChange {
  /** What changed, as a person names it ("Model", "Size", "Steps"...). */
  label: string;
  before: string;
  after: string;
  /** Why, in words (empty when the reason is the change itself). */
  why: string;
}

const termsOf = (prompt: string) =>
  prompt
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** What differs between two plans, in the order a person reads a plan; `sources` explains new arguments. */
export function diffPlans(
  before: GenerationPlan,
  after: GenerationPlan,
  sources?: ArgumentsResult['evidence']['sources'],
): PlanChange[] {
  const changes: PlanChange[] = [];
  const modelName = (m: PlannedModel | undefined) => (m ? `${m.name} (${m.type}, ${m.base_model})` : 'none');
  if (before.model.id !== after.model.id)
    changes.push({ label: 'Model', before: modelName(before.model), after: modelName(after.model), why: '' });
  if (before.base_checkpoint?.id !== after.base_checkpoint?.id) {
    changes.push({
      label: 'Runs on checkpoint',
      before: modelName(before.base_checkpoint),
      after: modelName(after.base_checkpoint),
      why: after.base_checkpoint ? 'a LoRA needs a checkpoint of its own base to run on' : '',
    });
  }
  if (before.prompt !== after.prompt) {
    const was = new Set(termsOf(before.prompt).map((t) => t.toLowerCase()));
    const now = new Set(termsOf(after.prompt).map((t) => t.toLowerCase()));
    const added = termsOf(after.prompt).filter((t) => !was.has(t.toLowerCase()));
    const removed = termsOf(before.prompt).filter((t) => !now.has(t.toLowerCase()));
    const trigger = new Set(after.model.trained_words.map((w) => w.toLowerCase()));
    const why = [
      added.length
        ? `added ${added.map((t) => `“${t}”`).join(', ')}${added.every((t) => trigger.has(t.toLowerCase())) ? ' (the new model’s trigger words)' : ''}`
        : '',
      removed.length ? `removed ${removed.map((t) => `“${t}”`).join(', ')}` : '',
    ].filter(Boolean);
    changes.push({ label: 'Prompt', before: before.prompt, after: after.prompt, why: why.join('; ') });
  }
  if (before.negative_prompt !== after.negative_prompt)
    changes.push({ label: 'Negative prompt', before: before.negative_prompt, after: after.negative_prompt, why: '' });
  const a = before.arguments;
  const b = after.arguments;
  const why = (name: ArgumentName) => (sources ? explainSource(sources[name]) : '');
  if (a.width !== b.width || a.height !== b.height) {
    changes.push({
      label: 'Size',
      before: `${a.width}×${a.height}`,
      after: `${b.width}×${b.height}`,
      why: why('width'),
    });
  }
  for (const name of ['sampler', 'steps', 'cfg_scale', 'seed'] as const) {
    if (a[name] !== b[name])
      changes.push({ label: ARGUMENT_LABELS[name], before: String(a[name]), after: String(b[name]), why: why(name) });
  }
  return changes;
}

/** Catalog models whose name, file or trigger words hold every word of the query, most downloaded first. */
export function searchModels(
  models: readonly { id: number; name: string; file: string; trained_words: string[]; downloads: number }[],
  query: string,
  limit = 20,
): number[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [];
  return models
    .filter((m) => {
      const hay = `${m.name} ${m.file} ${m.trained_words.join(' ')}`.toLowerCase();
      return words.every((w) => hay.includes(w));
    })
    .sort((a, b) => b.downloads - a.downloads || a.id - b.id)
    .slice(0, limit)
    .map((m) => m.id);
}
