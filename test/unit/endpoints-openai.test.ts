import { describe, expect, it, vi } from 'vitest';
import { planLosses } from '../../src/core/endpoints/losses.ts';
import { HFInferenceClient, OpenAIImagesClient, nearestOpenAISize } from '../../src/core/endpoints/openai.ts';
import { pngSize } from '../../src/core/png.ts';
import { OpenAITestServer } from '../servers/openai-test-server.ts';
import {
  CHECKPOINT_PLAN,
  LORA_PLAN,
  config,
  failure,
  resetBeforeEach,
  serveDuringSuite,
} from './endpoints-fixtures.ts';

describe('OpenAI-compatible and HF Inference clients against the test server', () => {
  const server = new OpenAITestServer({ apiKey: 'sk-test-123', delayMs: 0 });
  const url = serveDuringSuite(server);
  resetBeforeEach(server, 0);

  it('sends model, prompt, n, the nearest accepted size and b64_json; one request per image for dall-e-3', async () => {
    const client = new OpenAIImagesClient(config('openai', url(), { apiKey: 'sk-test-123' }));
    const out = await client.generate(CHECKPOINT_PLAN, { batchSize: 2 });
    expect(server.rejected).toEqual([]);
    const bodies = server.requests.filter((r) => r.path === '/v1/images/generations').map((r) => r.body);
    expect(bodies).toEqual([
      { model: 'dall-e-3', prompt: CHECKPOINT_PLAN.prompt, n: 1, size: '1024x1792', response_format: 'b64_json' },
      { model: 'dall-e-3', prompt: CHECKPOINT_PLAN.prompt, n: 1, size: '1024x1792', response_format: 'b64_json' },
    ]);
    expect(server.requests[0]!.headers.authorization).toBe('Bearer sk-test-123');
    expect(out.images.map((i) => pngSize(i.png))).toEqual([
      { width: 64, height: 112 },
      { width: 64, height: 112 },
    ]);
  });

  it('sends one request with n for models that batch', async () => {
    await new OpenAIImagesClient(config('openai', url(), { apiKey: 'sk-test-123', openaiModel: 'dall-e-2' })).generate(
      CHECKPOINT_PLAN,
      { batchSize: 3 },
    );
    const bodies = server.requests.filter((r) => r.path === '/v1/images/generations').map((r) => r.body);
    expect(bodies).toEqual([
      { model: 'dall-e-2', prompt: CHECKPOINT_PLAN.prompt, n: 3, size: '512x512', response_format: 'b64_json' },
    ]);
  });

  it('a wrong key is an auth error carrying OpenAI’s message', async () => {
    const e = await failure(
      new OpenAIImagesClient(config('openai', url(), { apiKey: 'wrong' })).generate(CHECKPOINT_PLAN),
    );
    expect(e.reason).toBe('auth');
    expect(e.serverMessage).toContain('Incorrect API key provided');
  });

  it('refuses base64 that is not a PNG', async () => {
    server.mode.reply = 'not-image';
    const e = await failure(
      new OpenAIImagesClient(config('openai', url(), { apiKey: 'sk-test-123' })).generate(CHECKPOINT_PLAN),
    );
    expect(e.reason).toBe('bad-reply');
  });

  it('HF Inference: {inputs, parameters} with consecutive seeds, image bytes back', async () => {
    const client = new HFInferenceClient(
      config('hf-inference', `${url()}/hf/models/stabilityai/sd-turbo`, { apiKey: 'sk-test-123' }),
    );
    const out = await client.generate(CHECKPOINT_PLAN, { batchSize: 2 });
    expect(server.rejected).toEqual([]);
    const bodies = server.requests.filter((r) => r.path.startsWith('/hf/models/')).map((r) => r.body);
    const parameters = {
      negative_prompt: CHECKPOINT_PLAN.negative_prompt,
      num_inference_steps: 30,
      guidance_scale: 7,
      width: 512,
      height: 768,
    };
    expect(bodies).toEqual([
      { inputs: CHECKPOINT_PLAN.prompt, parameters: { ...parameters, seed: 123456789 } },
      { inputs: CHECKPOINT_PLAN.prompt, parameters: { ...parameters, seed: 123456790 } },
    ]);
    expect(out.images.map((i) => i.seed)).toEqual([123456789, 123456790]);
    expect(pngSize(out.images[0]!.png)).toEqual({ width: 32, height: 48 });
  });

  it('HF Inference: a JSON "model is loading" reply is refused as not an image; 503 carries the message', async () => {
    const client = new HFInferenceClient(config('hf-inference', `${url()}/hf/models/x`, { apiKey: 'sk-test-123' }));
    server.mode.reply = 'not-image';
    const e = await failure(client.generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('bad-reply');
    expect(e.message).toContain('expected an image');
    server.mode.reply = 'png';
    server.mode.fail = { status: 503, message: 'Model x is currently loading' };
    const e2 = await failure(client.generate(CHECKPOINT_PLAN));
    expect(e2.status).toBe(503);
    expect(e2.serverMessage).toBe('Model x is currently loading');
  });

  it('HF Inference: a stalled endpoint times out, a cancelled one is cancelled', async () => {
    server.mode.stall = true;
    const client = new HFInferenceClient(
      config('hf-inference', `${url()}/hf/models/x`, { apiKey: 'sk-test-123', timeoutMs: 300 }),
    );
    expect((await failure(client.generate(CHECKPOINT_PLAN))).reason).toBe('timeout');
    const controller = new AbortController();
    const slow = new HFInferenceClient(config('hf-inference', `${url()}/hf/models/x`, { apiKey: 'sk-test-123' }));
    const before = server.requests.length;
    const running = failure(slow.generate(CHECKPOINT_PLAN, { signal: controller.signal }));
    // Aborted once the stalled server holds the request: the cancel hits a request in flight, whatever the machine's speed.
    await vi.waitFor(() => expect(server.requests.length).toBeGreaterThan(before));
    controller.abort();
    expect((await running).reason).toBe('cancelled');
  });
});

describe('what a plan loses on each endpoint kind', () => {
  it('OpenAI loses the negative prompt, steps, cfg, sampler, seed, the exact size and the community model', () => {
    const losses = planLosses(CHECKPOINT_PLAN, { kind: 'openai' }).join('\n');
    expect(losses).toContain('negative prompt');
    expect(losses).toMatch(/Steps \(30\), CFG scale \(7\), sampler \(DPM\+\+ 2M Karras\) and seed/);
    expect(losses).toContain('512x768 becomes 1024x1792');
    expect(losses).toContain('Realistic Vision V5.1');
  });

  it('A1111 keeps everything for a checkpoint plan; notes a sampler variant and a LoRA’s base', () => {
    expect(planLosses(CHECKPOINT_PLAN, { kind: 'a1111' })).toEqual([]);
    expect(
      planLosses(
        { ...CHECKPOINT_PLAN, arguments: { ...CHECKPOINT_PLAN.arguments, sampler: 'DPM++ 2M Karras MOD' } },
        { kind: 'a1111' },
      )[0],
    ).toContain('runs its base "DPM++ 2M Karras"');
    expect(planLosses(LORA_PLAN, { kind: 'a1111' })[0]).toContain('currently loaded checkpoint');
    expect(planLosses(LORA_PLAN, { kind: 'a1111', loraBaseCheckpoint: 'v1-5' })).toEqual([]);
  });

  it('ComfyUI notes a sampler it has no exact counterpart for; HF notes sampler and model', () => {
    expect(
      planLosses(
        { ...CHECKPOINT_PLAN, arguments: { ...CHECKPOINT_PLAN.arguments, sampler: 'PLMS' } },
        { kind: 'comfyui' },
      )[0],
    ).toContain('no "PLMS" sampler');
    const hf = planLosses(CHECKPOINT_PLAN, { kind: 'hf-inference' }).join('\n');
    expect(hf).toContain('sampler');
    expect(hf).toContain('endpoint URL decides the model');
  });

  it('picks the accepted size nearest in aspect ratio', () => {
    expect(nearestOpenAISize('dall-e-3', 768, 512)).toBe('1792x1024');
    expect(nearestOpenAISize('dall-e-3', 512, 512)).toBe('1024x1024');
    expect(nearestOpenAISize('local-sd', 640, 960)).toBe('640x960');
  });
});
