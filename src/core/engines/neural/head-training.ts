/**
 * Training a pack's ModelToken head from a catalog's demonstrations: the code both the LLM worker
 * and scripts/neural-train-head.ts run. Each demonstration gives one training pair (its prompt's
 * content words stand in for the chat, its prompt and negative prompt for stage 1's reply); the frozen
 * decoder computes h and the vocabulary's log-sum-exp once per pair (kept in an ExampleCache, so a
 * cancelled encoding, a second run or a new model's row do not encode again), then only W_m is
 * trained with AdamW.
 */
import type { Catalog, Demonstration } from '../../catalog/types.ts';
import {
  addModelRow,
  createHead,
  encodeExamples,
  evaluateHead,
  ModelTokenError,
  trainHead,
  TrainingAbortedError,
  type ModelTokenHead,
  type TrainerState,
  type TrainingExample,
  type TrainProgress,
} from '../../modeltoken.ts';
import { contentWords } from '../../text.ts';
import { llmHiddenStateEncoder, modelTokenContext } from './index.ts';
import type { PackManifest } from './manifest.ts';
import type { LlmSession } from './session.ts';

export type HeadTrainingProgress =
  | { phase: 'encoding'; done: number; total: number }
  | ({ phase: 'training' } & TrainProgress);

export interface HeadTrainingOptions {
  epochs?: number;
  learningRate?: number;
  weightDecay?: number;
  batchSize?: number;
  seed?: number;
}

export interface HeadTrainingResult {
  head: ModelTokenHead;
  /** The last epoch's progress of this call (null when the run had already finished and nothing was trained). */
  last: TrainProgress | null;
  /** Loss and accuracy of the returned head over all training pairs. */
  loss: number;
  accuracy: number;
  /** Training pairs (demonstrations) and how many were encoded by this call (the rest came from the cache). */
  pairs: number;
  encoded: number;
}

/** h per training text: the frozen model's answer never changes, so each text is encoded once per session. */
export type ExampleCache = Map<string, { h: Float32Array; vocabLogSumExp: number }>;

export const DEFAULT_HEAD_TRAINING: Required<HeadTrainingOptions> = {
  epochs: 60,
  learningRate: 0.02,
  weightDecay: 0.01,
  batchSize: 32,
  seed: 1,
};

type PackText = Pick<PackManifest, 'instructions' | 'model_token_prefix'>;

/** The text at whose end the model token of a demonstration is read. */
export function demonstrationContext(session: LlmSession, pack: PackText, d: Demonstration): string {
  return modelTokenContext(session, pack, contentWords(d.prompt).slice(0, 12).join(' '), d.prompt, d.negative_prompt);
}

/** Training examples for these demonstrations, encoding only the texts the cache lacks. */
export async function encodeDemonstrations(
  session: LlmSession,
  pack: PackText,
  demonstrations: readonly Demonstration[],
  cache: ExampleCache,
  options: { signal?: AbortSignal; onProgress?: (p: HeadTrainingProgress) => void } = {},
): Promise<{ examples: TrainingExample[]; encoded: number }> {
  const pairs = demonstrations.map((d) => ({ text: demonstrationContext(session, pack, d), modelId: d.model_id }));
  const missing = [...new Map(pairs.filter((p) => !cache.has(p.text)).map((p) => [p.text, p])).values()];
  const cachedCount = pairs.length - missing.length;
  options.onProgress?.({ phase: 'encoding', done: cachedCount, total: pairs.length });
  await encodeExamples(llmHiddenStateEncoder(session), missing, {
    ...(options.signal ? { signal: options.signal } : {}),
    onExample: (example, i) => cache.set(missing[i]!.text, { h: example.h, vocabLogSumExp: example.vocabLogSumExp }),
    onProgress: (done) => options.onProgress?.({ phase: 'encoding', done: cachedCount + done, total: pairs.length }),
  });
  const examples = pairs.map((p) => ({ ...cache.get(p.text)!, modelId: p.modelId }));
  return { examples, encoded: missing.length };
}

/** One run of the trainer: the head to start from, the encoded pairs, and how it may resume. */
interface TrainingRun {
  head: ModelTokenHead;
  examples: TrainingExample[];
  /** How many pairs had to be encoded for this run (the rest came from the cache). */
  encoded: number;
  settings: Required<HeadTrainingOptions>;
  resume: TrainerState | null;
  /** Only these rows train (a new model's row); all rows when absent. */
  trainableModelIds?: ReadonlySet<number>;
  /** The schedule a cancelled run can be resumed under; null: this run is never resumed. */
  resumeKey: string | null;
  control: { signal?: AbortSignal; onProgress?: (p: HeadTrainingProgress) => void };
}

/**
 * A head trainer for one pack over one catalog: train() builds a head with a row per catalog model,
 * resuming a cancelled run (or an earlier finished one, when asked for more epochs); addModel() trains
 * one new row alone, leaving every other row bit-identical.
 */
export class PackHeadTrainer {
  /** The trainer state after the last call: what a cancelled or finished train() resumes from. */
  state: TrainerState | null = null;
  private trainedWith: string | null = null;

  constructor(
    readonly session: LlmSession,
    readonly pack: PackText,
    readonly catalog: Catalog,
    readonly cache: ExampleCache = new Map(),
  ) {}

  async train(
    options: HeadTrainingOptions = {},
    control: { signal?: AbortSignal; onProgress?: (p: HeadTrainingProgress) => void; restart?: boolean } = {},
  ): Promise<HeadTrainingResult> {
    const settings = { ...DEFAULT_HEAD_TRAINING, ...options };
    const modelIds = this.catalog.models.map((m) => m.id);
    if (modelIds.length === 0) throw new ModelTokenError('the catalog has no models to train rows for');
    if (this.catalog.demonstrations.length === 0)
      throw new ModelTokenError('the catalog has no demonstrations to train the head on');
    const { examples, encoded } = await encodeDemonstrations(
      this.session,
      this.pack,
      this.catalog.demonstrations,
      this.cache,
      control,
    );
    // A resumed run must keep its schedule (same order, rate and batch size); anything else starts over.
    const key = JSON.stringify({ ...settings, epochs: 0, modelIds });
    const resume = !control.restart && this.trainedWith === key ? this.state : null;
    const head = createHead(modelIds, this.session.hiddenSize);
    return this.run({ head, examples, encoded, settings, resume, resumeKey: key, control });
  }

  /**
   * Trains only `modelId`'s row (added when the head lacks it) from the catalog's demonstrations: its
   * own are the positives, the others' (from the cache when encoded before) keep it from winning theirs.
   */
  async addModel(
    head: ModelTokenHead,
    modelId: number,
    options: HeadTrainingOptions = {},
    control: { signal?: AbortSignal; onProgress?: (p: HeadTrainingProgress) => void } = {},
  ): Promise<HeadTrainingResult> {
    if (!this.catalog.models.some((m) => m.id === modelId))
      throw new ModelTokenError(`model ${modelId} is not in the catalog`);
    const own = this.catalog.demonstrations.filter((d) => d.model_id === modelId);
    if (own.length === 0)
      throw new ModelTokenError(`model ${modelId} has no demonstrations in the catalog to train its row on`);
    const grown = head.modelIds.includes(modelId) ? head : addModelRow(head, modelId);
    const rows = new Set(grown.modelIds);
    const { examples, encoded } = await encodeDemonstrations(
      this.session,
      this.pack,
      this.catalog.demonstrations.filter((d) => rows.has(d.model_id)),
      this.cache,
      control,
    );
    const settings = { ...DEFAULT_HEAD_TRAINING, ...options };
    return this.run({
      head: grown,
      examples,
      encoded,
      settings,
      resume: null,
      trainableModelIds: new Set([modelId]),
      resumeKey: null,
      control,
    });
  }

  private async run({
    head,
    examples,
    encoded,
    settings,
    resume,
    trainableModelIds,
    resumeKey: key,
    control,
  }: TrainingRun): Promise<HeadTrainingResult> {
    try {
      const { state, history } = await trainHead(head, examples, {
        ...settings,
        ...(resume ? { resume } : {}),
        ...(trainableModelIds ? { trainableModelIds } : {}),
        ...(control.signal ? { signal: control.signal } : {}),
        onProgress: (p) => control.onProgress?.({ phase: 'training', ...p }),
      });
      this.state = state;
      this.trainedWith = key;
      const { loss, accuracy } = evaluateHead(state.head, examples);
      return { head: state.head, last: history.at(-1) ?? null, loss, accuracy, pairs: examples.length, encoded };
    } catch (err) {
      // A cancelled run keeps its state, so the next train() continues where it stopped.
      if (err instanceof TrainingAbortedError && key !== null) {
        this.state = err.state;
        this.trainedWith = key;
      }
      throw err;
    }
  }
}
