/**
 * Trains the default engine's stage-3 value scorer on the TRAIN part only and writes
 * src/core/engines/default/argument-weights.ts.
 *
 * Pseudo items are drawn as for the reranker (scripts/lib/pseudo-queries.ts: one demonstration per
 * sampled model held out, casualised into a chat; the index built without them). Stage 2 runs as the
 * engine runs it; for each of the five arguments, the candidate values and their features
 * (args.ts: argumentEvidence) form one list, and the weights minimise the softmax cross-entropy of
 * the held-out demonstration's value over that list, with a small L2 penalty, by full-batch Adam.
 * Lists that lack the true value teach nothing and are skipped. Demonstrations held out by the tuning
 * harness's default seed are never used, so `npx tsx scripts/tune-default-engine.ts` measures on
 * items these weights never saw.
 *
 *   npx tsx scripts/train-default-arguments.ts [--data DIR] [--rounds 3] [--n 1500]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mergeTurns } from '../src/core/chat.ts';
import {
  ARGUMENT_FEATURES,
  argumentEvidence,
  buildArgumentPriors,
  DEFAULT_ARGUMENT_OPTIONS,
  valueKey,
  VOTED,
  type ArgumentFeature,
} from '../src/core/engines/default/args.ts';
import { requestQuery } from '../src/core/engines/default/index.ts';
import { TRAINED_RERANKER } from '../src/core/engines/default/reranker-weights.ts';
import { DEFAULT_SELECT_WEIGHTS, normaliseScores, rankModels } from '../src/core/engines/default/select.ts';
import { parseTrainingOptions, trainingRounds, trainListwiseSoftmax, type ScoredList } from './lib/train-linear.ts';

const options = parseTrainingOptions();

/** One list per (item, argument): the candidate values' feature rows and which one is the true value. */
const lists: ScoredList[] = [];
let skipped = 0;
for (const { round, items, index } of trainingRounds(options)) {
  const priors = buildArgumentPriors(index);
  for (const item of items) {
    const query = requestQuery(mergeTurns(item.messages).text, index);
    const ranked = rankModels(index, query, DEFAULT_SELECT_WEIGHTS, 5, undefined, TRAINED_RERANKER);
    const best = ranked[0];
    if (!best) continue;
    const probabilities = normaliseScores(
      ranked.map((r) => r.score),
      1,
    );
    const demoScores = new Float32Array(index.demoIndex.size);
    index.demoIndex.accumulate(query, demoScores);
    const shortlist = ranked.map((r, i) => ({ row: r.row, probability: probabilities[i]! }));
    const evidence = argumentEvidence(index, priors, best.row, demoScores, shortlist, DEFAULT_ARGUMENT_OPTIONS);
    for (const name of VOTED) {
      const candidates = evidence.candidates[name];
      const gold = candidates.findIndex((c) => c.value === valueKey(name, item.gold.arguments));
      if (gold < 0) {
        skipped++;
        continue;
      }
      lists.push({ rows: candidates.map((c) => Float64Array.from(ARGUMENT_FEATURES, (f) => c.features[f])), gold });
    }
  }
  process.stderr.write(`round ${round + 1}/${options.rounds}: ${lists.length} lists\n`);
}

const {
  weights: w,
  loss,
  top1,
} = trainListwiseSoftmax(lists, ARGUMENT_FEATURES.length, { steps: 400, l2: options.l2 });
process.stderr.write(
  `trained on ${lists.length} lists (${skipped} skipped: true value not among the candidates); loss ${loss.toFixed(3)}, top-1 ${top1.toFixed(3)}\n`,
);

const weights = Object.fromEntries(ARGUMENT_FEATURES.map((f, j) => [f, Number(w[j]!.toFixed(4))])) as Record<
  ArgumentFeature,
  number
>;
const out = path.resolve(import.meta.dirname, '../src/core/engines/default/argument-weights.ts');
writeFileSync(
  out,
  `/**
 * The stage-3 value scorer's weights, written by scripts/train-default-arguments.ts (do not edit by hand):
 *   npx tsx scripts/train-default-arguments.ts --rounds ${options.rounds} --n ${options.perRound} --l2 ${options.l2}
 * Trained on ${lists.length} (item, argument) lists of pseudo items from the train part only (held-out
 * demonstrations, casualised); final loss ${loss.toFixed(3)}, top-1 ${top1.toFixed(3)}.
 */
import type { ArgumentFeatures } from './argument-features.ts';

export const TRAINED_ARGUMENT_WEIGHTS: ArgumentFeatures = ${JSON.stringify(weights, null, 2).replace(/"(\w+)":/g, '$1:')};
`,
);
console.log(JSON.stringify(weights));
