/**
 * ModelToken (ChatGen-Evo): every catalog model is an extra row W_m appended to a language model's
 * LM head W_d. Given the final hidden state h after (chat, prompt), the next-token distribution is
 * softmax([W_m·h; W_d·h]) over the models and the vocabulary together; a model token winning names
 * the model. Only W_m is trained, with the language model frozen: h and the vocabulary's
 * log-sum-exp log Σ exp(W_d·h) are computed once per training pair and stored, which is all the loss
 * -log softmax([W_m·h; W_d·h])_m needs from the vocabulary side.
 *
 * The code is generic over an encoder text -> h: an encoder without a vocabulary passes
 * vocabLogSumExp = 0 (one fixed "none of the models" competitor with logit 0, which keeps model logits
 * from growing without bound) or -Infinity (models compete only with each other).
 */
import { cyrb53 } from './hash.ts';
import { mulberry32 } from './random.ts';

export interface ModelTokenHead {
  /** Width of h. */
  dim: number;
  /** Catalog model id of each row, in row order. */
  modelIds: number[];
  /** Row-major |M| x dim. */
  weights: Float32Array;
}

export class ModelTokenError extends Error {
  override name = 'ModelTokenError';
}

export function validateHead(head: ModelTokenHead): ModelTokenHead {
  if (!Number.isInteger(head.dim) || head.dim <= 0)
    throw new ModelTokenError(`head dim must be a positive whole number, got ${head.dim}`);
  if (head.weights.length !== head.modelIds.length * head.dim) {
    throw new ModelTokenError(
      `head weights hold ${head.weights.length} floats; ${head.modelIds.length} models x ${head.dim} needs ${head.modelIds.length * head.dim}`,
    );
  }
  const seen = new Set<number>();
  for (const id of head.modelIds) {
    if (seen.has(id)) throw new ModelTokenError(`model id ${id} has two rows in the head`);
    seen.add(id);
  }
  return head;
}

/** A head of zeros (every model starts with logit 0). */
export function createHead(modelIds: readonly number[], dim: number): ModelTokenHead {
  return validateHead({ dim, modelIds: [...modelIds], weights: new Float32Array(modelIds.length * dim) });
}

/** A copy of the head with one more row, zeros, for `modelId`; the other rows are copied bit for bit. */
export function addModelRow(head: ModelTokenHead, modelId: number): ModelTokenHead {
  if (head.modelIds.includes(modelId)) throw new ModelTokenError(`model id ${modelId} already has a row in the head`);
  const weights = new Float32Array(head.weights.length + head.dim);
  weights.set(head.weights);
  return { dim: head.dim, modelIds: [...head.modelIds, modelId], weights };
}

/**
 * A fingerprint of the head's model ids and exact weights (cyrb53 over their 32-bit words): engine
 * versions include it, so a retrained or grown head gets new plan cache keys.
 */
export function headFingerprint(head: ModelTokenHead): string {
  const ids = head.modelIds;
  const words = new Uint32Array(head.weights.buffer, head.weights.byteOffset, head.weights.length);
  return cyrb53(ids.length + words.length, (i) => (i < ids.length ? ids[i]! : words[i - ids.length]!), head.dim, 0);
}

/** W_m·h for every row. */
export function modelLogits(head: ModelTokenHead, h: ArrayLike<number>): Float32Array {
  if (h.length !== head.dim)
    throw new ModelTokenError(`hidden state has ${h.length} values; the head expects ${head.dim}`);
  const out = new Float32Array(head.modelIds.length);
  for (let r = 0; r < out.length; r++) {
    let s = 0;
    const base = r * head.dim;
    for (let k = 0; k < head.dim; k++) s += head.weights[base + k]! * h[k]!;
    out[r] = s;
  }
  return out;
}

/** log Σ exp(values), stable; -Infinity for no values. */
export function logSumExp(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) max = Math.max(max, values[i]!);
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (let i = 0; i < values.length; i++) s += Math.exp(values[i]! - max);
  return max + Math.log(s);
}

export interface ModelScores {
  /** W_m·h per row. */
  logits: Float32Array;
  /** P(model row | context) in the joint softmax over competing models and the vocabulary; 0 for rows left out. */
  probabilities: Float32Array;
  /** Σ of `probabilities`: how much of the next-token mass the model tokens took. */
  modelMass: number;
}

/**
 * Scores the models at one position: softmax([W_m·h; W_d·h]) with the vocabulary entering through
 * its log-sum-exp. `competing[r]` false leaves row r out of the softmax (a model the user did not allow).
 */
export function scoreModels(
  head: ModelTokenHead,
  h: ArrayLike<number>,
  vocabLogSumExp: number,
  competing?: ArrayLike<boolean>,
): ModelScores {
  const logits = modelLogits(head, h);
  const inSoftmax = Array.from(logits, (z, r) => (competing && !competing[r] ? -Infinity : z));
  const total = logSumExp([...inSoftmax, vocabLogSumExp]);
  const probabilities = Float32Array.from(inSoftmax, (z) => (z === -Infinity ? 0 : Math.exp(z - total)));
  let modelMass = 0;
  for (const p of probabilities) modelMass += p;
  return { logits, probabilities, modelMass };
}

// ---------------------------------------------------------------------------------------------
// Training

export interface TrainingExample {
  h: Float32Array;
  /** log Σ exp(W_d·h) of the frozen model's vocabulary at the same position. */
  vocabLogSumExp: number;
  /** The catalog model this example demonstrates. */
  modelId: number;
}

/** A text -> h encoder: the LLM (h at the model-token position) or anything else with fixed width. */
export interface HiddenStateEncoder {
  readonly dim: number;
  encode(text: string, signal?: AbortSignal): Promise<{ h: Float32Array; vocabLogSumExp: number }>;
}

export class TrainingAbortedError extends Error {
  override name = 'AbortError';
  constructor(readonly state: TrainerState) {
    super('Training was cancelled; its state can be resumed.');
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** Computes h once per (text, model) pair with the frozen encoder. */
export async function encodeExamples(
  encoder: HiddenStateEncoder,
  pairs: readonly { text: string; modelId: number }[],
  options: {
    signal?: AbortSignal;
    onProgress?: (done: number, total: number) => void;
    /** Receives each example as soon as it is encoded, so a cancelled run loses none of them. */
    onExample?: (example: TrainingExample, index: number) => void;
  } = {},
): Promise<TrainingExample[]> {
  const out: TrainingExample[] = [];
  let yielded = performance.now();
  for (const pair of pairs) {
    // A single-threaded WASM runtime resolves each forward pass without a task boundary: yield now and
    // then so a worker still receives the message that cancels it.
    if (performance.now() - yielded > 50) {
      await yieldToEventLoop();
      yielded = performance.now();
    }
    if (options.signal?.aborted) throw new DOMException('Encoding was cancelled.', 'AbortError');
    const { h, vocabLogSumExp } = await encoder.encode(pair.text, options.signal);
    if (h.length !== encoder.dim)
      throw new ModelTokenError(`encoder returned ${h.length} values, declared ${encoder.dim}`);
    const example = { h, vocabLogSumExp, modelId: pair.modelId };
    out.push(example);
    options.onExample?.(example, out.length - 1);
    options.onProgress?.(out.length, pairs.length);
  }
  return out;
}

export interface TrainOptions {
  epochs: number;
  learningRate?: number;
  weightDecay?: number;
  batchSize?: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Seeds the example order. */
  seed?: number;
  /** Only these models' rows are updated (default: all); every other row stays bit-identical. */
  trainableModelIds?: ReadonlySet<number>;
  onProgress?: (progress: TrainProgress) => void;
  signal?: AbortSignal;
  /** Continue a run that was cancelled (or finished, to train more epochs). */
  resume?: TrainerState;
}

export interface TrainProgress {
  epoch: number;
  epochs: number;
  /** Mean loss over the examples this run saw in the epoch that just ended (all of them unless resumed mid-epoch). */
  loss: number;
  /** Fraction of examples whose own model has the highest W_m·h. */
  accuracy: number;
}

/** Everything needed to resume: the head, AdamW's moments, and where in the schedule training was. */
export interface TrainerState {
  head: ModelTokenHead;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
  /** AdamW steps taken. */
  step: number;
  epoch: number;
  /** Batches done within `epoch`. */
  batch: number;
}

export interface TrainResult {
  state: TrainerState;
  history: TrainProgress[];
}

function epochOrder(n: number, seed: number, epoch: number): number[] {
  // Seeded so that a run's example order is reproducible (and resumable).
  const random = mulberry32(seed * 1_000_003 + epoch);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/** Mean loss and accuracy of a head over examples (all rows compete). */
export function evaluateHead(
  head: ModelTokenHead,
  examples: readonly TrainingExample[],
): { loss: number; accuracy: number } {
  const rowOf = new Map(head.modelIds.map((id, r) => [id, r]));
  let loss = 0;
  let correct = 0;
  for (const ex of examples) {
    const target = rowOf.get(ex.modelId);
    if (target === undefined)
      throw new ModelTokenError(`example for model ${ex.modelId}, which has no row in the head`);
    const z = modelLogits(head, ex.h);
    loss += logSumExp([...z, ex.vocabLogSumExp]) - z[target]!;
    let best = 0;
    for (let r = 1; r < z.length; r++) if (z[r]! > z[best]!) best = r;
    if (best === target) correct++;
  }
  return { loss: loss / Math.max(1, examples.length), accuracy: correct / Math.max(1, examples.length) };
}

/**
 * Trains W_m with AdamW on -log softmax([W_m·h; W_d·h])_m. Yields to the event loop between epochs
 * so a worker stays responsive; checks `signal` between batches and throws TrainingAbortedError with
 * the state to resume from.
 */
export async function trainHead(
  head: ModelTokenHead,
  examples: readonly TrainingExample[],
  options: TrainOptions,
): Promise<TrainResult> {
  validateHead(head);
  const {
    epochs,
    learningRate = 0.01,
    weightDecay = 0.01,
    batchSize = 32,
    beta1 = 0.9,
    beta2 = 0.999,
    epsilon = 1e-8,
    seed = 1,
  } = options;
  if (!Number.isInteger(epochs) || epochs < 0)
    throw new ModelTokenError(`epochs must be a whole number >= 0, got ${epochs}`);
  if (examples.length === 0) throw new ModelTokenError('no training examples');
  const rowOf = new Map(head.modelIds.map((id, r) => [id, r]));
  const targets = examples.map((ex) => {
    const r = rowOf.get(ex.modelId);
    if (r === undefined) throw new ModelTokenError(`example for model ${ex.modelId}, which has no row in the head`);
    if (ex.h.length !== head.dim)
      throw new ModelTokenError(`example h has ${ex.h.length} values; the head expects ${head.dim}`);
    return r;
  });
  const trainable = head.modelIds.map((id) => !options.trainableModelIds || options.trainableModelIds.has(id));
  const trainableRows = trainable.flatMap((t, r) => (t ? [r] : []));
  if (trainableRows.length === 0) throw new ModelTokenError('none of the trainable model ids has a row in the head');

  const resume = options.resume;
  if (resume && (resume.head.dim !== head.dim || resume.head.modelIds.join() !== head.modelIds.join())) {
    throw new ModelTokenError('the state to resume belongs to a head with other models or another width');
  }
  const state: TrainerState = resume
    ? {
        ...resume,
        head: { ...resume.head, weights: resume.head.weights.slice() },
        firstMoment: resume.firstMoment.slice(),
        secondMoment: resume.secondMoment.slice(),
      }
    : {
        head: { dim: head.dim, modelIds: [...head.modelIds], weights: head.weights.slice() },
        firstMoment: new Float32Array(head.weights.length),
        secondMoment: new Float32Array(head.weights.length),
        step: 0,
        epoch: 0,
        batch: 0,
      };
  const { dim } = head;
  const w = state.head.weights;
  const grad = new Float64Array(w.length);
  const history: TrainProgress[] = [];
  const rows = head.modelIds.length;
  const z = new Float64Array(rows);

  while (state.epoch < epochs) {
    const order = epochOrder(examples.length, seed, state.epoch);
    const batches = Math.ceil(order.length / batchSize);
    let epochLoss = 0;
    let seen = 0;
    while (state.batch < batches) {
      if (options.signal?.aborted) throw new TrainingAbortedError(state);
      grad.fill(0);
      const members = order.slice(state.batch * batchSize, (state.batch + 1) * batchSize);
      for (const i of members) {
        const ex = examples[i]!;
        for (let r = 0; r < rows; r++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += w[r * dim + k]! * ex.h[k]!;
          z[r] = s;
        }
        const total = logSumExp([...z, ex.vocabLogSumExp]);
        const target = targets[i]!;
        epochLoss += total - z[target]!;
        seen++;
        for (const r of trainableRows) {
          const coefficient = (Math.exp(z[r]! - total) - (r === target ? 1 : 0)) / members.length;
          for (let k = 0; k < dim; k++) grad[r * dim + k] = grad[r * dim + k]! + coefficient * ex.h[k]!;
        }
      }
      state.step++;
      const correction1 = 1 - beta1 ** state.step;
      const correction2 = 1 - beta2 ** state.step;
      for (const r of trainableRows) {
        for (let k = r * dim; k < (r + 1) * dim; k++) {
          const g = grad[k]!;
          const m = (state.firstMoment[k] = beta1 * state.firstMoment[k]! + (1 - beta1) * g);
          const v = (state.secondMoment[k] = beta2 * state.secondMoment[k]! + (1 - beta2) * g * g);
          // Decoupled weight decay (AdamW), then the Adam step.
          w[k] =
            w[k]! * (1 - learningRate * weightDecay) -
            (learningRate * (m / correction1)) / (Math.sqrt(v / correction2) + epsilon);
        }
      }
      state.batch++;
    }
    const { accuracy } = evaluateHead(state.head, examples);
    const progress = { epoch: state.epoch + 1, epochs, loss: epochLoss / Math.max(1, seen), accuracy };
    history.push(progress);
    state.epoch++;
    state.batch = 0;
    options.onProgress?.(progress);
    await yieldToEventLoop();
  }
  return { state, history };
}
