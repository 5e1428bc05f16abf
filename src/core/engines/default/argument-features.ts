/** The features stage 3 scores each candidate argument value by (args.ts computes them; argument-weights.ts weighs them). */
export const ARGUMENT_FEATURES = [
  'habit',
  'confidentHabit',
  'topDemo',
  'runnersUp',
  'posterior',
  'nearest',
  'prior',
  'global',
] as const;
export type ArgumentFeature = (typeof ARGUMENT_FEATURES)[number];
export type ArgumentFeatures = Record<ArgumentFeature, number>;
