/**
 * The stage-2 reranker's weights, written by scripts/train-default-reranker.ts (do not edit by hand):
 *   npx tsx scripts/train-default-reranker.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 3324 pseudo items from the train part only (held-out demonstrations, casualised);
 * final loss 0.968, top-1 within the shortlist 0.757.
 */
import type { Reranker } from './select.ts';

export const TRAINED_RERANKER: Reranker = {
  weights: {
    model: 4.5161,
    demoMax: 2.0318,
    demoTop2: 1.1022,
    nameMatch: 1.8365,
    popularity: -0.1525,
    lora: -0.5871,
    demoCount: -2.6217,
    modelCoverage: 3.5523,
    nameField: 0.0452,
    tagsField: 1.7558,
    triggerField: 0.6056,
    descriptionField: 0.1157,
    knnVote: 1.868,
    sd15: -0.0946,
    loraNameMatch: 0.2692,
    loraTagsField: -0.8909,
    checkpointModel: -0.4837,
  },
};
