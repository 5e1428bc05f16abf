/**
 * The stage-2 reranker's weights, written by scripts/train-default-reranker.ts (do not edit by hand):
 *   npx tsx scripts/train-default-reranker.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 3325 pseudo items from the train part only (held-out demonstrations, casualised);
 * final loss 0.966, top-1 within the shortlist 0.757.
 */
import type { Reranker } from './select.ts';

export const TRAINED_RERANKER: Reranker = {
  weights: {
    model: 4.5365,
    demoMax: 2.0174,
    demoTop2: 1.1,
    nameMatch: 1.8323,
    popularity: -0.1657,
    lora: -0.5793,
    demoCount: -2.6237,
    modelCoverage: 3.5645,
    nameField: 0.0578,
    tagsField: 1.7469,
    triggerField: 0.6036,
    descriptionField: 0.1083,
    knnVote: 1.8612,
    sd15: -0.0942,
    loraNameMatch: 0.2769,
    loraTagsField: -0.8775,
    checkpointModel: -0.4838
  },
};
