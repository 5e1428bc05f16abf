/**
 * The stage-2 reranker's weights, written by scripts/train-default-reranker.ts (do not edit by hand):
 *   npx tsx scripts/train-default-reranker.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 3356 pseudo items from the train part only (held-out demonstrations, casualised);
 * final loss 0.992, top-1 within the shortlist 0.744.
 */
import type { Reranker } from './select.ts';

export const TRAINED_RERANKER: Reranker = {
  weights: {
    model: 4.6587,
    demoMax: 1.8697,
    demoTop2: 0.8597,
    nameMatch: 2.2804,
    popularity: -0.0903,
    lora: -0.1414,
    demoCount: -2.5218,
    modelCoverage: 4.0299,
    nameField: -0.0367,
    tagsField: 1.2265,
    triggerField: 0.4406,
    descriptionField: -0.1395,
    knnVote: 1.6516,
    sd15: -0.1262
  },
};
