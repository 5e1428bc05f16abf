/**
 * Classroom state: step-through mode, what-if (the plan re-fitted to another model), comparing the
 * engines on the current chat, exports and share links of the plan shown, and a shared plan opened
 * read-only from a link. The work is in core (explain, export, whatif, compare) and the engine worker.
 */
import type { PlannedModel } from '../../core/plan.ts';
import type { PlanResult } from '../../core/pipeline.ts';
import { explainPlan, type PlanExplanation } from '../../core/explain.ts';
import {
  decodeShare,
  planToComfyWorkflow,
  planToJson,
  planToMarkdown,
  planToParameters,
  shareUrl,
  shareValueOf,
  type SharedPlan,
} from '../../core/export/index.ts';
import { diffPlans, type PlanChange } from '../../core/whatif.ts';
import type { ComparedPlan, Refit } from '../../../workers/engine-api.ts';
import { engineWorker } from '../engine-client.ts';
import { chatStore } from './chat.svelte.ts';

export type ExportKind = 'markdown' | 'json' | 'parameters' | 'comfyui';

export interface ExportFile {
  name: string;
  mime: string;
  text: string;
}

export const STAGE_COUNT = 3;

/** The plan shown, with the evidence it was explained from (the chat's result with the user's edits). */
function shownResult(): (PlanResult & { explanation: PlanExplanation }) | null {
  const result = chatStore.current?.result;
  const plan = chatStore.plan;
  if (!result || !plan || !chatStore.prompt || !chatStore.model || !chatStore.arguments) return null;
  const shown = {
    ...result,
    plan,
    prompt: chatStore.prompt.result,
    model: chatStore.model.result,
    arguments: chatStore.arguments.result,
  };
  return { ...shown, explanation: explainPlan(shown) };
}

class ClassroomStore {
  /** Step-through mode: stages appear one at a time. */
  teach = $state(false);
  /** How many stages are revealed in step-through mode. */
  revealed = $state(1);
  refitting = $state(false);
  refit = $state<Refit | null>(null);
  refitChanges = $state<PlanChange[]>([]);
  refitError = $state<string | null>(null);
  searchResults = $state<PlannedModel[]>([]);
  comparing = $state(false);
  compared = $state<ComparedPlan[] | null>(null);
  compareError = $state<string | null>(null);
  shareLink = $state<string | null>(null);
  /** A plan opened from a share link (read-only), or the reason it could not be read. */
  shared = $state<SharedPlan | null>(null);
  sharedError = $state<string | null>(null);

  /** Reads `?teach=1` and a `#share=` fragment from the page's address. */
  async readLocation(location: Location): Promise<void> {
    if (new URLSearchParams(location.search).get('teach') === '1') this.setTeach(true);
    const value = shareValueOf(location.hash);
    if (!value) return;
    try {
      this.shared = await decodeShare(value);
    } catch (e) {
      this.sharedError = `This share link could not be read (${(e as Error).message}).`;
    }
  }

  setTeach(on: boolean): void {
    this.teach = on;
    this.revealed = 1;
  }

  nextStep(): void {
    this.revealed = Math.min(STAGE_COUNT, this.revealed + 1);
  }

  /** A new plan starts the step-through again at stage 1 and drops what-if and comparison results. */
  planChanged(): void {
    this.revealed = 1;
    this.refit = null;
    this.refitChanges = [];
    this.refitError = null;
    this.compared = null;
    this.compareError = null;
    this.shareLink = null;
  }

  async tryModel(modelId: number): Promise<void> {
    const current = chatStore.current;
    const plan = chatStore.plan;
    const result = shownResult();
    if (!current || !plan || !result) return;
    this.refitting = true;
    this.refitError = null;
    try {
      const refit = await engineWorker().refit(
        $state.snapshot(current.input),
        $state.snapshot(result) as PlanResult,
        modelId,
        plan.negative_prompt,
      );
      this.refit = refit;
      this.refitChanges = diffPlans($state.snapshot(plan), refit.plan, refit.arguments.evidence.sources);
    } catch (e) {
      this.refitError = (e as Error).message;
    } finally {
      this.refitting = false;
    }
  }

  async keepRefit(): Promise<void> {
    if (!this.refit) return;
    const refit = $state.snapshot(this.refit) as Refit;
    await chatStore.saveRefit(refit);
    this.refit = null;
    this.refitChanges = [];
  }

  discardRefit(): void {
    this.refit = null;
    this.refitChanges = [];
  }

  async search(query: string): Promise<void> {
    this.searchResults = query.trim() === '' ? [] : await engineWorker().searchModels(query);
  }

  async compare(): Promise<void> {
    const current = chatStore.current;
    if (!current) return;
    this.comparing = true;
    this.compareError = null;
    try {
      this.compared = await engineWorker().compare($state.snapshot(current.input));
    } catch (e) {
      this.compareError = (e as Error).message;
    } finally {
      this.comparing = false;
    }
  }

  exportFile(kind: ExportKind): ExportFile | null {
    const shown = shownResult();
    const messages = chatStore.current?.input.messages;
    if (!shown || !messages) return null;
    const doc = { messages: [...messages], plan: shown.plan, engine: shown.engine, explanation: shown.explanation };
    const base = `chatgen-plan-${shown.plan.arguments.seed}`;
    switch (kind) {
      case 'markdown':
        return { name: `${base}.md`, mime: 'text/markdown', text: planToMarkdown(doc) };
      case 'json':
        return { name: `${base}.json`, mime: 'application/json', text: planToJson(doc) };
      case 'parameters':
        return { name: `${base}.txt`, mime: 'text/plain', text: planToParameters(shown.plan) };
      case 'comfyui':
        return {
          name: `${base}-comfyui-api.json`,
          mime: 'application/json',
          text: JSON.stringify(
            planToComfyWorkflow(shown.plan, { fallbackCheckpoint: fallbackCheckpoint(shown.plan.model.base_model) }),
            null,
            2,
          ),
        };
    }
  }

  async makeShareLink(base: string): Promise<string | null> {
    const shown = shownResult();
    const messages = chatStore.current?.input.messages;
    if (!shown || !messages) return null;
    const { prompt, model, arguments: args } = shown.explanation;
    this.shareLink = await shareUrl(base, {
      messages: [...messages],
      plan: shown.plan,
      engine: shown.engine,
      explanation: { prompt, model, arguments: args },
    });
    return this.shareLink;
  }
}

/** The reference checkpoint of a base family, for a LoRA plan that names no checkpoint of its own. */
function fallbackCheckpoint(base: string): string {
  return base.startsWith('SDXL') ? 'sd_xl_base_1.0.safetensors' : 'v1-5-pruned-emaonly.safetensors';
}

export const classroom = new ClassroomStore();
