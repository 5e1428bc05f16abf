/**
 * The score worker's typed protocol: the one API workers/score.worker.ts exposes through comlink (the
 * runtime's ScoreHost). The app imports only these types; the progress callback travels as a comlink proxy.
 */
import type { FidResult } from '../src/core/metrics/fid.ts';
import type { RgbaImage } from '../src/core/scoring/image.ts';
import type { ScorerKind } from '../src/core/scoring/manifest.ts';
import type { LoadProgress } from '../src/core/scoring/scorers.ts';

export type { FidResult, LoadProgress };

export type ScoreBackendPreference = 'webgpu' | 'wasm';

export interface ScoreWorkerConfig {
  /** onnxruntime-web's WASM files served by the app itself: a URL prefix of its dist folder, or each file's URL (a build hashes their names). */
  wasmPaths: string | { mjs: string; wasm: string };
  /** 'webgpu' tries WebGPU first and falls back to WASM; 'wasm' never tries WebGPU. */
  prefer: ScoreBackendPreference;
  /** WASM threads; 1 avoids needing cross-origin isolation. */
  numThreads?: number;
}

export interface PackInfo {
  id: string;
  kind: ScorerKind;
  name: string;
  meantFor: string;
  /** 'webgpu' or 'wasm' once sessions exist; null before the first load. */
  backend: string | null;
  /** Why WebGPU was not used, when it was preferred. */
  fallback: string | null;
}

/** An image as a file (PNG/JPEG/WebP bytes) or as RGBA pixels. */
export type ScoreImage = Blob | RgbaImage;

export interface ScoreRequestItem {
  image: ScoreImage;
  prompt?: string;
}

export interface ScoreWorkerApi {
  configure(config: ScoreWorkerConfig, onProgress?: (progress: LoadProgress) => void): void;
  /** Reads and validates a pack's manifest; no model is downloaded yet. */
  open(url: string): Promise<PackInfo>;
  info(id: string): PackInfo;
  /** Downloads the pack's files and creates its sessions (also done lazily by score/features). */
  load(id: string): Promise<PackInfo>;
  score(id: string, items: ScoreRequestItem[]): Promise<number[]>;
  features(id: string, images: ScoreImage[]): Promise<number[][]>;
  fid(id: string, generated: ScoreImage[], reference: ScoreImage[]): Promise<FidResult>;
  /** Releases the sessions of one pack, or of all packs; they are recreated on next use. */
  unload(id?: string): Promise<void>;
}
