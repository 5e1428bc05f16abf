/**
 * AUTOMATIC1111 / Forge / SD.Next web API client (`--api`): POST /sdapi/v1/txt2img while polling
 * /sdapi/v1/progress; /sdapi/v1/interrupt to cancel; /sdapi/v1/sd-models and /sdapi/v1/loras for
 * what is installed.
 */
import type { GenerationPlan } from '../plan.ts';
import {
  RunTracker,
  cancelledError,
  checkBatchSize,
  checkImageData,
  checkPlan,
  loraBaseFor,
  makeContext,
  now,
  resolveInstalled,
  servedBy,
} from './common.ts';
import { EndpointError } from './errors.ts';
import { asRecord, badReply, decodeBase64, parseJson, request, sleep, type RequestContext } from './http.ts';
import { hashFromTitle, normaliseHash, promptWithLora } from './installed.ts';
import { PngFormatError, pngSize } from '../png.ts';
import { combinedA1111Sampler, splitA1111Sampler } from './samplers.ts';
import {
  DEFAULT_POLL_MS,
  type ClientDeps,
  type ConnectionReport,
  type EndpointClient,
  type EndpointConfig,
  type GenerateOptions,
  type GeneratedPng,
  type GenerationOutput,
  type InstalledModel,
} from './types.ts';

/** The txt2img body this client sends: a subset of A1111's StableDiffusionProcessingTxt2Img fields. */
export interface A1111Txt2ImgRequest {
  prompt: string;
  negative_prompt: string;
  seed: number;
  sampler_name: string;
  scheduler?: string;
  batch_size: number;
  n_iter: number;
  steps: number;
  cfg_scale: number;
  width: number;
  height: number;
  override_settings?: { sd_model_checkpoint: string };
  override_settings_restore_afterwards: boolean;
  send_images: boolean;
  save_images: boolean;
}

const LIST_TIMEOUT_MS = 20_000;

interface SchedulerInfo {
  name: string;
  label: string;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export class A1111Client implements EndpointClient {
  readonly kind = 'a1111' as const;
  readonly config: Readonly<EndpointConfig>;
  private readonly ctx: RequestContext;
  private readonly runs = new RunTracker();
  private installed: InstalledModel[] | null = null;
  /** null: the server has no /sdapi/v1/schedulers (before v1.9), so names stay combined. */
  private schedulers: SchedulerInfo[] | null | undefined;

  constructor(config: EndpointConfig, deps: ClientDeps = {}) {
    this.config = config;
    this.ctx = makeContext(config, deps);
  }

  async listInstalledModels(signal?: AbortSignal): Promise<InstalledModel[]> {
    const opts = { signal, timeoutMs: Math.min(LIST_TIMEOUT_MS, this.config.timeoutMs) };
    const models = parseJson(await request(this.ctx, '/sdapi/v1/sd-models', opts), this.ctx, 'The model list');
    if (!Array.isArray(models)) throw badReply(this.ctx, '/sdapi/v1/sd-models did not return a list.');
    const out: InstalledModel[] = [];
    for (const raw of models) {
      const m = asRecord(raw);
      const title = str(m?.title);
      if (!m || !title) continue;
      const file = str(m.filename) ?? str(m.model_name) ?? title;
      out.push({
        kind: 'checkpoint',
        name: title,
        file: file.split(/[\\/]/).pop() ?? file,
        hash: normaliseHash(str(m.sha256)) ?? normaliseHash(str(m.hash)) ?? hashFromTitle(title),
      });
    }
    let loras: unknown = [];
    try {
      loras = parseJson(await request(this.ctx, '/sdapi/v1/loras', opts), this.ctx, 'The LoRA list');
    } catch (e) {
      // Servers without the built-in LoRA extension have no such route: no LoRAs, not a failure.
      if (!(e instanceof EndpointError && e.status === 404)) throw e;
    }
    if (Array.isArray(loras)) {
      for (const raw of loras) {
        const l = asRecord(raw);
        const name = str(l?.name);
        if (!l || !name) continue;
        const path = str(l.path) ?? name;
        out.push({ kind: 'lora', name, file: path.split(/[\\/]/).pop() ?? path, hash: null });
      }
    }
    this.installed = out;
    return out;
  }

  async testConnection(signal?: AbortSignal): Promise<ConnectionReport> {
    const models = await this.listInstalledModels(signal);
    const checkpoints = models.filter((m) => m.kind === 'checkpoint').length;
    const loras = models.length - checkpoints;
    return {
      ok: true,
      summary: `AUTOMATIC1111-compatible server at ${this.config.baseUrl}: ${checkpoints} checkpoints, ${loras} LoRAs.`,
      checkpoints,
      loras,
    };
  }

  async cancel(): Promise<void> {
    this.runs.cancelAll();
    await this.interrupt();
  }

  private async interrupt(): Promise<void> {
    try {
      // keepalive: also sent when this runs as the page closes.
      await request(this.ctx, '/sdapi/v1/interrupt', { method: 'POST', timeoutMs: 5000, keepalive: true });
    } catch {
      // Best effort: the run is already abandoned on our side.
    }
  }

  private async schedulerList(signal: AbortSignal): Promise<SchedulerInfo[] | null> {
    if (this.schedulers !== undefined) return this.schedulers;
    try {
      const reply = parseJson(
        await request(this.ctx, '/sdapi/v1/schedulers', {
          signal,
          timeoutMs: Math.min(LIST_TIMEOUT_MS, this.config.timeoutMs),
        }),
        this.ctx,
        'The scheduler list',
      );
      const list = Array.isArray(reply)
        ? reply.flatMap((r) => {
            const o = asRecord(r);
            const name = str(o?.name);
            return name ? [{ name, label: str(o?.label) ?? name }] : [];
          })
        : [];
      this.schedulers = list.length ? list : null;
    } catch (e) {
      if (!(e instanceof EndpointError && e.status === 404)) throw e;
      this.schedulers = null;
    }
    return this.schedulers;
  }

  /** The sampler fields for this server: split for v1.9+, combined before. */
  private async samplerFields(
    sampler: string,
    signal: AbortSignal,
  ): Promise<Pick<A1111Txt2ImgRequest, 'sampler_name' | 'scheduler'>> {
    const mode = this.config.schedulerMode ?? 'auto';
    if (mode === 'combined') return { sampler_name: combinedA1111Sampler(sampler) };
    const split = splitA1111Sampler(sampler);
    if (mode === 'split') return split;
    const list = await this.schedulerList(signal);
    if (list === null) return { sampler_name: combinedA1111Sampler(sampler) };
    const wanted = split.scheduler.toLowerCase();
    const known = list.find((s) => s.name.toLowerCase() === wanted || s.label.toLowerCase() === wanted);
    if (!known) {
      throw new EndpointError(
        'unsupported',
        `${this.config.baseUrl} has no "${split.scheduler}" scheduler (it has ${list.map((s) => s.name).join(', ')}).`,
        { kind: this.kind },
      );
    }
    return { sampler_name: split.sampler_name, scheduler: known.name };
  }

  /** The exact request body for a plan (exported for tests and the closing note). */
  async buildRequest(plan: GenerationPlan, batchSize: number, signal: AbortSignal): Promise<A1111Txt2ImgRequest> {
    checkPlan(plan, this.config);
    const { model, installed } = await resolveInstalled(
      plan,
      this.installed,
      () => this.listInstalledModels(signal),
      this.config,
    );
    const a = plan.arguments;
    let prompt = plan.prompt;
    let checkpoint: string | null = model.name;
    if (plan.model.type === 'LORA') {
      prompt = promptWithLora(plan.prompt, model.name, plan.model.trained_words);
      checkpoint = loraBaseFor(plan, installed, this.config)?.name ?? null;
    }
    const body: A1111Txt2ImgRequest = {
      prompt,
      negative_prompt: plan.negative_prompt,
      seed: a.seed,
      ...(await this.samplerFields(a.sampler, signal)),
      batch_size: batchSize,
      n_iter: 1,
      steps: a.steps,
      cfg_scale: a.cfg_scale,
      width: a.width,
      height: a.height,
      override_settings_restore_afterwards: true,
      send_images: true,
      save_images: false,
    };
    if (checkpoint) body.override_settings = { sd_model_checkpoint: checkpoint };
    return body;
  }

  async generate(plan: GenerationPlan, options: GenerateOptions = {}): Promise<GenerationOutput> {
    const batchSize = checkBatchSize(options.batchSize ?? 1, this.config);
    const run = this.runs.start(options.signal);
    const started = now();
    try {
      options.onProgress?.({ phase: 'connecting', fraction: 0 });
      const body = await this.buildRequest(plan, batchSize, run.signal);
      const posted = request(this.ctx, '/sdapi/v1/txt2img', { json: body, signal: run.signal });
      const polling = this.pollProgress(posted, run.signal, options.onProgress);
      let reply: Awaited<typeof posted>;
      try {
        reply = await posted;
      } finally {
        await polling;
      }
      const requestMs = now() - started;
      options.onProgress?.({ phase: 'decoding', fraction: 1 });
      const output = this.readReply(parseJson(reply, this.ctx, 'The txt2img reply'), plan, batchSize);
      await checkImageData(this.ctx, output.images, (i) => `image ${i + 1} of the reply`);
      output.timings = { total: now() - started, request: requestMs };
      return servedBy(output, reply, this.config);
    } catch (e) {
      if (run.signal.aborted) {
        await this.interrupt();
        throw cancelledError(e, this.kind);
      }
      // A timed-out job would otherwise keep the server's single queue busy.
      if (e instanceof EndpointError && e.reason === 'timeout') await this.interrupt();
      throw e;
    } finally {
      run.done();
    }
  }

  private async pollProgress(
    posted: Promise<unknown>,
    signal: AbortSignal,
    onProgress: GenerateOptions['onProgress'],
  ): Promise<void> {
    if (!onProgress) return;
    let settled = false;
    posted.then(
      () => (settled = true),
      () => (settled = true),
    );
    const pollMs = this.config.pollMs ?? DEFAULT_POLL_MS;
    while (!settled && !signal.aborted) {
      try {
        await sleep(pollMs, signal);
      } catch {
        return;
      }
      if (settled) return;
      try {
        const p = asRecord(
          parseJson(
            await request(this.ctx, '/sdapi/v1/progress?skip_current_image=true', { signal, timeoutMs: 10_000 }),
            this.ctx,
            'Progress',
          ),
        );
        const state = asRecord(p?.state);
        const fraction = typeof p?.progress === 'number' ? Math.min(1, Math.max(0, p.progress)) : 0;
        const step = typeof state?.sampling_step === 'number' ? state.sampling_step : undefined;
        const steps = typeof state?.sampling_steps === 'number' ? state.sampling_steps : undefined;
        const eta = typeof p?.eta_relative === 'number' ? p.eta_relative : undefined;
        if (!settled)
          onProgress({ phase: fraction > 0 ? 'sampling' : 'queued', fraction, step, steps, etaSeconds: eta });
      } catch {
        // Progress is advisory; the txt2img request decides success.
      }
    }
  }

  private readReply(reply: unknown, plan: GenerationPlan, batchSize: number): GenerationOutput {
    const r = asRecord(reply);
    const images = r?.images;
    if (!r || !Array.isArray(images) || images.length === 0 || !images.every((i) => typeof i === 'string')) {
      throw badReply(this.ctx, 'the txt2img reply has no images.');
    }
    let info: Record<string, unknown> = {};
    if (typeof r.info === 'string') {
      try {
        info = asRecord(JSON.parse(r.info)) ?? {};
      } catch {
        info = {};
      }
    }
    // A server set to return grids puts the grid first when it sends one image more than asked.
    const pictures =
      (images as string[]).length === batchSize + 1 ? (images as string[]).slice(1) : (images as string[]);
    const allSeeds = Array.isArray(info.all_seeds) ? info.all_seeds : [];
    const out: GeneratedPng[] = pictures.map((b64, i) => {
      let png: Uint8Array;
      try {
        png = decodeBase64(b64);
      } catch {
        throw badReply(this.ctx, `image ${i + 1} of the reply is not base64.`);
      }
      try {
        const { width, height } = pngSize(png);
        const seed = typeof allSeeds[i] === 'number' ? (allSeeds[i] as number) : plan.arguments.seed + i;
        return { png, seed, width, height };
      } catch (e) {
        if (e instanceof PngFormatError)
          throw badReply(
            this.ctx,
            `image ${i + 1} of the reply is not a valid PNG (${e.message}). Set the server's image format to PNG.`,
          );
        throw e;
      }
    });
    const server: Record<string, string> = {};
    for (const key of ['sd_model_name', 'sd_model_hash', 'sampler_name', 'scheduler', 'version']) {
      const v = info[key];
      if (typeof v === 'string' || typeof v === 'number') server[key] = String(v).slice(0, 200);
    }
    return { images: out, endpoint: { kind: this.kind, url: this.config.baseUrl }, server, timings: {} };
  }
}
