/**
 * A plan as a ComfyUI API-format workflow (what ComfyUI's "Save (API)" writes and /prompt accepts),
 * built by the same graph builder the ComfyUI endpoint client sends.
 */
import { buildComfyGraph, type ComfyGraph } from '../endpoints/comfyui.ts';
import type { GenerationPlan } from '../plan.ts';

export interface ComfyExportOptions {
  /**
   * The checkpoint file a LoRA plan runs on when the plan names none (ComfyUI needs one in the graph);
   * a plan with a base checkpoint uses its file.
   */
  fallbackCheckpoint?: string;
}

const fileOf = (m: { file: string; name: string }) => m.file || `${m.name}.safetensors`;

export function planToComfyWorkflow(plan: GenerationPlan, options: ComfyExportOptions = {}): ComfyGraph {
  if (plan.model.type === 'Checkpoint') return buildComfyGraph(plan, { checkpoint: fileOf(plan.model), lora: null }, 1);
  const checkpoint = plan.base_checkpoint ? fileOf(plan.base_checkpoint) : options.fallbackCheckpoint;
  if (!checkpoint) throw new Error(`The LoRA "${plan.model.name}" needs a checkpoint to run on; the plan names none.`);
  return buildComfyGraph(plan, { checkpoint, lora: fileOf(plan.model) }, 1);
}
