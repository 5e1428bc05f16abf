/** What an engine predicted for one item, and how it scores against the gold. */
import { argumentMatches, configAccuracy, type ArgumentMatches } from '../metrics/config.ts';
import { inputCoverage, unigramF1 } from '../metrics/prompt.ts';
import type { BertScorer } from '../metrics/bertscore.ts';
import type { InputType } from '../chat.ts';
import type { BenchItem, Setting } from './items.ts';

/** One line of the predictions file. */
export interface Prediction {
  id: string;
  engine: string;
  prompt: string;
  negative_prompt: string;
  /** The LoRA when the plan uses one, else the checkpoint; null when the engine failed on this item. */
  model_id: number | null;
  /** A LoRA plan's checkpoint (catalog id); null for a checkpoint plan or a failed item. */
  base_checkpoint?: number | null;
  arguments: { sampler: string; steps: number; cfg_scale: number; width: number; height: number } | null;
  top5: { model_id: number; score: number }[];
  latency_ms: number;
  /** Present only when the engine threw: the message, and every metric counts the item as missed. */
  error?: string;
}

export interface ItemScore {
  id: string;
  engine: string;
  setting: Setting;
  input_type: InputType;
  selection: boolean;
  arguments: ArgumentMatches;
  config: number;
  prompt_f1: number;
  input_coverage: number;
  /** Present when BERTScore is enabled. */
  bertscore_f1?: number;
  latency_ms: number;
  failed: boolean;
}

export async function scorePrediction(item: BenchItem, prediction: Prediction, bert?: BertScorer): Promise<ItemScore> {
  const matches = argumentMatches(prediction.arguments, item.gold.arguments);
  const score: ItemScore = {
    id: item.id,
    engine: prediction.engine,
    setting: item.setting,
    input_type: item.input_type,
    selection: prediction.model_id !== null && prediction.model_id === item.gold.model_id,
    arguments: matches,
    config: configAccuracy(matches),
    prompt_f1: unigramF1(prediction.prompt, item.gold.prompt).f1,
    // A failed engine wrote nothing, so it kept none of the request.
    input_coverage: prediction.error === undefined ? inputCoverage(item.input.messages, prediction.prompt).coverage : 0,
    latency_ms: prediction.latency_ms,
    failed: prediction.error !== undefined,
  };
  if (bert) score.bertscore_f1 = (await bert.score(prediction.prompt, item.gold.prompt)).f1;
  return score;
}
