/**
 * The LLM worker's typed protocol: the one API workers/llm.worker.ts exposes through comlink, which is
 * the core's NeuralRuntime (the engine host drives it). Callbacks travel as comlink proxies.
 */
import type { NeuralRuntime } from '../src/core/engines/neural/runtime-api.ts';

export type {
  HeadTrainingProgress,
  LlmBackend,
  LlmEngineInfo,
  LlmHeadExport,
  LlmHeadInfo,
  LlmHeadTrainingOptions,
  LlmHeadTrainingReport,
  LlmLoadProgress,
  LlmStatus,
  LlmWorkerConfig,
} from '../src/core/engines/neural/runtime-api.ts';

export type LlmWorkerApi = NeuralRuntime;
