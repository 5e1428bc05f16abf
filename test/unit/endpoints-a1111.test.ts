import { describe, expect, it } from 'vitest';
import { A1111Client } from '../../src/core/endpoints/a1111.ts';
import { pngSize } from '../../src/core/png.ts';
import type { GenerationProgress } from '../../src/core/endpoints/types.ts';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import {
  CHECKPOINT_PLAN,
  LORA_PLAN,
  config,
  deadPort,
  failure,
  resetBeforeEach,
  serveDuringSuite,
} from './endpoints-fixtures.ts';

describe('A1111 client against the A1111 test server (v1.10)', () => {
  const server = new A1111TestServer({ delayMs: 200 });
  const url = serveDuringSuite(server);
  resetBeforeEach(server, 200);

  const txt2imgBodies = () =>
    server.requests.filter((r) => r.path === '/sdapi/v1/txt2img').map((r) => r.body as Record<string, unknown>);

  it('sends the plan as a v1.9+ txt2img body (scheduler split off) and returns real PNGs with progress', async () => {
    const client = new A1111Client(config('a1111', url()));
    const progress: GenerationProgress[] = [];
    const out = await client.generate(CHECKPOINT_PLAN, { batchSize: 2, onProgress: (p) => progress.push(p) });
    expect(server.rejected).toEqual([]);
    expect(txt2imgBodies()).toEqual([
      {
        prompt: CHECKPOINT_PLAN.prompt,
        negative_prompt: CHECKPOINT_PLAN.negative_prompt,
        seed: 123456789,
        sampler_name: 'DPM++ 2M',
        scheduler: 'karras',
        batch_size: 2,
        n_iter: 1,
        steps: 30,
        cfg_scale: 7,
        width: 512,
        height: 768,
        override_settings: { sd_model_checkpoint: 'realisticVisionV51_v51VAE.safetensors [15012c538f]' },
        override_settings_restore_afterwards: true,
        send_images: true,
        save_images: false,
      },
    ]);
    expect(out.images).toHaveLength(2);
    expect(out.images.map((i) => i.seed)).toEqual([123456789, 123456790]);
    for (const img of out.images) expect(pngSize(img.png)).toEqual({ width: 64, height: 96 });
    expect(out.server.sd_model_name).toBe('realisticVisionV51_v51VAE');
    expect(server.requests.some((r) => r.path.startsWith('/sdapi/v1/progress'))).toBe(true);
    expect(progress.some((p) => p.phase === 'sampling' && p.fraction > 0 && p.fraction <= 1)).toBe(true);
    expect(out.timings.total).toBeGreaterThan(0);
  });

  it('runs a custom sampler variant as its base', async () => {
    const client = new A1111Client(config('a1111', url()));
    await client.generate({
      ...CHECKPOINT_PLAN,
      arguments: { ...CHECKPOINT_PLAN.arguments, sampler: 'DPM++ 2M Karras MOD' },
    });
    expect(txt2imgBodies()[0]).toMatchObject({ sampler_name: 'DPM++ 2M', scheduler: 'karras' });
  });

  it('adds <lora:name:weight> and missing trigger words for a LoRA plan and keeps the current checkpoint', async () => {
    const client = new A1111Client(config('a1111', url()));
    await client.generate(LORA_PLAN);
    const body = txt2imgBodies()[0]!;
    expect(body.prompt).toBe('portrait of an old fisherman, rim light, add_detail <lora:add_detail:1>');
    expect(body.override_settings).toBeUndefined();
    expect(body).toMatchObject({ sampler_name: 'Euler a', scheduler: 'automatic' });
    expect(server.missingLoras).toEqual([]);
  });

  it('runs a LoRA on the base checkpoint named in the settings', async () => {
    const client = new A1111Client(config('a1111', url(), { loraBaseCheckpoint: 'v1-5-pruned-emaonly' }));
    await client.generate(LORA_PLAN);
    expect(txt2imgBodies()[0]!.override_settings).toEqual({
      sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    });
  });

  it("runs a LoRA on the plan's base checkpoint when the server has it and the settings name none", async () => {
    const base_checkpoint = {
      ...LORA_PLAN.model,
      id: 1,
      name: 'Realistic Vision',
      type: 'Checkpoint' as const,
      file: 'realisticVisionV51_v51VAE.safetensors',
      trained_words: [],
    };
    await new A1111Client(config('a1111', url())).generate({ ...LORA_PLAN, base_checkpoint });
    expect(txt2imgBodies()[0]!.override_settings).toEqual({
      sd_model_checkpoint: 'realisticVisionV51_v51VAE.safetensors [15012c538f]',
    });
    // The operator's setting wins over the plan's.
    await new A1111Client(config('a1111', url(), { loraBaseCheckpoint: 'v1-5-pruned-emaonly' })).generate({
      ...LORA_PLAN,
      base_checkpoint,
      arguments: { ...LORA_PLAN.arguments, seed: 43 },
    });
    expect(txt2imgBodies()[1]!.override_settings).toEqual({
      sd_model_checkpoint: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
    });
  });

  it('lists installed checkpoints with AutoV2 hashes and LoRAs', async () => {
    const models = await new A1111Client(config('a1111', url())).listInstalledModels();
    expect(models).toEqual([
      {
        kind: 'checkpoint',
        name: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
        file: 'v1-5-pruned-emaonly.safetensors',
        hash: '6ce0161689',
      },
      {
        kind: 'checkpoint',
        name: 'realisticVisionV51_v51VAE.safetensors [15012c538f]',
        file: 'realisticVisionV51_v51VAE.safetensors',
        hash: '15012c538f',
      },
      { kind: 'lora', name: 'add_detail', file: 'add_detail.safetensors', hash: null },
    ]);
    const report = await new A1111Client(config('a1111', url())).testConnection();
    expect(report.summary).toContain('2 checkpoints, 1 LoRAs');
  });

  it('refuses a model the server lacks, naming what it has', async () => {
    server.mode.missing = ['realisticVisionV51_v51VAE.safetensors'];
    const e = await failure(new A1111Client(config('a1111', url())).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('missing-model');
    expect(e.message).toContain('Realistic Vision V5.1');
    expect(e.message).toContain('v1-5-pruned-emaonly.safetensors');
    expect(txt2imgBodies()).toEqual([]);
  });

  it('reports a 500 with the server’s own message', async () => {
    server.mode.fail = { status: 500, message: 'CUDA out of memory. Tried to allocate 2.00 GiB' };
    const e = await failure(new A1111Client(config('a1111', url())).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('http');
    expect(e.status).toBe(500);
    expect(e.serverMessage).toContain('CUDA out of memory');
    expect(e.message).toContain('CUDA out of memory');
  });

  it('times out on a stalled server with a message about slow model loads, and interrupts it', async () => {
    server.mode.stall = true;
    const e = await failure(new A1111Client(config('a1111', url(), { timeoutMs: 600 })).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('timeout');
    expect(e.message).toMatch(/raise the timeout/);
    expect(server.requests.some((r) => r.path === '/sdapi/v1/interrupt')).toBe(true);
  });

  it('cancels mid-run: the call rejects as cancelled and the server is interrupted', async () => {
    server.mode.delayMs = 3000;
    const client = new A1111Client(config('a1111', url()));
    const controller = new AbortController();
    const run = client.generate(CHECKPOINT_PLAN, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase === 'sampling') controller.abort();
      },
    });
    const e = await failure(run);
    expect(e.reason).toBe('cancelled');
    expect(server.requests.some((r) => r.path === '/sdapi/v1/interrupt')).toBe(true);
  });

  it('cancel() stops every run of the client', async () => {
    server.mode.delayMs = 3000;
    const client = new A1111Client(config('a1111', url()));
    // Cancelled once the server is sampling (an event, not a guess at how long the request takes to arrive).
    const run = client.generate(CHECKPOINT_PLAN, {
      onProgress: (p) => {
        if (p.phase === 'sampling') void client.cancel();
      },
    });
    expect((await failure(run)).reason).toBe('cancelled');
  });

  it('refuses a reply whose images are not PNGs', async () => {
    server.mode.reply = 'not-image';
    const e = await failure(new A1111Client(config('a1111', url())).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('bad-reply');
    expect(e.message).toMatch(/not a valid PNG/);
  });

  it('refuses an oversized reply while streaming it', async () => {
    server.mode.reply = 'oversized';
    server.mode.oversizedMB = 3;
    const e = await failure(new A1111Client(config('a1111', url(), { maxReplyMB: 1 })).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('too-large');
  });

  it('says the server is unreachable when nothing listens', async () => {
    const port = await deadPort();
    const e = await failure(new A1111Client(config('a1111', `http://127.0.0.1:${port}`)).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('unreachable');
    expect(e.message).toContain(`127.0.0.1:${port}`);
  });

  it('refuses an invalid plan before any request', async () => {
    const e = await failure(
      new A1111Client(config('a1111', url())).generate({
        ...CHECKPOINT_PLAN,
        arguments: { ...CHECKPOINT_PLAN.arguments, steps: 0 },
      }),
    );
    expect(e.reason).toBe('invalid-plan');
    expect(server.requests).toEqual([]);
  });
});

describe('A1111 client against a v1.8 test server (no schedulers route) and --api-auth', () => {
  const server = new A1111TestServer({ version: '1.8', delayMs: 0, apiAuth: 'kiosk:secret' });
  const url = serveDuringSuite(server);

  it('probes /sdapi/v1/schedulers, finds none and sends the combined sampler name', async () => {
    const client = new A1111Client(
      config('a1111', url(), { authHeader: 'Basic ' + Buffer.from('kiosk:secret').toString('base64') }),
    );
    await client.generate({
      ...CHECKPOINT_PLAN,
      arguments: { ...CHECKPOINT_PLAN.arguments, sampler: 'DPM++ SDE Karras' },
    });
    const body = server.requests.find((r) => r.path === '/sdapi/v1/txt2img')!.body as Record<string, unknown>;
    expect(body.sampler_name).toBe('DPM++ SDE Karras');
    expect('scheduler' in body).toBe(false);
    expect(server.rejected).toEqual([]);
  });

  it('a split body is refused by a v1.8 server with a 422 naming the field', async () => {
    const client = new A1111Client(
      config('a1111', url(), {
        schedulerMode: 'split',
        authHeader: 'Basic ' + Buffer.from('kiosk:secret').toString('base64'),
      }),
    );
    const e = await failure(client.generate(CHECKPOINT_PLAN));
    expect(e.status).toBe(422);
    expect(e.serverMessage).toContain('extra fields not permitted');
  });

  it('a wrong password is an auth error', async () => {
    const e = await failure(new A1111Client(config('a1111', url(), { apiKey: 'nope' })).testConnection());
    expect(e.reason).toBe('auth');
    expect(e.serverMessage).toContain('Incorrect username or password');
  });
});
