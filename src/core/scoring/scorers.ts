/**
 * Scoring with a pack: lazily created ONNX sessions per file role, then
 *  - CLIP score: max(100 · cos(image, text), 0) against the approved prompt (scale and clamp from the manifest),
 *  - HPS v2: the same path with its own weights and preprocessing (×100, no clamp),
 *  - ImageReward: image encoder → text encoder cross-attending to the image tokens → reward head, (r - mean) / std,
 *  - aesthetic: the LAION MLP over the L2-normalised CLIP image embedding,
 *  - FID features: pooled feature vectors (FID itself is src/core/metrics/fid.ts over two sets).
 */
import { preprocessImage, type RgbaImage } from './image.ts';
import { parseScorerManifest, SCORER_MANIFEST_FILE, type ScorerKind, type ScorerManifest } from './manifest.ts';
import { floatOutput, type ModelSession, type ScoringRuntime } from './runtime.ts';
import { PromptTokenizer } from './tokens.ts';

/** Where a pack's files come from: a folder in Node, a URL prefix in the browser. */
export interface PackSource {
  /** A description for messages (a path or URL). */
  readonly location: string;
  readFile(name: string, onProgress?: (loaded: number, total: number | null) => void): Promise<Uint8Array>;
}

export interface LoadProgress {
  pack: string;
  file: string;
  loaded: number;
  total: number | null;
}

export async function readScorerManifest(source: PackSource): Promise<ScorerManifest> {
  const bytes = await source.readFile(SCORER_MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new Error(`${source.location}/${SCORER_MANIFEST_FILE}: not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  return parseScorerManifest(json, `${source.location}/${SCORER_MANIFEST_FILE}`);
}

export interface ScoreItem {
  image: RgbaImage;
  /** The prompt the user approved; needed by clip, hpsv2 and imagereward. */
  prompt?: string;
}

export const PROMPT_KINDS: ReadonlySet<ScorerKind> = new Set(['clip', 'hpsv2', 'imagereward']);

export class ScorerPack {
  private readonly sessions = new Map<string, Promise<ModelSession>>();
  private tokenizerPromise: Promise<PromptTokenizer> | null = null;
  /** Sessions are created one at a time: onnxruntime-web's WebGPU EP refuses to create two at once. */
  private creating: Promise<unknown> = Promise.resolve();

  constructor(
    readonly manifest: ScorerManifest,
    private readonly source: PackSource,
    private readonly runtime: ScoringRuntime,
    private readonly onProgress: (progress: LoadProgress) => void = () => {},
    /** Images per session run. */
    private readonly batchSize = 4,
  ) {}

  static async open(
    source: PackSource,
    runtime: ScoringRuntime,
    onProgress?: (progress: LoadProgress) => void,
  ): Promise<ScorerPack> {
    return new ScorerPack(await readScorerManifest(source), source, runtime, onProgress);
  }

  get backend(): string {
    return this.runtime.backend;
  }

  /** Downloads and creates every session now rather than on first use. */
  async load(): Promise<void> {
    const roles = Object.keys(this.manifest.files).filter((role) => role !== 'tokenizer');
    for (const role of roles) await this.session(role);
    if (this.manifest.tokenizer) await this.tokenizer();
  }

  async unload(): Promise<void> {
    const sessions = [...this.sessions.values()];
    this.sessions.clear();
    this.tokenizerPromise = null;
    await Promise.all(sessions.map(async (s) => (await s).release()));
  }

  private file(role: string): string {
    const name = this.manifest.files[role];
    if (name === undefined) throw new Error(`pack "${this.manifest.id}" has no "${role}" file`);
    return name;
  }

  private async read(role: string): Promise<Uint8Array> {
    const file = this.file(role);
    return this.source.readFile(file, (loaded, total) =>
      this.onProgress({ pack: this.manifest.id, file, loaded, total }),
    );
  }

  private session(role: string): Promise<ModelSession> {
    let session = this.sessions.get(role);
    if (!session) {
      const bytes = this.read(role);
      session = this.creating.then(async () =>
        this.runtime.createSession(await bytes, `${this.manifest.id}/${this.file(role)}`),
      );
      this.creating = session.catch(() => {});
      // A failed load is not cached, so a later call can retry.
      session.catch(() => this.sessions.delete(role));
      this.sessions.set(role, session);
    }
    return session;
  }

  private tokenizer(): Promise<PromptTokenizer> {
    const settings = this.manifest.tokenizer;
    if (!settings) throw new Error(`pack "${this.manifest.id}" (${this.manifest.kind}) has no tokenizer`);
    this.tokenizerPromise ??= this.read('tokenizer').then((bytes) => {
      const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
      return new PromptTokenizer(json, settings);
    });
    return this.tokenizerPromise;
  }

  private requireKind(...kinds: ScorerKind[]): void {
    if (!kinds.includes(this.manifest.kind)) {
      throw new Error(`pack "${this.manifest.id}" is a ${this.manifest.kind} pack; this needs ${kinds.join(' or ')}`);
    }
  }

  private pixelBatch(images: RgbaImage[]): { data: Float32Array; dims: number[] } {
    const { size } = this.manifest.preprocessing;
    const plane = 3 * size * size;
    const data = new Float32Array(images.length * plane);
    images.forEach((image, i) => data.set(preprocessImage(image, this.manifest.preprocessing), i * plane));
    return { data, dims: [images.length, 3, size, size] };
  }

  /** Runs a one-input image graph over the images in batches; returns one row per image. */
  private async imageRows(role: string, input: string, output: string, images: RgbaImage[]): Promise<Float32Array[]> {
    const session = await this.session(role);
    const rows: Float32Array[] = [];
    for (let start = 0; start < images.length; start += this.batchSize) {
      const chunk = images.slice(start, start + this.batchSize);
      const pixels = this.pixelBatch(chunk);
      const outputs = await session.run({ [input]: this.runtime.float32(pixels.data, pixels.dims) });
      const { data } = floatOutput(outputs, output, `${this.manifest.id}/${this.file(role)}`);
      const width = data.length / chunk.length;
      for (let i = 0; i < chunk.length; i++) rows.push(data.slice(i * width, (i + 1) * width));
    }
    return rows;
  }

  /** CLIP-style image embeddings (clip, hpsv2, aesthetic packs). */
  async imageEmbeddings(images: RgbaImage[]): Promise<Float32Array[]> {
    this.requireKind('clip', 'hpsv2', 'aesthetic');
    const rows = await this.imageRows('vision_model', 'pixel_values', 'image_embeds', images);
    this.checkWidth(rows, this.manifest.dim, 'image_embeds');
    return rows;
  }

  async textEmbeddings(prompts: string[]): Promise<Float32Array[]> {
    this.requireKind('clip', 'hpsv2');
    const tokenizer = await this.tokenizer();
    const session = await this.session('text_model');
    const length = this.manifest.tokenizer!.maxLength;
    const ids = new BigInt64Array(prompts.length * length);
    prompts.forEach((p, i) => tokenizer.encode(p).ids.forEach((id, j) => (ids[i * length + j] = BigInt(id))));
    const outputs = await session.run({ input_ids: this.runtime.int64(ids, [prompts.length, length]) });
    const { data } = floatOutput(outputs, 'text_embeds', `${this.manifest.id}/${this.file('text_model')}`);
    const rows = prompts.map((_, i) => data.slice(i * this.manifest.dim, (i + 1) * this.manifest.dim));
    this.checkWidth(rows, this.manifest.dim, 'text_embeds');
    return rows;
  }

  /** FID features, one row per image. */
  async features(images: RgbaImage[]): Promise<Float32Array[]> {
    this.requireKind('fid-features');
    const rows = await this.imageRows('feature_model', 'pixel_values', 'features', images);
    this.checkWidth(rows, this.manifest.dim, 'features');
    return rows;
  }

  /** One score per item (clip, hpsv2, imagereward, aesthetic). */
  async score(items: ScoreItem[]): Promise<number[]> {
    const kind = this.manifest.kind;
    if (PROMPT_KINDS.has(kind)) {
      const missing = items.findIndex((item) => typeof item.prompt !== 'string');
      if (missing >= 0) throw new Error(`${kind} needs a prompt for every image; item ${missing} has none`);
    }
    const images = items.map((item) => item.image);
    switch (kind) {
      case 'clip':
      case 'hpsv2': {
        const prompts = [...new Set(items.map((item) => item.prompt!))];
        // One after the other: sessions on one WebGPU device are not run concurrently.
        const imageRows = await this.imageEmbeddings(images);
        const textRows = await this.textEmbeddings(prompts);
        const byPrompt = new Map(prompts.map((p, i) => [p, textRows[i]!]));
        const { scale, clampMin } = this.manifest.score!;
        return items.map((item, i) => {
          const value = scale * cosine(imageRows[i]!, byPrompt.get(item.prompt!)!);
          return clampMin === null ? value : Math.max(value, clampMin);
        });
      }
      case 'aesthetic': {
        const rows = (await this.imageEmbeddings(images)).map(normalised);
        const head = await this.session('head');
        const data = new Float32Array(rows.length * this.manifest.dim);
        rows.forEach((row, i) => data.set(row, i * this.manifest.dim));
        const outputs = await head.run({ image_embeds: this.runtime.float32(data, [rows.length, this.manifest.dim]) });
        return Array.from(floatOutput(outputs, 'score', `${this.manifest.id}/${this.file('head')}`).data);
      }
      case 'imagereward':
        return this.imageReward(items);
      case 'fid-features':
        throw new Error(
          `pack "${this.manifest.id}" gives FID features, not per-image scores; use features() and fid()`,
        );
    }
  }

  private async imageReward(items: ScoreItem[]): Promise<number[]> {
    const tokenizer = await this.tokenizer();
    const imageSession = await this.session('image_encoder');
    const textSession = await this.session('text_encoder');
    const headSession = await this.session('reward_head');
    const { maxLength } = this.manifest.tokenizer!;
    const { mean, std } = this.manifest.reward!;
    const label = `${this.manifest.id}/${this.file('image_encoder')}`;
    const scores: number[] = [];
    for (const item of items) {
      const pixels = this.pixelBatch([item.image]);
      const imageOut = await imageSession.run({ pixel_values: this.runtime.float32(pixels.data, pixels.dims) });
      const imageEmbeds = floatOutput(imageOut, 'image_embeds', label);
      const tokens = tokenizer.encode(item.prompt!);
      const textOut = await textSession.run({
        input_ids: this.runtime.int64(BigInt64Array.from(tokens.ids, BigInt), [1, maxLength]),
        attention_mask: this.runtime.int64(BigInt64Array.from(tokens.mask, BigInt), [1, maxLength]),
        image_embeds: this.runtime.float32(imageEmbeds.data, imageEmbeds.dims),
      });
      const textEmbeds = floatOutput(textOut, 'text_embeds', `${this.manifest.id}/${this.file('text_encoder')}`);
      const headOut = await headSession.run({ text_embeds: this.runtime.float32(textEmbeds.data, textEmbeds.dims) });
      const raw = floatOutput(headOut, 'reward', `${this.manifest.id}/${this.file('reward_head')}`).data[0]!;
      scores.push((raw - mean) / std);
    }
    return scores;
  }

  private checkWidth(rows: Float32Array[], dim: number, output: string): void {
    const bad = rows.find((row) => row.length !== dim);
    if (bad)
      throw new Error(`pack "${this.manifest.id}": ${output} has width ${bad.length}, but the manifest says ${dim}`);
  }
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  const norm = Math.sqrt(na) * Math.sqrt(nb);
  return norm === 0 ? 0 : dot / norm;
}

function normalised(row: Float32Array): Float32Array {
  let sum = 0;
  for (const v of row) sum += v * v;
  const norm = Math.sqrt(sum);
  return norm === 0 ? row : row.map((v) => v / norm);
}
