/**
 * What test/browser/pages/neural-page.ts (window.runNeural) takes and returns: shared by the browser
 * test (test/browser/neural.spec.ts) and the speed benchmark (scripts/bench-neural.ts) that drive it.
 */
import type { LlmBackend, LlmLoadProgress, LlmStatus } from '../../workers/llm-api.ts';

export interface NeuralRunOptions {
  prefer: LlmBackend;
  packUrl?: string;
  prompts: { input_ids: number[]; max_new_tokens: number }[];
  /** Destroy the WebGPU device after loading, before decoding (the fallback test). */
  loseDevice?: boolean;
  /** Also run the three stages on this chat with the starter catalog. */
  chat?: string;
  numThreads?: number;
  /** Decode each prompt this many times (the benchmark). */
  repeats?: number;
  /** Model hub URL for packs with base_model.hub_id (the hub test server). */
  hubUrl?: string;
}

export interface NeuralRun {
  loadStatus: LlmStatus;
  finalStatus: LlmStatus | null;
  outputs: { ids: number[]; backend: string; ms: number }[];
  progress: LlmLoadProgress[];
  loadMs: number;
  plan?: {
    valid: boolean;
    prompt: string;
    model: string;
    arguments: unknown;
    streamed: number;
    stageMs: Record<string, number>;
  };
}
