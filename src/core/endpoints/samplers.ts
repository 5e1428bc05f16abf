/**
 * Sampler translation. Plans carry A1111 names ("DPM++ 2M Karras", custom variants such as
 * "DPM++ 2M Karras MOD" included); A1111 v1.9+ wants sampler and scheduler apart, ComfyUI wants its
 * own sampler and scheduler identifiers. Custom variants run their base sampler.
 */
import { KNOWN_SAMPLERS, parseSampler, type KnownSampler } from '../plan.ts';

export class UnknownSamplerError extends Error {
  override name = 'UnknownSamplerError';
}

function parsed(name: string): { base: KnownSampler; variantWords: string[] } {
  const p = parseSampler(name);
  if (!p) throw new UnknownSamplerError(`unknown sampler "${name}"`);
  return { base: p.base, variantWords: p.variant ? p.variant.split(/\s+/) : [] };
}

const baseOf = (name: string): KnownSampler => parsed(name).base;

const SCHEDULER_SUFFIXES = [
  [' Karras', 'karras'],
  [' Exponential', 'exponential'],
] as const;

export interface A1111Sampler {
  sampler_name: string;
  /** A1111 scheduler name ("karras", "exponential", "automatic" = the sampler's default). */
  scheduler: string;
}

/** "DPM++ 2M Karras" -> { sampler_name: "DPM++ 2M", scheduler: "karras" } (A1111 v1.9+ naming). */
export function splitA1111Sampler(name: string): A1111Sampler {
  const { base, variantWords } = parsed(name);
  for (const [suffix, scheduler] of SCHEDULER_SUFFIXES) {
    if (base.endsWith(suffix)) return { sampler_name: base.slice(0, -suffix.length), scheduler };
  }
  // "DPM++ 2M alt Karras": the variant words still name the schedule its author used.
  for (const [suffix, scheduler] of SCHEDULER_SUFFIXES) {
    if (variantWords.includes(suffix.trim())) return { sampler_name: base, scheduler };
  }
  return { sampler_name: base, scheduler: 'automatic' };
}

/** The A1111 (pre-v1.9) combined name a plan's sampler runs as: the base, variant dropped. */
export function combinedA1111Sampler(name: string): string {
  const base = baseOf(name);
  const { sampler_name, scheduler } = splitA1111Sampler(name);
  const suffix = SCHEDULER_SUFFIXES.find(([, id]) => id === scheduler)?.[0];
  const combined = suffix ? sampler_name + suffix : sampler_name;
  return (KNOWN_SAMPLERS as readonly string[]).includes(combined) ? combined : base;
}

export interface ComfySampler {
  sampler_name: string;
  scheduler: string;
  /** False where ComfyUI has no exact counterpart and the closest one is used. */
  exact: boolean;
}

/** A1111 sampler (without scheduler suffix) -> ComfyUI sampler id and its default scheduler. */
const COMFY_SAMPLERS: Readonly<Record<string, { sampler: string; scheduler: string; exact: boolean }>> = {
  'Euler a': { sampler: 'euler_ancestral', scheduler: 'normal', exact: true },
  Euler: { sampler: 'euler', scheduler: 'normal', exact: true },
  LMS: { sampler: 'lms', scheduler: 'normal', exact: true },
  Heun: { sampler: 'heun', scheduler: 'normal', exact: true },
  DPM2: { sampler: 'dpm_2', scheduler: 'normal', exact: true },
  'DPM2 a': { sampler: 'dpm_2_ancestral', scheduler: 'normal', exact: true },
  'DPM++ 2S a': { sampler: 'dpmpp_2s_ancestral', scheduler: 'normal', exact: true },
  'DPM++ 2M': { sampler: 'dpmpp_2m', scheduler: 'normal', exact: true },
  'DPM++ SDE': { sampler: 'dpmpp_sde', scheduler: 'normal', exact: true },
  'DPM++ 2M SDE': { sampler: 'dpmpp_2m_sde', scheduler: 'normal', exact: true },
  'DPM++ 3M SDE': { sampler: 'dpmpp_3m_sde', scheduler: 'normal', exact: true },
  'DPM fast': { sampler: 'dpm_fast', scheduler: 'normal', exact: true },
  'DPM adaptive': { sampler: 'dpm_adaptive', scheduler: 'normal', exact: true },
  // A1111's DDIM uses its own uniform timestep spacing, which ComfyUI calls ddim_uniform.
  DDIM: { sampler: 'ddim', scheduler: 'ddim_uniform', exact: true },
  UniPC: { sampler: 'uni_pc', scheduler: 'normal', exact: true },
  // LCM models are sampled on the sgm_uniform schedule in ComfyUI's own LCM examples.
  LCM: { sampler: 'lcm', scheduler: 'sgm_uniform', exact: true },
  // ComfyUI has no PLMS; LMS is the nearest linear multistep method.
  PLMS: { sampler: 'lms', scheduler: 'normal', exact: false },
};

export function toComfySampler(name: string): ComfySampler {
  const { sampler_name, scheduler } = splitA1111Sampler(name);
  const entry = COMFY_SAMPLERS[sampler_name];
  if (!entry) throw new UnknownSamplerError(`no ComfyUI counterpart for sampler "${name}"`);
  return {
    sampler_name: entry.sampler,
    scheduler: scheduler === 'automatic' ? entry.scheduler : scheduler,
    exact: entry.exact,
  };
}
