/**
 * Config (argument) accuracy as in the ChatGen paper: exact match per argument, averaged over the five
 * arguments the model's authors chose. Predictions may come from files or broken engines, so every
 * value is read defensively: a missing or non-numeric value is a miss, never an exception.
 */

export const SCORED_ARGUMENTS = ['sampler', 'steps', 'cfg_scale', 'width', 'height'] as const;
export type ScoredArgument = (typeof SCORED_ARGUMENTS)[number];

export interface GoldArguments {
  sampler: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
}

/** What an engine predicted, as read back from anywhere: any field may be absent or of the wrong type. */
export type PredictedArguments = Partial<Record<ScoredArgument, unknown>> | null | undefined;

export type ArgumentMatches = Record<ScoredArgument, boolean>;

/** A finite number, or a string that is exactly one ("20", " 7.5 "); anything else is not numeric. */
function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * Per-argument exact match. The sampler must be the same string (surrounding spaces ignored):
 * "DPM++ 2M Karras" and "DPM++ 2M" are different samplers, and a community variant such as
 * "DPM++ 2M Karras MOD" is what the gold says the author used. Numbers must be equal (7 equals 7.0).
 */
export function argumentMatches(predicted: PredictedArguments, gold: GoldArguments): ArgumentMatches {
  const p = predicted ?? {};
  const number = (field: Exclude<ScoredArgument, 'sampler'>) => {
    const n = asNumber(p[field]);
    return n !== null && n === gold[field];
  };
  return {
    sampler: typeof p.sampler === 'string' && p.sampler.trim() === gold.sampler.trim(),
    steps: number('steps'),
    cfg_scale: number('cfg_scale'),
    width: number('width'),
    height: number('height'),
  };
}

/** Share of the five arguments that match: 0, 0.2, ..., 1. */
export function configAccuracy(matches: ArgumentMatches): number {
  return SCORED_ARGUMENTS.filter((a) => matches[a]).length / SCORED_ARGUMENTS.length;
}
