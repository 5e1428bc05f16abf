import { describe, expect, it } from 'vitest';
import { ComfyUIClient } from '../../src/core/endpoints/comfyui.ts';
import { pngSize } from '../../src/core/png.ts';
import type { GenerationProgress } from '../../src/core/endpoints/types.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';
import {
  CHECKPOINT_PLAN,
  LORA_PLAN,
  config,
  failure,
  nodeWebSocket,
  resetBeforeEach,
  serveDuringSuite,
} from './endpoints-fixtures.ts';

describe('ComfyUI client against the ComfyUI test server', () => {
  const server = new ComfyTestServer({ delayMs: 200 });
  const url = serveDuringSuite(server);
  resetBeforeEach(server, 200);
  const client = (extra = {}) => new ComfyUIClient(config('comfyui', url(), extra), { webSocket: nodeWebSocket });
  const promptBodies = () =>
    server.requests.filter((r) => r.path === '/prompt').map((r) => r.body as Record<string, unknown>);

  it('posts the API-format graph with a client id, follows /ws progress and fetches PNGs via /history and /view', async () => {
    const progress: GenerationProgress[] = [];
    const out = await client().generate(CHECKPOINT_PLAN, { batchSize: 2, onProgress: (p) => progress.push(p) });
    expect(server.rejected).toEqual([]);
    const [body] = promptBodies();
    expect(typeof body!.client_id).toBe('string');
    expect(body!.prompt).toEqual({
      '4': {
        class_type: 'CheckpointLoaderSimple',
        inputs: { ckpt_name: 'SD1.5/realisticVisionV51_v51VAE.safetensors' },
      },
      '6': { class_type: 'CLIPTextEncode', inputs: { text: CHECKPOINT_PLAN.prompt, clip: ['4', 1] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: CHECKPOINT_PLAN.negative_prompt, clip: ['4', 1] } },
      '5': { class_type: 'EmptyLatentImage', inputs: { width: 512, height: 768, batch_size: 2 } },
      '3': {
        class_type: 'KSampler',
        inputs: {
          seed: 123456789,
          steps: 30,
          cfg: 7,
          sampler_name: 'dpmpp_2m',
          scheduler: 'karras',
          denoise: 1,
          model: ['4', 0],
          positive: ['6', 0],
          negative: ['7', 0],
          latent_image: ['5', 0],
        },
      },
      '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
      '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'chatgen', images: ['8', 0] } },
    });
    expect(out.images).toHaveLength(2);
    for (const img of out.images) expect(pngSize(img.png)).toEqual({ width: 64, height: 96 });
    const sampling = progress.filter((p) => p.phase === 'sampling');
    expect(sampling.length).toBeGreaterThan(5);
    expect(sampling.at(-1)).toMatchObject({ step: 30, steps: 30, fraction: 1 });
    const paths = server.requests.map((r) => r.path);
    expect(paths.some((p) => p.startsWith('/history/'))).toBe(true);
    expect(paths.filter((p) => p.startsWith('/view?'))).toHaveLength(2);
    expect(out.server.sampler).toBe('dpmpp_2m + karras');
  });

  it('puts a LoraLoader between the checkpoint and the sampler for a LoRA plan', async () => {
    await client({ loraBaseCheckpoint: 'v1-5-pruned-emaonly.safetensors' }).generate(LORA_PLAN);
    const graph = promptBodies()[0]!.prompt as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
    expect(graph['4']!.inputs.ckpt_name).toBe('v1-5-pruned-emaonly.safetensors');
    expect(graph['10']).toEqual({
      class_type: 'LoraLoader',
      inputs: {
        model: ['4', 0],
        clip: ['4', 1],
        lora_name: 'add_detail.safetensors',
        strength_model: 1,
        strength_clip: 1,
      },
    });
    expect(graph['3']!.inputs).toMatchObject({
      model: ['10', 0],
      sampler_name: 'euler_ancestral',
      scheduler: 'normal',
    });
    expect(graph['6']!.inputs).toEqual({
      text: 'portrait of an old fisherman, rim light, add_detail',
      clip: ['10', 1],
    });
  });

  it('polls /history when the websocket is refused', async () => {
    server.mode.noWebSocket = true;
    const out = await client().generate(CHECKPOINT_PLAN);
    expect(out.images).toHaveLength(1);
    expect(server.requests.filter((r) => r.path.startsWith('/history/')).length).toBeGreaterThan(1);
  });

  it('lists checkpoints and LoRAs from /object_info and reports the version', async () => {
    const models = await client().listInstalledModels();
    expect(models.map((m) => `${m.kind}:${m.name}`)).toEqual([
      'checkpoint:v1-5-pruned-emaonly.safetensors',
      'checkpoint:SD1.5/realisticVisionV51_v51VAE.safetensors',
      'lora:add_detail.safetensors',
    ]);
    expect((await client().testConnection()).summary).toContain('ComfyUI 0.3.40 (test server)');
  });

  it('refuses a model the server lacks before queueing', async () => {
    server.mode.missing = ['SD1.5/realisticVisionV51_v51VAE.safetensors'];
    const e = await failure(client().generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('missing-model');
    expect(promptBodies()).toEqual([]);
  });

  it('turns ComfyUI’s value_not_in_list validation error into missing-model when its list went stale', async () => {
    const c = client();
    await c.listInstalledModels();
    server.mode.missing = ['SD1.5/realisticVisionV51_v51VAE.safetensors'];
    const e = await failure(c.generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('missing-model');
    expect(e.status).toBe(400);
    expect(e.serverMessage).toContain("ckpt_name: 'SD1.5/realisticVisionV51_v51VAE.safetensors' not in");
  });

  it('reports an execution_error with the exception message', async () => {
    server.mode.executionError = 'Allocation on device 0 would exceed allowed memory.';
    const e = await failure(client().generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('generation-failed');
    expect(e.message).toContain('would exceed allowed memory');
    expect(e.message).toContain('KSampler');
  });

  it('reports a 500 from /prompt with the server’s message', async () => {
    server.mode.fail = { status: 500, message: 'database is locked' };
    const e = await failure(client().generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('http');
    expect(e.serverMessage).toContain('database is locked');
  });

  it('cancels mid-run: /interrupt is posted and the run ends as interrupted on the server', async () => {
    server.mode.delayMs = 4000;
    const controller = new AbortController();
    const e = await failure(
      client().generate(CHECKPOINT_PLAN, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.phase === 'sampling' && (p.step ?? 0) >= 2) controller.abort();
        },
      }),
    );
    expect(e.reason).toBe('cancelled');
    expect(server.requests.some((r) => r.path === '/interrupt')).toBe(true);
  });

  it('times out on a stalled run and interrupts it', async () => {
    server.mode.stall = true;
    const e = await failure(client({ timeoutMs: 700 }).generate(CHECKPOINT_PLAN));
    expect(e.reason).toBe('timeout');
    expect(server.requests.some((r) => r.path === '/interrupt')).toBe(true);
  });

  it('refuses a /view reply that is not an image, and an oversized one', async () => {
    server.mode.reply = 'not-image';
    expect((await failure(client().generate(CHECKPOINT_PLAN))).reason).toBe('bad-reply');
    server.mode.reply = 'oversized';
    server.mode.oversizedMB = 3;
    expect((await failure(client({ maxReplyMB: 1 }).generate(CHECKPOINT_PLAN))).reason).toBe('too-large');
  });
});
