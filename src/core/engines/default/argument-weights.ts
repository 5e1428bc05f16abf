/**
 * The stage-3 value scorer's weights, written by scripts/train-default-arguments.ts (do not edit by hand):
 *   npx tsx scripts/train-default-arguments.ts --rounds 3 --n 1500 --l2 0.001
 * Trained on 21106 (item, argument) lists of pseudo items from the train part only (held-out
 * demonstrations, casualised); final loss 1.002, top-1 0.713.
 */
import type { ArgumentFeatures } from './args.ts';

export const TRAINED_ARGUMENT_WEIGHTS: ArgumentFeatures = {
  habit: -0.9923,
  confidentHabit: 1.9242,
  topDemo: 0.7324,
  runnersUp: 0.4433,
  posterior: 1.95,
  nearest: 1.7934,
  prior: 0.384,
  global: 0.7867
};
