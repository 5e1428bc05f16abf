/**
 * OpenAI-compatible images API (`POST /v1/images/generations`, b64_json replies) and a Hugging Face
 * Inference-style text-to-image endpoint (`POST {url}` with `{inputs, parameters}`, image bytes back).
 * Neither chooses community models, and OpenAI takes no negative prompt, steps, cfg, sampler or seed:
 * `planLosses` states that for the UI.
 */
import type { GenerationPlan } from '../plan.ts';
import { RunTracker, checkBatchSize, checkImageData, checkPlan, makeContext, now, servedBy } from './common.ts';
import { cleanServerText } from './errors.ts';
import { asRecord, badReply, decodeBase64, parseJson, request, type Reply, type RequestContext } from './http.ts';
import { PngFormatError, pngSize } from '../png.ts';
import type {
  ClientDeps,
  ConnectionReport,
  EndpointClient,
  EndpointConfig,
  GenerateOptions,
  GeneratedPng,
  GenerationOutput,
  InstalledModel,
} from './types.ts';

export const DEFAULT_OPENAI_MODEL = 'dall-e-3';

/** Sizes the OpenAI models accept; other OpenAI-compatible servers get the plan's exact size. */
const OPENAI_SIZES: Readonly<Record<string, readonly string[]>> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536'],
};

/** Models that take only n = 1 per request. */
const SINGLE_IMAGE_MODELS = new Set(['dall-e-3']);

/** The accepted size whose aspect ratio is nearest the plan's (ties: the nearer area). */
export function nearestOpenAISize(model: string, width: number, height: number): string {
  const sizes = OPENAI_SIZES[model];
  if (!sizes) return `${width}x${height}`;
  const ratio = Math.log(width / height);
  let best = sizes[0]!;
  let bestScore = Infinity;
  for (const s of sizes) {
    const [w, h] = s.split('x').map(Number) as [number, number];
    const score = Math.abs(Math.log(w / h) - ratio) * 10 + Math.abs(Math.log((w * h) / (width * height)));
    if (score < bestScore) {
      bestScore = score;
      best = s;
    }
  }
  return best;
}

export interface OpenAIImagesRequest {
  model: string;
  prompt: string;
  n: number;
  size: string;
  response_format: 'b64_json';
}

function checkedPng(ctx: RequestContext, bytes: Uint8Array, what: string): { width: number; height: number } {
  try {
    return pngSize(bytes);
  } catch (e) {
    if (e instanceof PngFormatError) throw badReply(ctx, `${what} is not a valid PNG (${e.message}).`);
    throw e;
  }
}

export class OpenAIImagesClient implements EndpointClient {
  readonly kind = 'openai' as const;
  readonly config: Readonly<EndpointConfig>;
  private readonly ctx: RequestContext;
  private readonly runs = new RunTracker();

  constructor(config: EndpointConfig, deps: ClientDeps = {}) {
    this.config = config;
    this.ctx = makeContext(config, deps);
  }

  private get model(): string {
    return this.config.openaiModel?.trim() || DEFAULT_OPENAI_MODEL;
  }

  /** The request bodies for a plan: one per image for single-image models, else one with n. */
  buildRequests(plan: GenerationPlan, batchSize: number): OpenAIImagesRequest[] {
    checkPlan(plan, this.config);
    const size = nearestOpenAISize(this.model, plan.arguments.width, plan.arguments.height);
    const one = (n: number): OpenAIImagesRequest => ({
      model: this.model,
      prompt: plan.prompt,
      n,
      size,
      response_format: 'b64_json',
    });
    return SINGLE_IMAGE_MODELS.has(this.model) ? Array.from({ length: batchSize }, () => one(1)) : [one(batchSize)];
  }

  async generate(plan: GenerationPlan, options: GenerateOptions = {}): Promise<GenerationOutput> {
    const batchSize = checkBatchSize(options.batchSize ?? 1, this.config);
    return this.runs.run(options.signal, this.kind, async (signal) => {
      const started = now();
      const bodies = this.buildRequests(plan, batchSize);
      const images: GeneratedPng[] = [];
      const revised: string[] = [];
      let last: Reply | null = null;
      for (const [i, body] of bodies.entries()) {
        options.onProgress?.({ phase: 'sampling', fraction: i / bodies.length });
        last = await request(this.ctx, '/v1/images/generations', { json: body, signal });
        const reply = asRecord(parseJson(last, this.ctx, 'The images reply'));
        const data = reply?.data;
        if (!Array.isArray(data) || data.length === 0) throw badReply(this.ctx, 'the images reply has no data.');
        for (const item of data) {
          const r = asRecord(item);
          if (typeof r?.b64_json !== 'string') throw badReply(this.ctx, 'an image in the reply has no b64_json.');
          const png = decodeBase64(r.b64_json);
          const { width, height } = checkedPng(this.ctx, png, `image ${images.length + 1}`);
          // The API has no seed: the plan's is recorded so that the cache key and the gallery stay consistent.
          images.push({ png, seed: plan.arguments.seed, width, height });
          if (typeof r.revised_prompt === 'string') revised.push(cleanServerText(r.revised_prompt, 1000));
        }
      }
      options.onProgress?.({ phase: 'downloading', fraction: 1 });
      const server: Record<string, string> = { model: this.model };
      if (revised[0]) server.revised_prompt = revised[0];
      await checkImageData(this.ctx, images, (i) => `image ${i + 1}`);
      const output: GenerationOutput = {
        images,
        endpoint: { kind: this.kind, url: this.config.baseUrl },
        server,
        timings: { total: now() - started },
      };
      return last ? servedBy(output, last, this.config) : output;
    });
  }

  async cancel(): Promise<void> {
    this.runs.cancelAll();
  }

  /** The API serves its own models, not community checkpoints. */
  async listInstalledModels(): Promise<InstalledModel[]> {
    return [];
  }

  async testConnection(signal?: AbortSignal): Promise<ConnectionReport> {
    const reply = asRecord(
      parseJson(
        await request(this.ctx, '/v1/models', { signal, timeoutMs: Math.min(20_000, this.config.timeoutMs) }),
        this.ctx,
        'The model list',
      ),
    );
    const count = Array.isArray(reply?.data) ? reply.data.length : 0;
    return {
      ok: true,
      summary: `OpenAI-compatible server at ${this.config.baseUrl}: ${count} models listed; images from "${this.model}".`,
      checkpoints: 0,
      loras: 0,
    };
  }
}

export interface HFInferenceRequest {
  inputs: string;
  parameters: {
    negative_prompt: string;
    num_inference_steps: number;
    guidance_scale: number;
    width: number;
    height: number;
    seed: number;
  };
}

export class HFInferenceClient implements EndpointClient {
  readonly kind = 'hf-inference' as const;
  readonly config: Readonly<EndpointConfig>;
  private readonly ctx: RequestContext;
  private readonly runs = new RunTracker();

  constructor(config: EndpointConfig, deps: ClientDeps = {}) {
    this.config = config;
    this.ctx = makeContext(config, deps);
  }

  buildRequest(plan: GenerationPlan, seed: number): HFInferenceRequest {
    checkPlan(plan, this.config);
    const a = plan.arguments;
    return {
      inputs: plan.prompt,
      parameters: {
        negative_prompt: plan.negative_prompt,
        num_inference_steps: a.steps,
        guidance_scale: a.cfg_scale,
        width: a.width,
        height: a.height,
        seed,
      },
    };
  }

  async generate(plan: GenerationPlan, options: GenerateOptions = {}): Promise<GenerationOutput> {
    const batchSize = checkBatchSize(options.batchSize ?? 1, this.config);
    return this.runs.run(options.signal, this.kind, async (signal) => {
      const started = now();
      const images: GeneratedPng[] = [];
      let last: Reply | null = null;
      // One image per request; consecutive seeds, as A1111 numbers a batch.
      for (let i = 0; i < batchSize; i++) {
        options.onProgress?.({ phase: 'sampling', fraction: i / batchSize });
        const seed = (plan.arguments.seed + i) >>> 0;
        const reply = await request(this.ctx, '', { json: this.buildRequest(plan, seed), signal, accept: 'image/png' });
        last = reply;
        if (!reply.contentType.startsWith('image/')) {
          throw badReply(
            this.ctx,
            `expected an image, got ${cleanServerText(reply.contentType || 'no content type', 60)}.`,
          );
        }
        const { width, height } = checkedPng(this.ctx, reply.bytes, `image ${i + 1}`);
        images.push({ png: reply.bytes, seed, width, height });
      }
      options.onProgress?.({ phase: 'downloading', fraction: 1 });
      await checkImageData(this.ctx, images, (i) => `image ${i + 1}`);
      const output: GenerationOutput = {
        images,
        endpoint: { kind: this.kind, url: this.config.baseUrl },
        server: {},
        timings: { total: now() - started },
      };
      return last ? servedBy(output, last, this.config) : output;
    });
  }

  async cancel(): Promise<void> {
    this.runs.cancelAll();
  }

  async listInstalledModels(): Promise<InstalledModel[]> {
    return [];
  }

  /** The endpoint has no listing route; a 1-step tiny request proves it answers with images. */
  async testConnection(signal?: AbortSignal): Promise<ConnectionReport> {
    const reply = await request(this.ctx, '', {
      json: { inputs: 'test', parameters: { num_inference_steps: 1, width: 256, height: 256 } },
      signal,
      accept: 'image/png',
    });
    if (!reply.contentType.startsWith('image/'))
      throw badReply(
        this.ctx,
        `expected an image, got ${cleanServerText(reply.contentType || 'no content type', 60)}.`,
      );
    return {
      ok: true,
      summary: `Text-to-image endpoint at ${this.config.baseUrl} answered with an image.`,
      checkpoints: 0,
      loras: 0,
    };
  }
}
