import { describe, expect, it } from 'vitest';
import {
  addModelRow,
  createHead,
  evaluateHead,
  logSumExp,
  ModelTokenError,
  scoreModels,
  trainHead,
  TrainingAbortedError,
  type ModelTokenHead,
  type TrainingExample,
} from '../../src/core/modeltoken.ts';

function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
function seeded(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
}

/** Examples around one random centre per model: separable, but not trivially (noise 0.6 of the centre scale). */
function syntheticSet(modelIds: number[], perModel: number, dim: number, seed: number): TrainingExample[] {
  const random = seeded(seed);
  const centres = new Map(modelIds.map((id) => [id, Float32Array.from({ length: dim }, () => gaussian(random))]));
  const out: TrainingExample[] = [];
  for (const id of modelIds) {
    for (let i = 0; i < perModel; i++) {
      const c = centres.get(id)!;
      out.push({ modelId: id, h: c.map((x) => x + 0.6 * gaussian(random)), vocabLogSumExp: 2 + gaussian(random) });
    }
  }
  return out;
}

describe('ModelToken head math', () => {
  it('selects a planted row and splits the mass between models and vocabulary', () => {
    const dim = 8;
    const head = createHead([11, 22, 33, 44], dim);
    const random = seeded(3);
    head.weights.forEach((_, i) => (head.weights[i] = 0.1 * gaussian(random)));
    const h = Float32Array.from({ length: dim }, () => gaussian(random));
    // Plant row 2 (model 33) along h.
    for (let k = 0; k < dim; k++) head.weights[2 * dim + k] = h[k]!;
    const scores = scoreModels(head, h, 1.5);
    const best = scores.probabilities.indexOf(Math.max(...scores.probabilities));
    expect(head.modelIds[best]).toBe(33);
    const vocabMass = Math.exp(1.5 - logSumExp([...scores.logits, 1.5]));
    expect(scores.modelMass + vocabMass).toBeCloseTo(1, 6);
    // Leaving the planted model out of the competition gives it no mass.
    const without = scoreModels(head, h, 1.5, [true, true, false, true]);
    expect(without.probabilities[2]).toBe(0);
    expect(without.modelMass).toBeLessThan(scores.modelMass);
  });

  it('rejects heads and hidden states of the wrong shape', () => {
    expect(() => scoreModels(createHead([1, 2], 4), new Float32Array(5), 0)).toThrow(/5 values; the head expects 4/);
    expect(() => createHead([1, 1], 4)).toThrow(ModelTokenError);
    expect(() => addModelRow(createHead([1], 4), 1)).toThrow(/already has a row/);
  });
});

describe('ModelToken training (AdamW on W_m only)', () => {
  const ids = [101, 102, 103, 104, 105, 106, 107, 108];
  const dim = 16;
  const examples = syntheticSet(ids, 20, dim, 7);

  it('reaches >= 95% train accuracy on a separable synthetic set, with progress per epoch', async () => {
    const seen: number[] = [];
    const { state, history } = await trainHead(createHead(ids, dim), examples, {
      epochs: 40,
      learningRate: 0.05,
      onProgress: (p) => seen.push(p.epoch),
    });
    expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(evaluateHead(state.head, examples).accuracy).toBeGreaterThanOrEqual(0.95);
    expect(history.at(-1)!.loss).toBeLessThan(history[0]!.loss);
  });

  it('cancels with a resumable state, and resuming gives the same head as an uninterrupted run', async () => {
    const full = await trainHead(createHead(ids, dim), examples, { epochs: 6, batchSize: 16 });
    const controller = new AbortController();
    let stopped: TrainingAbortedError | null = null;
    try {
      await trainHead(createHead(ids, dim), examples, {
        epochs: 6,
        batchSize: 16,
        signal: controller.signal,
        onProgress: (p) => p.epoch === 2 && controller.abort(),
      });
    } catch (err) {
      stopped = err as TrainingAbortedError;
    }
    expect(stopped).toBeInstanceOf(TrainingAbortedError);
    expect(stopped!.state.epoch).toBe(2);
    const resumed = await trainHead(createHead(ids, dim), examples, {
      epochs: 6,
      batchSize: 16,
      resume: stopped!.state,
    });
    expect(Array.from(resumed.state.head.weights)).toEqual(Array.from(full.state.head.weights));
  });

  it('adds a new model with a handful of examples, leaving every other row bit-identical', async () => {
    const oldIds = ids.slice(0, 7);
    const newId = ids[7]!;
    const old = examples.filter((e) => e.modelId !== newId);
    const trained: ModelTokenHead = (await trainHead(createHead(oldIds, dim), old, { epochs: 30, learningRate: 0.05 }))
      .state.head;
    const grown = addModelRow(trained, newId);
    const handful = examples.filter((e) => e.modelId === newId).slice(0, 5);
    const { state } = await trainHead(grown, [...handful, ...old], {
      epochs: 30,
      learningRate: 0.05,
      trainableModelIds: new Set([newId]),
    });
    const before = new Uint8Array(trained.weights.buffer);
    const after = new Uint8Array(state.head.weights.buffer, 0, trained.weights.byteLength);
    expect(Buffer.from(after).equals(Buffer.from(before))).toBe(true);
    // The new row wins on its held-out examples.
    const heldOut = examples.filter((e) => e.modelId === newId).slice(5);
    expect(evaluateHead(state.head, heldOut).accuracy).toBeGreaterThanOrEqual(0.8);
  });

  it('works for an encoder without a vocabulary (vocabLogSumExp = 0 or -Infinity)', async () => {
    for (const lse of [0, -Infinity]) {
      const plain = examples.map((e) => ({ ...e, vocabLogSumExp: lse }));
      const { state } = await trainHead(createHead(ids, dim), plain, { epochs: 20, learningRate: 0.05 });
      expect(evaluateHead(state.head, plain).accuracy).toBeGreaterThanOrEqual(0.95);
      expect(Number.isFinite(state.head.weights[0])).toBe(true);
    }
  });
});
