/**
 * A TEST server speaking the AUTOMATIC1111 web API (`--api`) closely enough to check a client:
 * every txt2img body is validated field by field (unknown fields and wrong types -> 422 with
 * pydantic-style detail, an unknown sampler -> 404 "Sampler not found", as A1111 answers), jobs run
 * one at a time with /sdapi/v1/progress reflecting them, /sdapi/v1/interrupt stops them, and the
 * reply carries real PNGs in base64 with A1111's `info` JSON. `version` '1.8' has no schedulers
 * route and refuses a `scheduler` field; '1.10' has both.
 */
import type http from 'node:http';
import {
  TestServerBase,
  checkFields,
  delay,
  encodeGradientPng,
  faultyPng,
  fileStemOf,
  type FieldSpec,
  type Handler,
  type TestServerMode,
} from './test-server-common.ts';

export interface A1111TestModel {
  file: string;
  /** Full SHA-256 (64 hex) or null when the server has not hashed it yet. */
  sha256: string | null;
}

export interface A1111TestServerOptions extends Partial<TestServerMode> {
  version?: '1.8' | '1.10';
  checkpoints?: A1111TestModel[];
  loras?: string[];
  /** "user:pass" as given to --api-auth. */
  apiAuth?: string;
  /** Image side divisor: a 512x768 request gets a 64x96 PNG by default (cheap, still real). */
  imageScale?: number;
}

export const DEFAULT_A1111_CHECKPOINTS: A1111TestModel[] = [
  {
    file: 'v1-5-pruned-emaonly.safetensors',
    sha256: '6ce0161689b3853acaa03779ec93eafe75a02f4ced659bee03f50797806fa2fa',
  },
  {
    file: 'realisticVisionV51_v51VAE.safetensors',
    sha256: '15012c538f503ce2ebfc2c8547b268c75ccdaff7a281db55399940ff1d70e21d',
  },
];
export const DEFAULT_A1111_LORAS = ['add_detail.safetensors'];

const SAMPLERS_1_10 = [
  'DPM++ 2M',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Heun',
  'DPM++ 2S a',
  'DPM++ 3M SDE',
  'Euler a',
  'Euler',
  'LMS',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM fast',
  'DPM adaptive',
  'Restart',
  'DDIM',
  'DDIM CFG++',
  'PLMS',
  'UniPC',
  'LCM',
];
const SAMPLERS_1_8 = [
  'DPM++ 2M Karras',
  'DPM++ SDE Karras',
  'DPM++ 2M SDE Exponential',
  'DPM++ 2M SDE Karras',
  'Euler a',
  'Euler',
  'LMS',
  'Heun',
  'DPM2',
  'DPM2 a',
  'DPM++ 2S a',
  'DPM++ 2M',
  'DPM++ SDE',
  'DPM++ 2M SDE',
  'DPM++ 2M SDE Heun',
  'DPM++ 2M SDE Heun Karras',
  'DPM++ 2M SDE Heun Exponential',
  'DPM++ 3M SDE',
  'DPM++ 3M SDE Karras',
  'DPM++ 3M SDE Exponential',
  'DPM fast',
  'DPM adaptive',
  'LMS Karras',
  'DPM2 Karras',
  'DPM2 a Karras',
  'DPM++ 2S a Karras',
  'Restart',
  'DDIM',
  'PLMS',
  'UniPC',
  'LCM',
];
const SCHEDULERS_1_10: [string, string][] = [
  ['automatic', 'Automatic'],
  ['uniform', 'Uniform'],
  ['karras', 'Karras'],
  ['exponential', 'Exponential'],
  ['polyexponential', 'Polyexponential'],
  ['sgm_uniform', 'SGM Uniform'],
  ['kl_optimal', 'KL Optimal'],
  ['align_your_steps', 'Align Your Steps'],
  ['simple', 'Simple'],
  ['normal', 'Normal'],
  ['ddim', 'DDIM'],
  ['beta', 'Beta'],
];

/** StableDiffusionProcessingTxt2Img's API fields (A1111 1.10). The test server requires the core ones a client must send. */
const TXT2IMG_FIELDS: Record<string, FieldSpec> = {
  prompt: { type: 'string', required: true },
  negative_prompt: { type: 'string', required: true },
  seed: { type: 'integer', required: true },
  sampler_name: { type: 'string', required: true },
  batch_size: { type: 'integer', required: true },
  steps: { type: 'integer', required: true },
  cfg_scale: { type: 'number', required: true },
  width: { type: 'integer', required: true },
  height: { type: 'integer', required: true },
  scheduler: { type: 'string' },
  styles: { type: 'array' },
  subseed: { type: 'integer' },
  subseed_strength: { type: 'number' },
  seed_resize_from_h: { type: 'integer' },
  seed_resize_from_w: { type: 'integer' },
  n_iter: { type: 'integer' },
  restore_faces: { type: 'boolean' },
  tiling: { type: 'boolean' },
  do_not_save_samples: { type: 'boolean' },
  do_not_save_grid: { type: 'boolean' },
  eta: { type: 'number' },
  denoising_strength: { type: 'number' },
  s_min_uncond: { type: 'number' },
  s_churn: { type: 'number' },
  s_tmax: { type: 'number' },
  s_tmin: { type: 'number' },
  s_noise: { type: 'number' },
  override_settings: { type: 'object' },
  override_settings_restore_afterwards: { type: 'boolean' },
  refiner_checkpoint: { type: 'string' },
  refiner_switch_at: { type: 'number' },
  disable_extra_networks: { type: 'boolean' },
  comments: { type: 'object' },
  enable_hr: { type: 'boolean' },
  firstphase_width: { type: 'integer' },
  firstphase_height: { type: 'integer' },
  hr_scale: { type: 'number' },
  hr_upscaler: { type: 'string' },
  hr_second_pass_steps: { type: 'integer' },
  hr_resize_x: { type: 'integer' },
  hr_resize_y: { type: 'integer' },
  hr_checkpoint_name: { type: 'string' },
  hr_sampler_name: { type: 'string' },
  hr_scheduler: { type: 'string' },
  hr_prompt: { type: 'string' },
  hr_negative_prompt: { type: 'string' },
  force_task_id: { type: 'string' },
  sampler_index: { type: 'string' },
  script_name: { type: 'string-or-null' },
  script_args: { type: 'array' },
  send_images: { type: 'boolean' },
  save_images: { type: 'boolean' },
  alwayson_scripts: { type: 'object' },
  infotext: { type: 'string' },
};

interface Job {
  steps: number;
  step: number;
  started: number;
  interrupted: boolean;
}

export class A1111TestServer extends TestServerBase {
  readonly version: '1.8' | '1.10';
  readonly checkpoints: A1111TestModel[];
  readonly loras: string[];
  readonly apiAuth: string | undefined;
  readonly imageScale: number;
  /** LoRA names that prompts asked for but the server lacks (A1111 only warns in its console). */
  readonly missingLoras: string[] = [];
  currentCheckpoint: string;
  private queue: Promise<void> = Promise.resolve();
  private current: Job | null = null;
  private pending = 0;
  private closed = false;

  constructor(options: A1111TestServerOptions = {}) {
    const { version, checkpoints, loras, apiAuth, imageScale, ...mode } = options;
    super(mode);
    this.version = version ?? '1.10';
    this.checkpoints = checkpoints ?? DEFAULT_A1111_CHECKPOINTS;
    this.loras = loras ?? DEFAULT_A1111_LORAS;
    this.apiAuth = apiAuth;
    this.imageScale = imageScale ?? 8;
    this.currentCheckpoint = this.title(this.checkpoints[0]!);
  }

  private title(m: A1111TestModel): string {
    return m.sha256 ? `${m.file} [${m.sha256.slice(0, 10)}]` : m.file;
  }

  private installedCheckpoints(): A1111TestModel[] {
    return this.checkpoints.filter((m) => !this.mode.missing.includes(m.file));
  }

  private installedLoras(): string[] {
    return this.loras.filter((f) => !this.mode.missing.includes(f));
  }

  protected override resetState(): void {
    if (this.current) this.current.interrupted = true;
    this.missingLoras.length = 0;
  }

  protected override onClose(): void {
    this.closed = true;
    if (this.current) this.current.interrupted = true;
  }

  private authorised(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!this.apiAuth) return true;
    const expected = 'Basic ' + Buffer.from(this.apiAuth).toString('base64');
    if (req.headers.authorization === expected) return true;
    res.setHeader('WWW-Authenticate', 'Basic');
    this.reject(req, res, 401, req.url ?? '', { detail: 'Incorrect username or password' });
    return false;
  }

  protected route(method: string, path: string): Handler | null {
    const guard =
      (h: Handler): Handler =>
      (req, res, url, body) =>
        this.authorised(req, res) ? h(req, res, url, body) : undefined;
    const routes: Record<string, Handler> = {
      'GET /sdapi/v1/sd-models': (req, res) =>
        this.json(
          req,
          res,
          200,
          this.installedCheckpoints().map((m) => ({
            title: this.title(m),
            model_name: fileStemOf(m.file),
            hash: m.sha256 ? m.sha256.slice(0, 10) : null,
            sha256: m.sha256,
            filename: `/stable-diffusion-webui/models/Stable-diffusion/${m.file}`,
            config: null,
          })),
        ),
      'GET /sdapi/v1/loras': (req, res) =>
        this.json(
          req,
          res,
          200,
          this.installedLoras().map((f) => ({
            name: fileStemOf(f),
            alias: fileStemOf(f),
            path: `/stable-diffusion-webui/models/Lora/${f}`,
            metadata: {},
          })),
        ),
      'GET /sdapi/v1/samplers': (req, res) =>
        this.json(
          req,
          res,
          200,
          (this.version === '1.8' ? SAMPLERS_1_8 : SAMPLERS_1_10).map((name) => ({ name, aliases: [], options: {} })),
        ),
      'GET /sdapi/v1/options': (req, res) => this.json(req, res, 200, { sd_model_checkpoint: this.currentCheckpoint }),
      'GET /sdapi/v1/progress': (req, res) => this.json(req, res, 200, this.progress()),
      'POST /sdapi/v1/interrupt': (req, res) => {
        if (this.current) this.current.interrupted = true;
        this.json(req, res, 200, {});
      },
      'POST /sdapi/v1/txt2img': (req, res, _url, body) => this.txt2img(req, res, body),
    };
    if (this.version !== '1.8') {
      routes['GET /sdapi/v1/schedulers'] = (req, res) =>
        this.json(
          req,
          res,
          200,
          SCHEDULERS_1_10.map(([name, label]) => ({
            name,
            label,
            aliases: null,
            default_rho: -1,
            need_inner_model: false,
          })),
        );
    }
    const h = routes[`${method} ${path}`];
    return h ? guard(h) : null;
  }

  private progress(): unknown {
    const job = this.current;
    const fraction = job ? job.step / job.steps : 0;
    const elapsed = job ? (Date.now() - job.started) / 1000 : 0;
    return {
      progress: fraction,
      eta_relative: job && fraction > 0 ? (elapsed / fraction) * (1 - fraction) : 0,
      state: {
        skipped: false,
        interrupted: job?.interrupted ?? false,
        stopping_generation: false,
        job: job ? 'txt2img' : '',
        job_count: this.pending,
        job_timestamp: '20250101000000',
        job_no: 0,
        sampling_step: job?.step ?? 0,
        sampling_steps: job?.steps ?? 0,
      },
      current_image: null,
      textinfo: null,
    };
  }

  private async txt2img(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
    const spec = { ...TXT2IMG_FIELDS };
    if (this.version === '1.8') delete spec.scheduler;
    const problems = checkFields(body, spec);
    if (problems.length) return this.reject(req, res, 422, '/sdapi/v1/txt2img', { detail: problems });
    const b = body as Record<string, unknown>;
    const samplers = this.version === '1.8' ? SAMPLERS_1_8 : [...SAMPLERS_1_10, ...SAMPLERS_1_8];
    if (!samplers.includes(b.sampler_name as string))
      return this.reject(req, res, 404, '/sdapi/v1/txt2img', { detail: 'Sampler not found' });
    if (b.scheduler !== undefined && !SCHEDULERS_1_10.some(([n, l]) => n === b.scheduler || l === b.scheduler)) {
      return this.reject(req, res, 422, '/sdapi/v1/txt2img', {
        detail: [{ loc: ['body', 'scheduler'], msg: `unknown scheduler ${String(b.scheduler)}`, type: 'value_error' }],
      });
    }
    const override = (b.override_settings ?? {}) as Record<string, unknown>;
    let checkpoint = this.currentCheckpoint;
    if (override.sd_model_checkpoint !== undefined) {
      const wanted = String(override.sd_model_checkpoint);
      const hit = this.installedCheckpoints().find(
        (m) => this.title(m) === wanted || m.file === wanted || fileStemOf(m.file) === wanted,
      );
      if (!hit) {
        // A1111's API exception handler shape for an unknown checkpoint.
        return this.json(req, res, 500, {
          error: 'RuntimeError',
          detail: '',
          body: '',
          errors: `Checkpoint ${wanted} not found; loaded model is unchanged`,
        });
      }
      checkpoint = this.title(hit);
    }
    for (const m of (b.prompt as string).matchAll(/<lora:([^:>]+)(?::[^>]*)?>/g)) {
      if (!this.installedLoras().some((f) => fileStemOf(f) === m[1])) this.missingLoras.push(m[1]!);
    }
    if (this.mode.fail)
      return this.json(req, res, this.mode.fail.status, {
        error: 'RuntimeError',
        detail: '',
        body: '',
        errors: this.mode.fail.message,
      });

    const steps = b.steps as number;
    this.pending++;
    const run = this.queue.then(() => this.runJob(steps));
    this.queue = run.catch(() => undefined);
    await run;
    this.pending--;
    if (res.destroyed || this.closed) return;
    const batch = b.batch_size as number;
    const seed = b.seed as number;
    const w = b.width as number;
    const h = b.height as number;
    if (this.mode.reply === 'oversized') return this.oversized(req, res, 'application/json');
    const reply = this.mode.reply;
    const images =
      reply === 'not-image'
        ? Array.from({ length: batch }, () => Buffer.from('<html>not an image</html>').toString('base64'))
        : Array.from({ length: batch }, (_, i) => {
            const png = encodeGradientPng(w / this.imageScale, h / this.imageScale, (seed + i) & 0xff);
            return (reply === 'png-lying-size' || reply === 'png-with-text' ? faultyPng(png, reply) : png).toString(
              'base64',
            );
          });
    if (override.sd_model_checkpoint !== undefined && b.override_settings_restore_afterwards === false)
      this.currentCheckpoint = checkpoint;
    const info = {
      prompt: b.prompt,
      all_prompts: Array(batch).fill(b.prompt),
      negative_prompt: b.negative_prompt,
      seed,
      all_seeds: Array.from({ length: batch }, (_, i) => seed + i),
      sampler_name: b.sampler_name,
      scheduler: b.scheduler ?? null,
      steps,
      cfg_scale: b.cfg_scale,
      width: w,
      height: h,
      sd_model_name: fileStemOf(checkpoint.replace(/ \[[0-9a-f]+\]$/, '')),
      sd_model_hash: /\[([0-9a-f]{10})\]$/.exec(checkpoint)?.[1] ?? null,
      batch_size: batch,
      version: this.version === '1.8' ? 'v1.8.0' : 'v1.10.1',
      infotexts: [],
    };
    this.json(req, res, 200, { images, parameters: b, info: JSON.stringify(info) });
  }

  private async runJob(steps: number): Promise<void> {
    const job: Job = { steps, step: 0, started: Date.now(), interrupted: false };
    this.current = job;
    try {
      if (this.mode.stall) {
        while (!job.interrupted && !this.closed) await delay(20);
        return;
      }
      const perStep = this.mode.delayMs / steps;
      for (let s = 1; s <= steps && !job.interrupted; s++) {
        if (perStep > 0) await delay(perStep);
        job.step = s;
      }
    } finally {
      this.current = null;
    }
  }
}
