/**
 * Trains the default engine's stage-2 reranker on the TRAIN part only and writes
 * src/core/engines/default/reranker-weights.ts.
 *
 * For several fixed seeds, pseudo items are drawn (scripts/lib/pseudo-queries.ts: one demonstration
 * per sampled model held out, casualised into a chat) and the index is built without them. Each
 * item's first-stage shortlist gives one feature vector per candidate; the weights minimise the
 * softmax cross-entropy of the true model over its shortlist (the ModelToken objective over a lexical
 * h), with a small L2 penalty, by full-batch Adam. Items whose true model misses the shortlist teach
 * nothing and are skipped. Demonstrations held out by the tuning harness's default seed are never used,
 * so `npx tsx scripts/tune-default-engine.ts` measures on items the reranker never saw.
 *
 *   npx tsx scripts/train-default-reranker.ts [--data DIR] [--rounds 3] [--n 1500]
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { mergeTurns } from '../src/core/chat.ts';
import { requestQuery } from '../src/core/engines/default/index.ts';
import { TRAINED_RERANKER } from '../src/core/engines/default/reranker-weights.ts';
import {
  DEFAULT_SELECT_WEIGHTS,
  RERANK_FEATURES,
  rankModels,
  type RerankFeature,
} from '../src/core/engines/default/select.ts';
import { parseTrainingOptions, trainingRounds, trainListwiseSoftmax, type ScoredList } from './lib/train-linear.ts';

const options = parseTrainingOptions();

/** Each training item: the candidates' feature rows and which one is the true model. */
const lists: ScoredList[] = [];
let skipped = 0;
let total = 0;
for (const { round, items, index } of trainingRounds(options)) {
  for (const item of items) {
    total++;
    const text = mergeTurns(item.messages).text;
    const ranked = rankModels(
      index,
      requestQuery(text, index),
      DEFAULT_SELECT_WEIGHTS,
      DEFAULT_SELECT_WEIGHTS.shortlist,
      undefined,
      TRAINED_RERANKER,
    );
    const gold = ranked.findIndex((r) => index.models[r.row]!.id === item.gold.model_id);
    if (gold < 0 || ranked.length < 2) {
      skipped++;
      continue;
    }
    lists.push({ rows: ranked.map((r) => Float64Array.from(RERANK_FEATURES, (f) => r.features[f])), gold });
  }
  process.stderr.write(`round ${round + 1}/${options.rounds}: ${lists.length} lists\n`);
}

const { weights: w, loss, top1 } = trainListwiseSoftmax(lists, RERANK_FEATURES.length, { steps: 600, l2: options.l2 });
process.stderr.write(
  `trained on ${lists.length} items (${skipped} of ${total} skipped: true model outside the shortlist); ` +
    `loss ${loss.toFixed(3)}, top-1 within shortlist ${top1.toFixed(3)}\n`,
);

const weights = Object.fromEntries(RERANK_FEATURES.map((f, j) => [f, Number(w[j]!.toFixed(4))])) as Record<
  RerankFeature,
  number
>;
const out = path.resolve(import.meta.dirname, '../src/core/engines/default/reranker-weights.ts');
writeFileSync(
  out,
  `/**
 * The stage-2 reranker's weights, written by scripts/train-default-reranker.ts (do not edit by hand):
 *   npx tsx scripts/train-default-reranker.ts --rounds ${options.rounds} --n ${options.perRound} --l2 ${options.l2}
 * Trained on ${lists.length} pseudo items from the train part only (held-out demonstrations, casualised);
 * final loss ${loss.toFixed(3)}, top-1 within the shortlist ${top1.toFixed(3)}.
 */
import type { Reranker } from './select.ts';

export const TRAINED_RERANKER: Reranker = {
  weights: ${JSON.stringify(weights, null, 2)
    .replace(/"(\w+)":/g, '$1:')
    .replace(/\n/g, '\n  ')},
};
`,
);
console.log(JSON.stringify(weights));
