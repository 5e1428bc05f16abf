/**
 * A plan as AUTOMATIC1111 "parameters" text (what A1111 shows under an image and pastes into its
 * prompt box), and that text read back into a plan. The text itself comes from the endpoints' writer
 * and reader (`formatParameters`, `parseParameters`); this module adds what a plan needs beyond them:
 * a LoRA plan names its LoRA as A1111 does (a `<lora:name:1>` tag after the prompt and "Lora hashes"),
 * and reading back resolves the model and its checkpoint against the catalog.
 */
import { formatParameters, parseParameters } from '../endpoints/infotext.ts';
import { canonicalSampler, validateArguments, type GenerationPlan, type PlannedModel } from '../plan.ts';

const stem = (file: string) => file.replace(/^.*[\\/]/, '').replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');
const LORA_TAG = / ?<lora:([^:>]+):([\d.]+)>$/;

/** The parameters text for a plan (its own seed). */
export function planToParameters(plan: GenerationPlan): string {
  if (plan.model.type !== 'LORA') return formatParameters(plan, plan.arguments.seed);
  const lora = stem(plan.model.file || plan.model.name);
  const extra: Record<string, string> = {};
  const base = plan.base_checkpoint;
  if (base?.hash) extra['Model hash'] = base.hash.toLowerCase();
  if (base) extra['Model'] = stem(base.file || base.name);
  if (plan.model.hash) extra['Lora hashes'] = `${lora}: ${plan.model.hash.toLowerCase()}`;
  return formatParameters({ ...plan, prompt: `${plan.prompt} <lora:${lora}:1>` }, plan.arguments.seed, extra);
}

/** How parameters text names a model: what a catalog lookup can match on. */
export interface ModelReference {
  /** A file name without extension (A1111's "Model" field, or a LoRA tag's name). */
  name: string;
  hash: string | null;
}

export type ModelResolver = (reference: ModelReference, type: PlannedModel['type']) => PlannedModel | null;

/** Matches a reference against catalog models: by hash first, then by file name, then by model name. */
export function catalogResolver(models: readonly PlannedModel[]): ModelResolver {
  return (ref, type) => {
    const ofType = models.filter((m) => m.type === type);
    const hash = ref.hash?.toLowerCase();
    return (
      (hash ? ofType.find((m) => m.hash?.toLowerCase() === hash) : undefined) ??
      ofType.find((m) => stem(m.file).toLowerCase() === ref.name.toLowerCase()) ??
      ofType.find((m) => m.name.toLowerCase() === ref.name.toLowerCase()) ??
      null
    );
  };
}

export class ParametersError extends Error {
  override name = 'ParametersError';
}

/** Reads parameters text back into a plan; the models are looked up with `resolve` (e.g. the active catalog). */
export function parametersToPlan(text: string, resolve: ModelResolver): GenerationPlan {
  const parsed = parseParameters(text.replace(/\r\n/g, '\n').trimEnd());
  const f = parsed.fields;
  const size = /^(\d+)x(\d+)$/.exec(f['Size'] ?? '');
  const need = (key: string) => {
    const v = f[key];
    if (v === undefined) throw new ParametersError(`The parameters have no "${key}".`);
    return v;
  };
  if (!size) throw new ParametersError(`The parameters have no "Size" of the form 512x768.`);
  const sampler = canonicalSampler(need('Sampler'));
  if (!sampler) throw new ParametersError(`Unknown sampler "${f['Sampler']}".`);
  const args = {
    sampler,
    steps: Number(need('Steps')),
    cfg_scale: Number(need('CFG scale')),
    width: Number(size[1]),
    height: Number(size[2]),
    seed: Number(need('Seed')),
  };
  const problems = validateArguments(args);
  if (problems.length) throw new ParametersError(problems.map((p) => p.message).join('; '));

  let prompt = parsed.prompt;
  const tag = LORA_TAG.exec(prompt);
  const checkpointRef: ModelReference | null = f['Model'] ? { name: f['Model'], hash: f['Model hash'] ?? null } : null;
  const checkpoint = checkpointRef ? resolve(checkpointRef, 'Checkpoint') : null;
  if (checkpointRef && !checkpoint)
    throw new ParametersError(`The checkpoint "${checkpointRef.name}" is not in the catalog.`);
  if (tag) {
    prompt = prompt.slice(0, tag.index);
    const loraHash = /^[^:]+:\s*([0-9a-f]+)$/i.exec(f['Lora hashes'] ?? '')?.[1] ?? null;
    const lora = resolve({ name: tag[1]!, hash: loraHash }, 'LORA');
    if (!lora) throw new ParametersError(`The LoRA "${tag[1]}" is not in the catalog.`);
    return {
      prompt,
      negative_prompt: parsed.negative_prompt,
      model: lora,
      ...(checkpoint ? { base_checkpoint: checkpoint } : {}),
      arguments: args,
    };
  }
  if (!checkpoint) throw new ParametersError('The parameters name no model ("Model" or a <lora:…> tag).');
  return { prompt, negative_prompt: parsed.negative_prompt, model: checkpoint, arguments: args };
}
