/**
 * What the training scripts of the default engine's linear scorers (the stage-2 reranker, the
 * stage-3 value scorer) share: their command-line options, the rounds of pseudo items they learn from
 * (train part only, the tuning harness's held-out items left out), and the trainer itself: each list
 * holds one feature row per candidate and which candidate is right; the weights minimise the softmax
 * cross-entropy of the right candidate over its list (the ModelToken objective over a feature vector),
 * with an L2 penalty, by full-batch Adam from zero. Deterministic for the same lists.
 */
import { parseArgs } from 'node:util';
import { buildCatalogIndex, type CatalogIndex } from '../../src/core/engines/default/index-build.ts';
import { DEFAULT_DATA_DIR, loadTrainCatalog, pseudoItems, type PseudoItem } from './pseudo-queries.ts';

export interface TrainingOptions {
  dataDir: string;
  rounds: number;
  perRound: number;
  l2: number;
  /** The tuning harness's seed, whose 400 held-out items no round trains on. */
  tuneSeed: number;
}

/** `[--data DIR] [--rounds 3] [--n 1500] [--l2 0.001] [--tune-seed 20231128]` */
export function parseTrainingOptions(): TrainingOptions {
  const { values } = parseArgs({
    options: {
      data: { type: 'string', default: DEFAULT_DATA_DIR },
      rounds: { type: 'string', default: '3' },
      n: { type: 'string', default: '1500' },
      l2: { type: 'string', default: '0.001' },
      'tune-seed': { type: 'string', default: '20231128' },
    },
  });
  return {
    dataDir: values.data,
    rounds: Number(values.rounds),
    perRound: Number(values.n),
    l2: Number(values.l2),
    tuneSeed: Number(values['tune-seed']),
  };
}

/** Each round: fresh pseudo items (seed 1000 + round) and the index built without their demonstrations. */
export function* trainingRounds(
  options: TrainingOptions,
): Generator<{ round: number; items: PseudoItem[]; index: CatalogIndex }> {
  const catalog = loadTrainCatalog(options.dataDir);
  const tuneHeldOut = new Set(pseudoItems(catalog, 400, options.tuneSeed).items.map((i) => i.gold.image_id));
  for (let round = 0; round < options.rounds; round++) {
    const { items, train } = pseudoItems(catalog, options.perRound, 1000 + round);
    yield { round, items: items.filter((i) => !tuneHeldOut.has(i.gold.image_id)), index: buildCatalogIndex(train) };
  }
}

export interface ScoredList {
  rows: Float64Array[];
  gold: number;
}

export interface ListwiseFit {
  weights: Float64Array;
  /** Mean cross-entropy and share of lists whose right candidate scores highest, at the last step. */
  loss: number;
  top1: number;
}

export function trainListwiseSoftmax(
  lists: readonly ScoredList[],
  dims: number,
  options: { steps: number; l2: number; lr?: number },
): ListwiseFit {
  const lr = options.lr ?? 0.05;
  const w = new Float64Array(dims);
  const m = new Float64Array(dims);
  const v = new Float64Array(dims);
  let loss = 0;
  let top1 = 0;
  for (let step = 1; step <= options.steps; step++) {
    const grad = new Float64Array(dims);
    loss = 0;
    top1 = 0;
    for (const { rows, gold } of lists) {
      const logits = new Float64Array(rows.length);
      let top = -Infinity;
      for (let i = 0; i < rows.length; i++) {
        const x = rows[i]!;
        let z = 0;
        for (let j = 0; j < dims; j++) z += x[j]! * w[j]!;
        logits[i] = z;
        if (z > top) top = z;
      }
      let sum = 0;
      for (let i = 0; i < rows.length; i++) sum += logits[i] = Math.exp(logits[i]! - top);
      loss -= Math.log(logits[gold]! / sum);
      if (logits[gold] === 1) top1++;
      for (let i = 0; i < rows.length; i++) {
        const p = logits[i]! / sum - (i === gold ? 1 : 0);
        const x = rows[i]!;
        for (let j = 0; j < dims; j++) grad[j]! += p * x[j]!;
      }
    }
    loss /= lists.length;
    for (let j = 0; j < dims; j++) {
      const g = grad[j]! / lists.length + options.l2 * w[j]!;
      m[j] = 0.9 * m[j]! + 0.1 * g;
      v[j] = 0.999 * v[j]! + 0.001 * g * g;
      w[j]! -= (lr * (m[j]! / (1 - 0.9 ** step))) / (Math.sqrt(v[j]! / (1 - 0.999 ** step)) + 1e-8);
    }
  }
  return { weights: w, loss, top1: top1 / lists.length };
}
