/**
 * The image-scoring host (separate from the LLM): what workers/score.worker.ts serves, over
 * src/core/scoring. Packs are read from URLs (a folder served over HTTP) with download progress; sessions
 * are created lazily on first use, on WebGPU when the browser offers an adapter and the graph loads there,
 * otherwise on WASM (./backend.ts), and the reason for a fallback is reported. PNGs are decoded by the
 * core's own decoder (exact, alpha ignored, no premultiplication loss); other formats go through
 * createImageBitmap + OffscreenCanvas.
 */
import * as ort from 'onnxruntime-web/webgpu';
import { readBody } from '../core/bytes.ts';
import { featureSetFromRows, fid, type FidResult } from '../core/metrics/fid.ts';
import type { RgbaImage } from '../core/scoring/image.ts';
import type { ScorerManifest } from '../core/scoring/manifest.ts';
import { decodePng, isPng } from '../core/png.ts';
import { ortRuntime, type OrtModule, type ScoringRuntime } from '../core/scoring/runtime.ts';
import { readScorerManifest, ScorerPack, type LoadProgress, type PackSource } from '../core/scoring/scorers.ts';
import type {
  PackInfo,
  ScoreImage,
  ScoreRequestItem,
  ScoreWorkerApi,
  ScoreWorkerConfig,
} from '../../workers/score-api.ts';
import { openWithFallback, type Backend } from './backend.ts';

function urlSource(base: string): PackSource {
  const prefix = base.endsWith('/') ? base : `${base}/`;
  return {
    location: prefix,
    async readFile(name, onProgress) {
      const response = await fetch(new URL(name, new URL(prefix, self.location.href)));
      if (!response.ok) throw new Error(`${prefix}${name}: HTTP ${response.status}`);
      return readBody(response, onProgress ? { onProgress } : {});
    },
  };
}

async function decodeImage(image: ScoreImage): Promise<RgbaImage> {
  if (!(image instanceof Blob)) return image;
  const bytes = new Uint8Array(await image.arrayBuffer());
  if (isPng(bytes)) return decodePng(bytes);
  const bitmap = await createImageBitmap(image, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('OffscreenCanvas 2D context unavailable: cannot decode this image');
  context.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data, width, height } = context.getImageData(0, 0, canvas.width, canvas.height);
  return { width, height, data };
}

interface OpenPack {
  url: string;
  manifest: ScorerManifest;
  /** Sessions live here once loaded. */
  pack: ScorerPack | null;
  backend: string | null;
  fallback: string | null;
  loading: Promise<void> | null;
}

export class ScoreHost implements ScoreWorkerApi {
  private config: ScoreWorkerConfig = { wasmPaths: '', prefer: 'webgpu' };
  private readonly packs = new Map<string, OpenPack>();
  private onProgress: (progress: LoadProgress) => void = () => {};

  configure(config: ScoreWorkerConfig, onProgress?: (progress: LoadProgress) => void): void {
    this.config = config;
    if (config.wasmPaths) ort.env.wasm.wasmPaths = config.wasmPaths;
    if (config.numThreads !== undefined) ort.env.wasm.numThreads = config.numThreads;
    if (onProgress) this.onProgress = onProgress;
  }

  /** Reads and validates a pack's manifest; no model is downloaded yet. */
  async open(url: string): Promise<PackInfo> {
    const manifest = await readScorerManifest(urlSource(url));
    const existing = this.packs.get(manifest.id);
    if (existing && existing.url !== url)
      throw new Error(`a pack with id "${manifest.id}" is already open from ${existing.url}`);
    if (!existing)
      this.packs.set(manifest.id, { url, manifest, pack: null, backend: null, fallback: null, loading: null });
    return this.info(manifest.id);
  }

  info(id: string): PackInfo {
    const open = this.get(id);
    const m = open.manifest;
    return {
      id: m.id,
      kind: m.kind,
      name: m.name,
      meantFor: m.meantFor,
      backend: open.backend,
      fallback: open.fallback,
    };
  }

  /** Downloads the pack's files and creates its sessions (also done lazily by score/features). */
  async load(id: string): Promise<PackInfo> {
    const open = this.get(id);
    open.loading ??= this.loadOn(open).catch((error: unknown) => {
      open.loading = null;
      throw error;
    });
    await open.loading;
    return this.info(id);
  }

  private async loaded(id: string): Promise<ScorerPack> {
    await this.load(id);
    const pack = this.get(id).pack;
    if (!pack) throw new Error(`scorer pack "${id}" was unloaded while in use`);
    return pack;
  }

  async score(id: string, items: ScoreRequestItem[]): Promise<number[]> {
    const pack = await this.loaded(id);
    const decoded = await Promise.all(
      items.map(async (item) => ({ image: await decodeImage(item.image), prompt: item.prompt })),
    );
    return pack.score(decoded);
  }

  async features(id: string, images: ScoreImage[]): Promise<number[][]> {
    const pack = await this.loaded(id);
    const rows = await pack.features(await Promise.all(images.map(decodeImage)));
    return rows.map((row) => Array.from(row));
  }

  async fid(id: string, generated: ScoreImage[], reference: ScoreImage[]): Promise<FidResult> {
    const [a, b] = [await this.features(id, generated), await this.features(id, reference)];
    return fid(featureSetFromRows(a), featureSetFromRows(b));
  }

  /** Releases the sessions of one pack, or of all packs; they are recreated on next use. */
  async unload(id?: string): Promise<void> {
    const targets = id === undefined ? [...this.packs.values()] : [this.get(id)];
    for (const open of targets) {
      await open.pack?.unload();
      open.pack = null;
      open.loading = null;
      open.backend = null;
    }
  }

  private get(id: string): OpenPack {
    const open = this.packs.get(id);
    if (!open)
      throw new Error(`scorer pack "${id}" is not open (open: ${[...this.packs.keys()].join(', ') || 'none'})`);
    return open;
  }

  private runtimeFor(backend: Backend): ScoringRuntime {
    return ortRuntime(ort as unknown as OrtModule, [backend]);
  }

  private async loadOn(open: OpenPack): Promise<void> {
    const source = urlSource(open.url);
    const opened = await openWithFallback(this.config.prefer, 'this scorer pack', async (backend) => {
      const pack = new ScorerPack(open.manifest, source, this.runtimeFor(backend), (p) => this.onProgress(p));
      try {
        await pack.load();
      } catch (error) {
        await pack.unload().catch(() => {});
        throw error;
      }
      return pack;
    });
    Object.assign(open, { pack: opened.value, backend: opened.backend, fallback: opened.notice });
  }
}
