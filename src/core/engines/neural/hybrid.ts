/**
 * Hybrid planning: a pack whose ModelToken head cannot choose among the active catalog's models (no
 * head, an untrained one, or one without rows for most of the catalog) still brings its most useful
 * part, an LLM that reads the whole request. Stage 1 (and a reference image, for a vision-language
 * pack) goes to the LLM; stages 2 and 3 go to the embedded engine. Once a head covering the catalog is
 * trained, stage 2 uses it again (and stage 3 the LLM's constrained decoding).
 *
 * Every plan says which engine did which stage (`stageEngines`, and a note in each stage's evidence).
 */
import type { Catalog } from '../../catalog/types.ts';
import type { ModelTokenHead } from '../../modeltoken.ts';
import { enforceRequest } from '../../request/enforce.ts';
import { parseRequest } from '../../request/parse.ts';
import type { Engine, PromptResult, StageName, StageRequest } from '../engine.ts';
import { createNeuralEngine, type NeuralEngineOptions } from './index.ts';
import type { PackManifest } from './manifest.ts';
import type { LlmSession } from './session.ts';

/** Below this share of the catalog's models with a head row, stage 2 goes to the embedded engine. */
export const MIN_HEAD_COVERAGE = 0.5;

export type PlanningMode =
  | { mode: 'neural'; covered: number; models: number }
  | { mode: 'hybrid'; reason: string; covered: number; models: number };

/** Whether a pack's head can run stage 2 over this catalog, and why not when it cannot. */
export function planningModeFor(head: ModelTokenHead | null, catalog: Pick<Catalog, 'models'>): PlanningMode {
  const models = catalog.models.length;
  if (head === null) return { mode: 'hybrid', reason: 'the pack has no ModelToken head', covered: 0, models };
  if (!head.weights.some((w) => w !== 0))
    return {
      mode: 'hybrid',
      reason: "the pack's ModelToken head is untrained (all weights are zero)",
      covered: 0,
      models,
    };
  const rows = new Set(head.modelIds);
  const covered = catalog.models.filter((m) => rows.has(m.id)).length;
  if (models === 0 || covered / models < MIN_HEAD_COVERAGE) {
    return {
      mode: 'hybrid',
      reason: `the ModelToken head has rows for ${covered} of the catalog's ${models} models (it needs ${Math.round(MIN_HEAD_COVERAGE * 100)}%): train it in Settings -> Engine`,
      covered,
      models,
    };
  }
  return { mode: 'neural', covered, models };
}

/**
 * Makes the LLM's stage 1 output obey the person's request as the embedded engine's does (what they asked
 * to leave out goes to the negative prompt, their own words stay). Trigger words are stage 3's (the chosen
 * model's), which the default engine adds in hybrid mode.
 */
export type RequestRules = (request: StageRequest, candidate: PromptResult) => PromptResult;

/** The request rules of src/core/request (parseRequest + enforceRequest), with what they changed as notes. */
export const enforceRequestRules: RequestRules = (request, candidate) => {
  const parsed = parseRequest(request.merged.turns.map((t) => t.text));
  const enforced = enforceRequest(candidate, parsed);
  return {
    ...candidate,
    prompt: enforced.prompt,
    negative_prompt: enforced.negative_prompt,
    evidence: { ...candidate.evidence, notes: [...candidate.evidence.notes, ...enforced.notes], request: parsed },
  };
};

export interface HybridEngineOptions {
  /** The engine over the pack's LLM: only its writePrompt runs. */
  llm: Engine;
  /** The embedded (default) engine over the same catalog: stages 2 and 3. */
  embedded: Engine;
  /** How the LLM is named in plans, e.g. 'LLM "Qwen2.5-0.5B-Instruct" (wasm, q4)'. */
  llmLabel: string;
  /** Why stage 2 does not use the head (planningModeFor's reason). */
  reason: string;
  /** Default: enforceRequestRules. */
  rules?: RequestRules;
}

export interface StagedEngine extends Engine {
  readonly stageEngines: Readonly<Record<StageName, string>>;
}

const note = <T extends { evidence: { notes: string[] } }>(result: T, text: string): T => ({
  ...result,
  evidence: { ...result.evidence, notes: [text, ...result.evidence.notes] },
});

export function createHybridEngine(options: HybridEngineOptions): StagedEngine {
  const { llm, embedded, llmLabel, reason, rules = enforceRequestRules } = options;
  const embeddedLabel = `the embedded engine (${embedded.name})`;
  return {
    name: llm.name,
    version: `hybrid/${llm.version}/${embedded.name}-${embedded.version}`,
    stageEngines: { prompt: llmLabel, model: embeddedLabel, arguments: embeddedLabel },

    async writePrompt(request, signal) {
      return note(
        rules(request, await llm.writePrompt(request, signal)),
        `Stage 1 by the ${llmLabel} (hybrid planning).`,
      );
    },

    async selectModel(request, prompt, selectOptions, signal) {
      return note(
        await embedded.selectModel(request, prompt, selectOptions, signal),
        `Stage 2 by ${embeddedLabel}: ${reason}.`,
      );
    },

    async configureArguments(request, prompt, model, seed, signal) {
      return note(
        await embedded.configureArguments(request, prompt, model, seed, signal),
        `Stage 3 by ${embeddedLabel} (hybrid planning).`,
      );
    },
  };
}

/** A neural engine whose three stages all run on the pack, labelled the same way, its stage 1 held to the request rules. */
export function labelNeuralStages(
  engine: Engine,
  llmLabel: string,
  rules: RequestRules = enforceRequestRules,
): StagedEngine {
  return {
    ...engine,
    stageEngines: {
      prompt: llmLabel,
      model: `${llmLabel} with its ModelToken head`,
      arguments: `${llmLabel} (constrained decoding)`,
    },
    writePrompt: async (request, signal) => rules(request, await engine.writePrompt(request, signal)),
  };
}

/** How plans name a pack's LLM: its pack name, where it runs and in which dtype. */
export function llmLabelOf(pack: Pick<PackManifest, 'name'>, session: Pick<LlmSession, 'device' | 'dtype'>): string {
  return `LLM "${pack.name}" (${session.device}, ${session.dtype})`;
}

export interface PackEngineOptions extends Omit<NeuralEngineOptions, 'head'> {
  head: ModelTokenHead | null;
  /** The embedded engine over the same catalog, for stages 2 and 3 in hybrid mode. */
  embedded: Engine;
  rules?: RequestRules;
}

/** The engine a pack plans with over a catalog: all three stages on the pack, or hybrid (see planningModeFor). */
export function createPackEngine(options: PackEngineOptions): { engine: StagedEngine; planning: PlanningMode } {
  const { embedded, rules, ...neural } = options;
  const planning = planningModeFor(options.head, options.catalog);
  const llm = createNeuralEngine(neural);
  const llmLabel = llmLabelOf(options.pack, options.session);
  if (planning.mode === 'neural') return { engine: labelNeuralStages(llm, llmLabel, rules), planning };
  return {
    engine: createHybridEngine({ llm, embedded, llmLabel, reason: planning.reason, ...(rules ? { rules } : {}) }),
    planning,
  };
}
