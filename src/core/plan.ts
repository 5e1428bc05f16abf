/**
 * The generation plan: what the three stages produce and what an endpoint receives.
 * Sampler names follow AUTOMATIC1111 ("DPM++ 2M Karras", "Euler a", ...), the naming used by the
 * community records the engines learn from.
 */

/** Sampler names AUTOMATIC1111 (and Forge / SD.Next) ship, scheduler suffix included. */
export const KNOWN_SAMPLERS = [
  'Euler a',
  'Euler',
  'LMS',
  'LMS Karras',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM2 Karras',
  'DPM2 a Karras',
  'DPM++ 2S a',
  'DPM++ 2S a Karras',
  'DPM++ 2M',
  'DPM++ 2M Karras',
  'DPM++ SDE',
  'DPM++ SDE Karras',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Karras',
  'DPM++ 2M SDE Exponential',
  'DPM++ 3M SDE',
  'DPM++ 3M SDE Karras',
  'DPM++ 3M SDE Exponential',
  'DPM fast',
  'DPM adaptive',
  'DDIM',
  'PLMS',
  'UniPC',
  'LCM',
] as const;

export type KnownSampler = (typeof KNOWN_SAMPLERS)[number];

/** Old k-diffusion / script spellings that mean a known sampler. */
const SAMPLER_ALIASES: Readonly<Record<string, KnownSampler>> = {
  euler_a: 'Euler a',
  k_euler_a: 'Euler a',
  euler_ancestral: 'Euler a',
  k_euler: 'Euler',
  euler: 'Euler',
  k_lms: 'LMS',
  k_heun: 'Heun',
  k_dpm_2: 'DPM2',
  k_dpm_2_a: 'DPM2 a',
  ddim: 'DDIM',
  plms: 'PLMS',
};

export interface ParsedSampler {
  /** The A1111 sampler this name runs. */
  base: KnownSampler;
  /**
   * A custom variant suffix some community installs add ("DPM++ 2M Karras MOD" -> "MOD"); the variant
   * is kept in the plan because it is what the model's authors used, and endpoints run `base`.
   */
  variant: string | null;
}

const SAMPLERS_LONGEST_FIRST = [...KNOWN_SAMPLERS].sort((a, b) => b.length - a.length);

/** Reads a sampler name: a known one, an alias, or a known one followed by a custom variant suffix. */
export function parseSampler(name: string): ParsedSampler | null {
  const trimmed = name.trim();
  const alias = SAMPLER_ALIASES[trimmed.toLowerCase()];
  if (alias) return { base: alias, variant: null };
  for (const known of SAMPLERS_LONGEST_FIRST) {
    if (trimmed === known) return { base: known, variant: null };
  }
  // Community variants keep the known name's words in order and add their own: "DPM++ 2M Karras MOD",
  // "DPM++ 2M alt Karras". The longest known name whose words appear in order (same first word) wins.
  const words = trimmed.split(/\s+/);
  for (const known of SAMPLERS_LONGEST_FIRST) {
    const knownWords = known.split(' ');
    if (words[0] !== knownWords[0] || words.length <= knownWords.length) continue;
    const extra: string[] = [];
    let k = 0;
    for (const w of words) {
      if (k < knownWords.length && w === knownWords[k]) k++;
      else extra.push(w);
    }
    if (k === knownWords.length) return { base: known, variant: extra.join(' ') };
  }
  return null;
}

/** The canonical spelling of a sampler name (aliases resolved, variants kept), or null when unknown. */
export function canonicalSampler(name: string): string | null {
  const parsed = parseSampler(name);
  if (!parsed) return null;
  if (parsed.variant === null) return parsed.base;
  return name.trim();
}

export interface GenerationArguments {
  sampler: string;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  seed: number;
}

export const ARGUMENT_LIMITS = {
  steps: { min: 1, max: 150 },
  cfg_scale: { min: 1, max: 30 },
  size: { min: 256, max: 2048, multiple: 8 },
  seed: { min: 0, max: 0xffffffff },
} as const;

export type ModelType = 'Checkpoint' | 'LORA';

export interface PlannedModel {
  id: number;
  name: string;
  type: ModelType;
  file: string;
  base_model: string;
  trained_words: string[];
  hash: string | null;
}

export interface GenerationPlan {
  prompt: string;
  negative_prompt: string;
  /** The LoRA when the plan uses one, else the checkpoint. */
  model: PlannedModel;
  /**
   * For a LoRA plan: the checkpoint the LoRA runs on (the one its demonstrations were made with, same
   * base family). Absent for a checkpoint plan, or when no fitting checkpoint is known.
   */
  base_checkpoint?: PlannedModel;
  arguments: GenerationArguments;
}

export interface ArgumentProblem {
  field: keyof GenerationArguments;
  message: string;
}

/** Checks arguments against what every endpoint accepts; returns the problems, empty when valid. */
export function validateArguments(args: GenerationArguments): ArgumentProblem[] {
  const problems: ArgumentProblem[] = [];
  if (canonicalSampler(args.sampler) === null) {
    problems.push({ field: 'sampler', message: `unknown sampler "${args.sampler}"` });
  }
  const { steps, cfg_scale, size, seed } = ARGUMENT_LIMITS;
  if (!Number.isInteger(args.steps) || args.steps < steps.min || args.steps > steps.max) {
    problems.push({
      field: 'steps',
      message: `steps must be a whole number from ${steps.min} to ${steps.max}, got ${args.steps}`,
    });
  }
  if (!Number.isFinite(args.cfg_scale) || args.cfg_scale < cfg_scale.min || args.cfg_scale > cfg_scale.max) {
    problems.push({
      field: 'cfg_scale',
      message: `cfg_scale must be from ${cfg_scale.min} to ${cfg_scale.max}, got ${args.cfg_scale}`,
    });
  }
  for (const field of ['width', 'height'] as const) {
    const v = args[field];
    if (!Number.isInteger(v) || v < size.min || v > size.max || v % size.multiple !== 0) {
      problems.push({
        field,
        message: `${field} must be a multiple of ${size.multiple} from ${size.min} to ${size.max}, got ${v}`,
      });
    }
  }
  if (!Number.isInteger(args.seed) || args.seed < seed.min || args.seed > seed.max) {
    problems.push({
      field: 'seed',
      message: `seed must be a whole number from ${seed.min} to ${seed.max}, got ${args.seed}`,
    });
  }
  return problems;
}

/** Brings a size into range and onto the multiple-of-8 grid (nearest). */
export function snapSize(value: number): number {
  const { min, max, multiple } = ARGUMENT_LIMITS.size;
  const v = Number.isFinite(value) ? value : 512;
  return Math.min(max, Math.max(min, Math.round(v / multiple) * multiple));
}

/** Repairs what can be repaired (clamps, snaps, canonical sampler) so that the result always validates. */
export function repairArguments(
  args: GenerationArguments,
  fallbackSampler: KnownSampler = 'Euler a',
): GenerationArguments {
  const { steps, cfg_scale, seed } = ARGUMENT_LIMITS;
  const clamp = (v: number, lo: number, hi: number, dflt: number) =>
    Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : dflt;
  return {
    sampler: canonicalSampler(args.sampler) ?? fallbackSampler,
    steps: Math.round(clamp(args.steps, steps.min, steps.max, 20)),
    cfg_scale: Math.round(clamp(args.cfg_scale, cfg_scale.min, cfg_scale.max, 7) * 10) / 10,
    width: snapSize(args.width),
    height: snapSize(args.height),
    seed: Number.isInteger(args.seed) && args.seed >= seed.min && args.seed <= seed.max ? args.seed : 0,
  };
}
