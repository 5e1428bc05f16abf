/** What a plan loses on each endpoint kind, in words for the UI ("what this endpoint loses"). */
import { parseSampler, type GenerationPlan } from '../plan.ts';
import { DEFAULT_OPENAI_MODEL, nearestOpenAISize } from './openai.ts';
import { toComfySampler } from './samplers.ts';
import type { EndpointConfig } from './types.ts';

export function planLosses(
  plan: GenerationPlan,
  config: Pick<EndpointConfig, 'kind' | 'openaiModel' | 'loraBaseCheckpoint'>,
): string[] {
  const losses: string[] = [];
  const a = plan.arguments;
  const parsed = parseSampler(a.sampler);
  const variantNote = () => {
    if (parsed?.variant)
      losses.push(`The sampler "${a.sampler}" is a custom variant; the server runs its base "${parsed.base}".`);
  };
  const loraBase = () => {
    if (plan.model.type === 'LORA' && !config.loraBaseCheckpoint) {
      const fallback = `the server's ${config.kind === 'comfyui' ? 'first installed' : 'currently loaded'} checkpoint`;
      const runsOn = plan.base_checkpoint
        ? `its planned base checkpoint "${plan.base_checkpoint.name}" if the server has it, else on ${fallback}`
        : fallback;
      losses.push(
        `The LoRA "${plan.model.name}" (${plan.model.base_model}) runs on ${runsOn}; set "Base checkpoint for LoRAs" in the endpoint settings to choose it.`,
      );
    }
  };
  switch (config.kind) {
    case 'a1111':
      variantNote();
      loraBase();
      break;
    case 'comfyui': {
      variantNote();
      loraBase();
      if (parsed) {
        const c = toComfySampler(a.sampler);
        if (!c.exact)
          losses.push(
            `ComfyUI has no "${parsed.base}" sampler; the nearest, ${c.sampler_name} + ${c.scheduler}, runs instead.`,
          );
      }
      break;
    }
    case 'openai': {
      const model = config.openaiModel?.trim() || DEFAULT_OPENAI_MODEL;
      losses.push(`The community model "${plan.model.name}" is not used: the images come from "${model}".`);
      if (plan.negative_prompt.trim()) losses.push('The negative prompt is not sent (the API has none).');
      losses.push(
        `Steps (${a.steps}), CFG scale (${a.cfg_scale}), sampler (${a.sampler}) and seed (${a.seed}) are not sent (the API has none).`,
      );
      const size = nearestOpenAISize(model, a.width, a.height);
      if (size !== `${a.width}x${a.height}`)
        losses.push(`The size ${a.width}x${a.height} becomes ${size}, the nearest the model accepts.`);
      if (plan.model.trained_words.length) losses.push('LoRA trigger words are not added (no LoRA runs).');
      break;
    }
    case 'hf-inference':
      losses.push(`The community model "${plan.model.name}" is not used: the endpoint URL decides the model.`);
      losses.push(`The sampler (${a.sampler}) is not sent: the endpoint uses its own scheduler.`);
      break;
  }
  return losses;
}
