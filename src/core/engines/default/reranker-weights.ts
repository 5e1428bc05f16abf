/**
 * The stage-2 reranker's weights, written by scripts/train-default-reranker.ts (do not edit by hand):
 *   npx tsx scripts/train-default-reranker.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 3369 pseudo items from the train part only (held-out demonstrations, casualised);
 * final loss 0.967, top-1 within the shortlist 0.751.
 */
import type { Reranker } from './select.ts';

export const TRAINED_RERANKER: Reranker = {
  weights: {
    model: 4.4729,
    demoMax: 1.9675,
    demoTop2: 0.8472,
    nameMatch: 2.3442,
    popularity: 0.0178,
    lora: -0.2383,
    demoCount: -2.5856,
    modelCoverage: 4.2362,
    nameField: -0.0291,
    tagsField: 1.9268,
    triggerField: 0.4294,
    descriptionField: -0.15,
    knnVote: 1.8397,
    sd15: -0.1203,
    loraNameMatch: -0.1305,
    loraTagsField: -0.9041,
    checkpointModel: -0.2504
  },
};
