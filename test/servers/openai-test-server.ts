/**
 * A TEST server for hosted-style image APIs: OpenAI's `POST /v1/images/generations` (fields and
 * sizes checked per model, OpenAI's `{error: {message, type, param}}` shape, Bearer key checked)
 * and a Hugging Face Inference-style text-to-image route `POST /hf/models/{name}` taking
 * `{inputs, parameters}` and answering raw image bytes. Real PNGs in both.
 */
import type http from 'node:http';
import {
  TestServerBase,
  checkFields,
  delay,
  encodeGradientPng,
  type FieldSpec,
  type Handler,
  type TestServerMode,
} from './test-server-common.ts';

export interface OpenAITestServerOptions extends Partial<TestServerMode> {
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  imageScale?: number;
}

const SIZES: Record<string, string[]> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536', 'auto'],
};

const OPENAI_FIELDS: Record<string, FieldSpec> = {
  prompt: { type: 'string', required: true },
  model: { type: 'string' },
  n: { type: 'integer' },
  size: { type: 'string' },
  response_format: { type: 'string' },
  quality: { type: 'string' },
  style: { type: 'string' },
  user: { type: 'string' },
  background: { type: 'string' },
  output_format: { type: 'string' },
  moderation: { type: 'string' },
};

const HF_FIELDS: Record<string, FieldSpec> = {
  inputs: { type: 'string', required: true },
  parameters: { type: 'object' },
};
const HF_PARAMETERS: Record<string, FieldSpec> = {
  negative_prompt: { type: 'string' },
  num_inference_steps: { type: 'integer' },
  guidance_scale: { type: 'number' },
  width: { type: 'integer' },
  height: { type: 'integer' },
  seed: { type: 'integer' },
  scheduler: { type: 'string' },
};

export class OpenAITestServer extends TestServerBase {
  readonly apiKey: string | undefined;
  readonly imageScale: number;

  constructor(options: OpenAITestServerOptions = {}) {
    const { apiKey, imageScale, ...mode } = options;
    super(mode);
    this.apiKey = apiKey;
    this.imageScale = imageScale ?? 16;
  }

  private closed = false;

  protected override resetState(): void {}

  protected override onClose(): void {
    this.closed = true;
  }

  private openaiError(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    message: string,
    param: string | null = null,
  ): void {
    this.reject(req, res, status, req.url ?? '', {
      error: { message, type: 'invalid_request_error', param, code: null },
    });
  }

  private authorised(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    if (!this.apiKey || req.headers.authorization === `Bearer ${this.apiKey}`) return true;
    this.reject(req, res, 401, req.url ?? '', {
      error: {
        message: 'Incorrect API key provided.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    });
    return false;
  }

  protected route(method: string, path: string): Handler | null {
    if (method === 'GET' && path === '/v1/models') {
      return (req, res) => {
        if (this.authorised(req, res))
          this.json(req, res, 200, {
            object: 'list',
            data: Object.keys(SIZES).map((id) => ({ id, object: 'model', owned_by: 'test' })),
          });
      };
    }
    if (method === 'POST' && path === '/v1/images/generations')
      return (req, res, _u, body) => this.generations(req, res, body);
    if (method === 'POST' && path.startsWith('/hf/models/')) return (req, res, _u, body) => this.hf(req, res, body);
    return null;
  }

  private async wait(): Promise<boolean> {
    if (this.mode.stall) {
      while (this.mode.stall && !this.closed) await delay(20);
      return false;
    }
    if (this.mode.delayMs > 0) await delay(this.mode.delayMs);
    return true;
  }

  private async generations(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
    if (!this.authorised(req, res)) return;
    const problems = checkFields(body, OPENAI_FIELDS);
    if (problems.length) {
      const p = problems[0]!;
      const param = p.loc[1] ?? null;
      return this.openaiError(
        req,
        res,
        400,
        p.type === 'value_error.extra'
          ? `Unrecognized request argument supplied: ${param}`
          : `Invalid value for '${param}': ${p.msg}.`,
        param,
      );
    }
    const b = body as Record<string, unknown>;
    const model = (b.model as string | undefined) ?? 'dall-e-2';
    const sizes = SIZES[model];
    if (!sizes) return this.openaiError(req, res, 404, `The model '${model}' does not exist.`, 'model');
    const size = (b.size as string | undefined) ?? '1024x1024';
    if (!sizes.includes(size))
      return this.openaiError(req, res, 400, `'${size}' is not one of ${JSON.stringify(sizes)} - 'size'`, 'size');
    const n = (b.n as number | undefined) ?? 1;
    if (n < 1 || n > 10 || (model === 'dall-e-3' && n !== 1))
      return this.openaiError(
        req,
        res,
        400,
        `Invalid 'n': ${model === 'dall-e-3' ? 'dall-e-3 supports only n=1' : 'must be 1..10'}.`,
        'n',
      );
    if (b.response_format !== undefined && b.response_format !== 'b64_json' && b.response_format !== 'url')
      return this.openaiError(req, res, 400, `Invalid response_format.`, 'response_format');
    if (this.mode.fail)
      return this.json(req, res, this.mode.fail.status, {
        error: { message: this.mode.fail.message, type: 'server_error', param: null, code: null },
      });
    if (!(await this.wait()) || res.destroyed) return;
    if (this.mode.reply === 'oversized') return this.oversized(req, res, 'application/json');
    const [w, h] = size === 'auto' ? [1024, 1024] : size.split('x').map(Number);
    const data = Array.from({ length: n }, (_, i) => ({
      b64_json:
        this.mode.reply === 'not-image'
          ? Buffer.from('GIF89a not really').toString('base64')
          : encodeGradientPng(w! / this.imageScale, h! / this.imageScale, i).toString('base64'),
      revised_prompt: b.prompt,
    }));
    this.json(req, res, 200, { created: Math.floor(Date.now() / 1000), data });
  }

  private async hf(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): Promise<void> {
    if (!this.authorised(req, res)) return;
    const problems = [
      ...checkFields(body, HF_FIELDS),
      ...checkFields((body as Record<string, unknown> | null)?.parameters ?? {}, HF_PARAMETERS, 'parameters'),
    ];
    if (problems.length)
      return this.reject(req, res, 400, req.url ?? '', {
        error: problems.map((p) => `${p.loc.join('.')}: ${p.msg}`).join('; '),
      });
    if (this.mode.fail) return this.json(req, res, this.mode.fail.status, { error: this.mode.fail.message });
    if (!(await this.wait()) || res.destroyed) return;
    if (this.mode.reply === 'oversized') return this.oversized(req, res, 'image/png');
    if (this.mode.reply === 'not-image')
      return this.json(req, res, 200, { estimated_time: 20, warning: 'model is loading' });
    const p = ((body as Record<string, unknown>).parameters ?? {}) as Record<string, number>;
    this.bytes(
      req,
      res,
      200,
      'image/png',
      encodeGradientPng((p.width ?? 512) / this.imageScale, (p.height ?? 512) / this.imageScale, p.seed ?? 0),
    );
  }
}
