/**
 * What every endpoint client shares: its configuration, the generate call, and what comes back.
 * Clients live in the pure core: I/O is the global `fetch` (Node 20 and browsers) and a WebSocket
 * constructor (the browser's global, or one passed in, e.g. from the `ws` package in Node).
 */
import type { GenerationPlan } from '../plan.ts';

export const ENDPOINT_KINDS = ['a1111', 'comfyui', 'openai', 'hf-inference'] as const;
export type EndpointKind = (typeof ENDPOINT_KINDS)[number];

export const ENDPOINT_KIND_LABELS: Readonly<Record<EndpointKind, string>> = {
  a1111: 'AUTOMATIC1111 / Forge / SD.Next',
  comfyui: 'ComfyUI',
  openai: 'OpenAI-compatible images API',
  'hf-inference': 'Hugging Face Inference (text-to-image)',
};

/**
 * How an A1111-style server wants the scheduler: 'split' (v1.9+: sampler_name "DPM++ 2M" plus
 * scheduler "karras"), 'combined' (before v1.9: sampler_name "DPM++ 2M Karras"), or 'auto' (probe
 * `/sdapi/v1/schedulers`, which only v1.9+ has).
 */
export type SchedulerMode = 'auto' | 'split' | 'combined';

export interface EndpointConfig {
  kind: EndpointKind;
  /** Server root, e.g. "http://127.0.0.1:7860"; for hf-inference the full model URL. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`, only to this endpoint. */
  apiKey?: string;
  /** Sent verbatim as the `Authorization` header (e.g. "Basic ..." for A1111's --api-auth); wins over apiKey. */
  authHeader?: string;
  /** Whole-request limit. The first request after a server start loads a model, which can take minutes. */
  timeoutMs: number;
  /** Requests this endpoint may run at once (pool dispatch honours it). */
  concurrency: number;
  /** Replies larger than this are refused. */
  maxReplyMB?: number;
  /** A1111 only. */
  schedulerMode?: SchedulerMode;
  /** The checkpoint a LoRA plan runs on (file name or title); default: the server's current / first installed. */
  loraBaseCheckpoint?: string;
  /** openai only: the model name sent (default "dall-e-3"). */
  openaiModel?: string;
  /** Progress poll interval for A1111 (and ComfyUI when its websocket is unavailable). */
  pollMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_REPLY_MB = 64;
export const DEFAULT_POLL_MS = 400;

export type ProgressPhase = 'connecting' | 'queued' | 'sampling' | 'decoding' | 'downloading';

export interface GenerationProgress {
  phase: ProgressPhase;
  /** 0..1 over the whole job as far as the server tells. */
  fraction: number;
  step?: number;
  steps?: number;
  etaSeconds?: number;
}

export interface GenerateOptions {
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (progress: GenerationProgress) => void;
}

export interface GeneratedPng {
  /** A valid PNG file. */
  png: Uint8Array;
  seed: number;
  width: number;
  height: number;
}

export interface GenerationOutput {
  images: GeneratedPng[];
  endpoint: { kind: EndpointKind; url: string };
  /** What the server says it ran (checkpoint, sampler, version), untrusted plain text. */
  server: Record<string, string>;
  /** Milliseconds: total, plus per phase where known (request, download). */
  timings: Record<string, number>;
}

export type InstalledModelKind = 'checkpoint' | 'lora';

export interface InstalledModel {
  kind: InstalledModelKind;
  /** What the server calls it and wants back (A1111 title / LoRA name, ComfyUI file path). */
  name: string;
  /** File name without directories. */
  file: string;
  /** AutoV2 (first 10 hex of the SHA-256), lower case, when the server reports it. */
  hash: string | null;
  /** With several endpoints: the base URLs of those that have it (see mergeInstalledLists). */
  endpoints?: string[];
}

export interface ConnectionReport {
  ok: true;
  /** One line for the user, e.g. "AUTOMATIC1111 at http://…: 3 checkpoints, 2 LoRAs". */
  summary: string;
  checkpoints: number;
  loras: number;
}

export interface EndpointClient {
  readonly kind: EndpointKind;
  readonly config: Readonly<EndpointConfig>;
  generate(plan: GenerationPlan, options?: GenerateOptions): Promise<GenerationOutput>;
  /** Stops every run of this client and asks the server to interrupt. */
  cancel(): Promise<void>;
  listInstalledModels(signal?: AbortSignal): Promise<InstalledModel[]>;
  testConnection(signal?: AbortSignal): Promise<ConnectionReport>;
}

/** The subset of the WebSocket API the ComfyUI client uses (browser global and `ws` both fit). */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  onclose: ((event: unknown) => void) | null;
  close(): void;
}

export type WebSocketFactory = (url: string) => WebSocketLike;

export interface ClientDeps {
  /** Defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Defaults to the global WebSocket when there is one. */
  webSocket?: WebSocketFactory;
}
