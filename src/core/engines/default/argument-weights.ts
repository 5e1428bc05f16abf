/**
 * The stage-3 value scorer's weights, written by scripts/train-default-arguments.ts (do not edit by hand):
 *   npx tsx scripts/train-default-arguments.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 21106 (item, argument) lists of pseudo items from the train part only (held-out
 * demonstrations, casualised); final loss 1.003, top-1 0.713.
 */
import type { ArgumentFeatures } from './argument-features.ts';

export const TRAINED_ARGUMENT_WEIGHTS: ArgumentFeatures = {
  habit: -0.9916,
  confidentHabit: 1.9182,
  topDemo: 0.74,
  runnersUp: 0.4473,
  posterior: 1.9437,
  nearest: 1.792,
  prior: 0.3787,
  global: 0.7912,
};
