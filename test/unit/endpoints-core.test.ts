import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { A1111Client } from '../../src/core/endpoints/a1111.ts';
import type { CatalogModel } from '../../src/core/catalog/types.ts';
import {
  fileStem,
  findInstalled,
  matchInstalledModels,
  mergeInstalledLists,
  promptWithLora,
} from '../../src/core/endpoints/installed.ts';
import { jobKey } from '../../src/core/endpoints/job-key.ts';
import { KioskConfigError, kioskConfigFromUrl, parseKioskConfig } from '../../src/core/endpoints/kiosk.ts';
import {
  embedParameters,
  formatParameters,
  parseParameters,
  readParameters,
} from '../../src/core/endpoints/infotext.ts';
import { crc32, readPngChunks, pngSize } from '../../src/core/png.ts';
import { EndpointPool } from '../../src/core/endpoints/pool.ts';
import { combinedA1111Sampler, splitA1111Sampler, toComfySampler } from '../../src/core/endpoints/samplers.ts';
import type {
  EndpointClient,
  EndpointConfig,
  GenerationOutput,
  InstalledModel,
} from '../../src/core/endpoints/types.ts';
import { KNOWN_SAMPLERS } from '../../src/core/plan.ts';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { COMFY_SAMPLERS, COMFY_SCHEDULERS } from '../servers/comfyui-test-server.ts';
import { encodeGradientPng } from '../servers/test-server-common.ts';
import { CHECKPOINT_PLAN, LORA_PLAN, config } from './endpoints-fixtures.ts';

const dataDir = path.resolve(__dirname, '../../../shared/data/civitai-2023');
const demonstrationsPath = path.join(dataDir, 'demonstrations.jsonl');
const hasData = fs.existsSync(demonstrationsPath);
if (!hasData)
  console.warn(
    `endpoints-core: ${demonstrationsPath} is absent, so the sampler coverage test over real records is skipped.`,
  );

async function samplersInDemonstrations(): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const lines = readline.createInterface({ input: fs.createReadStream(demonstrationsPath) });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const s = (JSON.parse(line) as { arguments: { sampler: string } }).arguments.sampler;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  return counts;
}

describe('sampler mapping', () => {
  it('splits A1111 names into sampler + scheduler (v1.9+)', () => {
    expect(splitA1111Sampler('DPM++ 2M Karras')).toEqual({ sampler_name: 'DPM++ 2M', scheduler: 'karras' });
    expect(splitA1111Sampler('DPM++ 2M SDE Exponential')).toEqual({
      sampler_name: 'DPM++ 2M SDE',
      scheduler: 'exponential',
    });
    expect(splitA1111Sampler('DPM2 a Karras')).toEqual({ sampler_name: 'DPM2 a', scheduler: 'karras' });
    expect(splitA1111Sampler('Euler a')).toEqual({ sampler_name: 'Euler a', scheduler: 'automatic' });
    expect(splitA1111Sampler('DPM++ 2M alt Karras')).toEqual({ sampler_name: 'DPM++ 2M', scheduler: 'karras' });
  });

  it('gives the combined (pre-v1.9) name a variant runs as', () => {
    expect(combinedA1111Sampler('DPM++ 2M Karras MOD')).toBe('DPM++ 2M Karras');
    expect(combinedA1111Sampler('DPM++ 2M alt Karras')).toBe('DPM++ 2M Karras');
    expect(combinedA1111Sampler('euler_a')).toBe('Euler a');
  });

  it('maps the named examples to ComfyUI', () => {
    expect(toComfySampler('DPM++ 2M Karras')).toMatchObject({
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      exact: true,
    });
    expect(toComfySampler('Euler a')).toMatchObject({ sampler_name: 'euler_ancestral', scheduler: 'normal' });
    expect(toComfySampler('DPM++ SDE Karras')).toMatchObject({ sampler_name: 'dpmpp_sde', scheduler: 'karras' });
    expect(toComfySampler('UniPC')).toMatchObject({ sampler_name: 'uni_pc', scheduler: 'normal' });
    expect(toComfySampler('DDIM')).toMatchObject({ sampler_name: 'ddim', scheduler: 'ddim_uniform' });
    expect(toComfySampler('k_euler_a')).toMatchObject({ sampler_name: 'euler_ancestral' });
    expect(toComfySampler('PLMS').exact).toBe(false);
    expect(() => toComfySampler('Restart Magic')).toThrow(/unknown sampler/);
  });

  it('maps every known A1111 sampler onto ComfyUI names the ComfyUI test server accepts', () => {
    for (const s of KNOWN_SAMPLERS) {
      const c = toComfySampler(s);
      expect(COMFY_SAMPLERS, s).toContain(c.sampler_name);
      expect(COMFY_SCHEDULERS, s).toContain(c.scheduler);
    }
  });

  it.skipIf(!hasData)(
    'maps every sampler name in civitai-2023/demonstrations.jsonl, for ComfyUI and A1111 v1.9+',
    async () => {
      const counts = await samplersInDemonstrations();
      expect(counts.size).toBeGreaterThan(10);
      const unmapped: string[] = [];
      for (const name of counts.keys()) {
        try {
          const c = toComfySampler(name);
          expect(COMFY_SAMPLERS).toContain(c.sampler_name);
          splitA1111Sampler(name);
        } catch {
          unmapped.push(name);
        }
      }
      expect(unmapped).toEqual([]);
    },
  );
});

describe('PNG parameters chunk', () => {
  const png = new Uint8Array(encodeGradientPng(16, 24, 7));

  it('crc32 matches the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('embeds A1111 infotext as tEXt before IEND with correct CRCs and reads it back', () => {
    const text = formatParameters(CHECKPOINT_PLAN, 123456789);
    expect(text).toBe(
      'a lighthouse on a cliff at dusk, dramatic sky, highly detailed\n' +
        'Negative prompt: blurry, lowres, watermark\n' +
        'Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 123456789, Size: 512x768, Model hash: 15012c538f, Model: realisticVisionV51_v51VAE',
    );
    const out = embedParameters(png, text);
    const chunks = readPngChunks(out); // checks every CRC
    expect(chunks.map((c) => c.type)).toEqual(['IHDR', 'IDAT', 'tEXt', 'IEND']);
    expect(readParameters(out)).toBe(text);
    expect(pngSize(out)).toEqual({ width: 16, height: 24 });
    const again = embedParameters(out, 'second');
    expect(readPngChunks(again).filter((c) => c.type === 'tEXt')).toHaveLength(1);
    expect(readParameters(again)).toBe('second');
  });

  it('writes non-Latin-1 prompts as iTXt (UTF-8), as PIL does', () => {
    const text = formatParameters({ ...CHECKPOINT_PLAN, prompt: '桜の木の下の猫, watercolor' }, 1);
    const out = embedParameters(png, text);
    expect(readPngChunks(out).map((c) => c.type)).toContain('iTXt');
    expect(readParameters(out)).toBe(text);
  });

  it('parses infotext back into prompt, negative and fields (quoted values with commas included)', () => {
    const text = formatParameters(CHECKPOINT_PLAN, 5, { Note: 'a, b: c' });
    expect(parseParameters(text)).toEqual({
      prompt: CHECKPOINT_PLAN.prompt,
      negative_prompt: CHECKPOINT_PLAN.negative_prompt,
      fields: {
        Steps: '30',
        Sampler: 'DPM++ 2M Karras',
        'CFG scale': '7',
        Seed: '5',
        Size: '512x768',
        'Model hash': '15012c538f',
        Model: 'realisticVisionV51_v51VAE',
        Note: 'a, b: c',
      },
    });
  });

  it('rejects bytes that are not a PNG or have a broken CRC', () => {
    expect(() => readPngChunks(new TextEncoder().encode('<html></html>'))).toThrow(/not a PNG/);
    const broken = png.slice();
    broken[20] = broken[20]! ^ 0xff;
    expect(() => readPngChunks(broken)).toThrow(/CRC mismatch/);
  });
});

describe('job cache key', () => {
  const ep = { kind: 'a1111' as const, baseUrl: 'http://127.0.0.1:7860' };
  it('is the same for the same plan, endpoint and seed, whatever the key order or trailing slash', () => {
    const reordered = JSON.parse(
      JSON.stringify({
        arguments: CHECKPOINT_PLAN.arguments,
        model: CHECKPOINT_PLAN.model,
        negative_prompt: CHECKPOINT_PLAN.negative_prompt,
        prompt: CHECKPOINT_PLAN.prompt,
      }),
    );
    expect(jobKey(reordered, { ...ep, baseUrl: 'http://127.0.0.1:7860/' }, 1)).toBe(jobKey(CHECKPOINT_PLAN, ep, 1));
  });
  it('differs when the seed, the endpoint kind or URL, or the plan differ', () => {
    const k = jobKey(CHECKPOINT_PLAN, ep, 1);
    expect(jobKey(CHECKPOINT_PLAN, ep, 2)).not.toBe(k);
    expect(jobKey(CHECKPOINT_PLAN, { ...ep, kind: 'comfyui' }, 1)).not.toBe(k);
    expect(jobKey(CHECKPOINT_PLAN, { ...ep, baseUrl: 'http://127.0.0.1:7861' }, 1)).not.toBe(k);
    expect(jobKey({ ...CHECKPOINT_PLAN, prompt: 'x' }, ep, 1)).not.toBe(k);
  });
});

describe('installed-model matching', () => {
  const catalog: CatalogModel[] = [
    {
      id: 1,
      name: 'Realistic Vision',
      type: 'Checkpoint',
      tags: [],
      base_model: 'SD 1.5',
      trained_words: [],
      file: 'realisticVisionV51_v51VAE.safetensors',
      hash: '15012C538F',
      downloads: 0,
      rating: 0,
      description: '',
    },
    {
      id: 2,
      name: 'Renamed on disk',
      type: 'Checkpoint',
      tags: [],
      base_model: 'SD 1.5',
      trained_words: [],
      file: 'dreamshaper_8.safetensors',
      hash: '879DB523C3',
      downloads: 0,
      rating: 0,
      description: '',
    },
    {
      id: 3,
      name: 'Detail Tweaker',
      type: 'LORA',
      tags: [],
      base_model: 'SD 1.5',
      trained_words: [],
      file: 'add_detail.safetensors',
      hash: null,
      downloads: 0,
      rating: 0,
      description: '',
    },
    {
      id: 4,
      name: 'Not installed',
      type: 'Checkpoint',
      tags: [],
      base_model: 'SD 1.5',
      trained_words: [],
      file: 'absent.safetensors',
      hash: 'AAAAAAAAAA',
      downloads: 0,
      rating: 0,
      description: '',
    },
    {
      id: 5,
      name: 'Same stem, other kind',
      type: 'LORA',
      tags: [],
      base_model: 'SD 1.5',
      trained_words: [],
      file: 'v1-5-pruned-emaonly.safetensors',
      hash: null,
      downloads: 0,
      rating: 0,
      description: '',
    },
  ];
  const installed: InstalledModel[] = [
    {
      kind: 'checkpoint',
      name: 'realisticVisionV51_v51VAE.safetensors [15012c538f]',
      file: 'realisticVisionV51_v51VAE.safetensors',
      hash: '15012c538f',
    },
    {
      kind: 'checkpoint',
      name: 'my-favourite.safetensors [879db523c3]',
      file: 'my-favourite.safetensors',
      hash: '879db523c3',
    },
    {
      kind: 'checkpoint',
      name: 'v1-5-pruned-emaonly.safetensors [6ce0161689]',
      file: 'v1-5-pruned-emaonly.safetensors',
      hash: '6ce0161689',
    },
    { kind: 'lora', name: 'add_detail', file: 'ADD_DETAIL.SAFETENSORS', hash: null },
  ];

  it('matches by AutoV2 hash or file name (case- and extension-insensitive, kind-aware) and lists the rest', () => {
    const m = matchInstalledModels(catalog, installed);
    expect([...m.allowedModelIds].sort()).toEqual([1, 2, 3]);
    expect(m.matches.get(2)!.file).toBe('my-favourite.safetensors');
    expect(m.unmatched.map((u) => u.file)).toEqual(['v1-5-pruned-emaonly.safetensors']);
    expect(fileStem('models\\Lora\\Add_Detail.ckpt')).toBe('add_detail');
    expect(findInstalled({ type: 'Checkpoint', file: 'x.ckpt', hash: '15012c538f' }, installed)?.hash).toBe(
      '15012c538f',
    );
  });

  it('matches what an A1111 test server reports from its /sdapi/v1/sd-models and /loras', async () => {
    const server = new A1111TestServer({ delayMs: 0 });
    const url = await server.listen();
    try {
      const m = matchInstalledModels(catalog, await new A1111Client(config('a1111', url)).listInstalledModels());
      expect([...m.allowedModelIds].sort()).toEqual([1, 3]);
      expect(m.unmatched.map((u) => u.file)).toEqual(['v1-5-pruned-emaonly.safetensors']);
    } finally {
      await server.close();
    }
  });

  it('counts a model installed on several endpoints once, on the endpoints that have it', () => {
    const second: InstalledModel[] = [
      // The same checkpoint (same hash), and the same LoRA under another case, plus one only this endpoint has.
      { kind: 'checkpoint', name: 'rv51.safetensors [15012c538f]', file: 'rv51.safetensors', hash: '15012c538f' },
      { kind: 'lora', name: 'add_detail', file: 'add_detail.safetensors', hash: null },
      { kind: 'checkpoint', name: 'absent.safetensors', file: 'absent.safetensors', hash: null },
    ];
    const merged = mergeInstalledLists([
      { endpoint: 'http://gpu-1:7860', models: installed },
      { endpoint: 'http://gpu-2:7860', models: second },
    ]);
    expect(merged).toHaveLength(5);
    expect(merged.find((m) => m.hash === '15012c538f')!.endpoints).toEqual(['http://gpu-1:7860', 'http://gpu-2:7860']);
    expect(merged.find((m) => m.kind === 'lora')!.endpoints).toEqual(['http://gpu-1:7860', 'http://gpu-2:7860']);
    expect(merged.find((m) => m.file === 'absent.safetensors')!.endpoints).toEqual(['http://gpu-2:7860']);
    // The chosen model is never listed as "installed but not in the catalog" because a second endpoint has it too.
    const m = matchInstalledModels(catalog, merged);
    expect([...m.allowedModelIds].sort()).toEqual([1, 2, 3, 4]);
    expect(m.unmatched.map((u) => u.file)).toEqual(['v1-5-pruned-emaonly.safetensors']);
  });

  it('writes the LoRA tag after the prompt with trigger words not already in it', () => {
    expect(promptWithLora(LORA_PLAN.prompt, 'add_detail', LORA_PLAN.model.trained_words, 0.8)).toBe(
      'portrait of an old fisherman, rim light, add_detail <lora:add_detail:0.8>',
    );
  });
});

describe('kiosk configuration', () => {
  it('reads a valid kiosk.json with defaults', () => {
    const k = parseKioskConfig({
      endpoints: [
        { kind: 'a1111', url: 'http://gpu-1:7860/' },
        { kind: 'comfyui', url: 'http://gpu-2:8188', concurrency: 2, timeoutMs: 120000 },
      ],
      dispatch: 'round-robin',
      onlyInstalledModels: true,
    });
    expect(k.dispatch).toBe('round-robin');
    expect(k.onlyInstalledModels).toBe(true);
    expect(k.batchSize).toBe(1);
    expect(k.endpoints[0]).toEqual({ kind: 'a1111', baseUrl: 'http://gpu-1:7860', timeoutMs: 600000, concurrency: 1 });
    expect(k.endpoints[1]).toMatchObject({ concurrency: 2, timeoutMs: 120000 });
  });

  it('lists every problem at once, each naming its place', () => {
    let err: KioskConfigError | null = null;
    try {
      parseKioskConfig({
        endpoints: [
          { kind: 'midjourney', url: 'ftp://x' },
          { kind: 'a1111', url: 'http://u:p@h:1', concurency: 2 },
        ],
        dispatch: 'random',
        extra: 1,
      });
    } catch (e) {
      err = e as KioskConfigError;
    }
    expect(err).toBeInstanceOf(KioskConfigError);
    const text = err!.problems.join('\n');
    expect(text).toContain('unknown field "extra"');
    expect(text).toContain('endpoints[0].kind must be one of a1111, comfyui, openai, hf-inference, got "midjourney"');
    expect(text).toContain('endpoints[0].url: "ftp://x" must start with http:// or https://');
    expect(text).toContain('endpoints[1]: unknown field "concurency"');
    expect(text).toContain('carries credentials');
    expect(text).toContain('"dispatch" must be one of round-robin, least-busy');
    expect(() => parseKioskConfig([])).toThrow(/top level must be a JSON object/);
    expect(() => parseKioskConfig({ endpoints: [] })).toThrow(/non-empty list/);
  });

  it('reads URL parameters, and refuses API keys in them', () => {
    expect(kioskConfigFromUrl(new URLSearchParams('chat=1'))).toBeNull();
    const k = kioskConfigFromUrl(
      new URLSearchParams(
        'endpoint=a1111:http://gpu-1:7860&endpoint=comfyui:http://gpu-2:8188&dispatch=least-busy&only-installed=1&batch=2&timeout=300',
      ),
    )!;
    expect(k.endpoints.map((e) => [e.kind, e.baseUrl, e.timeoutMs])).toEqual([
      ['a1111', 'http://gpu-1:7860', 300000],
      ['comfyui', 'http://gpu-2:8188', 300000],
    ]);
    expect(k).toMatchObject({ dispatch: 'least-busy', onlyInstalledModels: true, batchSize: 2 });
    expect(() =>
      kioskConfigFromUrl(new URLSearchParams('endpoint=openai:https://api.openai.com&api-key=sk-1')),
    ).toThrow(/API keys are not accepted in the URL/);
    expect(() => kioskConfigFromUrl(new URLSearchParams('endpoint=foo:http://x'))).toThrow(
      /endpoint #1\.kind must be one of/,
    );
  });
});

/** A client whose runs the test finishes by hand, to watch dispatch decisions. */
class ManualClient implements EndpointClient {
  readonly kind = 'a1111' as const;
  readonly started: ((v: GenerationOutput) => void)[] = [];
  constructor(readonly config: EndpointConfig) {}
  generate(): Promise<GenerationOutput> {
    return new Promise((resolve) => this.started.push(resolve));
  }
  async cancel(): Promise<void> {}
  async listInstalledModels(): Promise<InstalledModel[]> {
    return [];
  }
  async testConnection(): Promise<never> {
    throw new Error('not used');
  }
}

const output = (url: string): GenerationOutput => ({
  images: [],
  endpoint: { kind: 'a1111', url },
  server: {},
  timings: {},
});
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('endpoint pool dispatch', () => {
  it('round-robin cycles through endpoints and holds each to its concurrency', async () => {
    const a = new ManualClient(config('a1111', 'http://a', { concurrency: 1 }));
    const b = new ManualClient(config('a1111', 'http://b', { concurrency: 2 }));
    const pool = new EndpointPool([a, b], 'round-robin');
    const runs = Array.from({ length: 4 }, () => pool.generate(CHECKPOINT_PLAN));
    await tick();
    expect([a.started.length, b.started.length]).toEqual([1, 2]); // the 4th waits: a is full at 1, b at 2
    a.started[0]!(output('http://a'));
    await tick();
    expect([a.started.length, b.started.length]).toEqual([2, 2]);
    a.started[1]!(output('http://a'));
    b.started[0]!(output('http://b'));
    b.started[1]!(output('http://b'));
    expect((await Promise.all(runs)).map((r) => r.endpoint.url)).toEqual([
      'http://a',
      'http://b',
      'http://b',
      'http://a',
    ]);
  });

  it('least-busy sends work where the fewest runs are in flight relative to concurrency', async () => {
    const a = new ManualClient(config('a1111', 'http://a', { concurrency: 4 }));
    const b = new ManualClient(config('a1111', 'http://b', { concurrency: 1 }));
    const pool = new EndpointPool([a, b], 'least-busy');
    const runs = Array.from({ length: 4 }, () => pool.generate(CHECKPOINT_PLAN));
    await tick();
    expect([a.started.length, b.started.length]).toEqual([3, 1]);
    a.started.forEach((r) => r(output('http://a')));
    b.started.forEach((r) => r(output('http://b')));
    await Promise.all(runs);
    expect(pool.state.map((m) => m.completed)).toEqual([3, 1]);
  });

  it('sends a job only to the endpoints that may take it (e.g. with its model installed), in arrival order', async () => {
    const a = new ManualClient(config('a1111', 'http://a', { concurrency: 1 }));
    const b = new ManualClient(config('a1111', 'http://b', { concurrency: 1 }));
    const pool = new EndpointPool([a, b], 'least-busy');
    const onlyB = (c: EndpointClient) => c.config.baseUrl === 'http://b';
    const first = pool.generate(CHECKPOINT_PLAN, {}, onlyB);
    const second = pool.generate(CHECKPOINT_PLAN, {}, onlyB);
    const anywhere = pool.generate(CHECKPOINT_PLAN);
    await tick();
    // b is busy with the first; the second waits for b, the third (any endpoint) takes the idle a.
    expect([a.started.length, b.started.length]).toEqual([1, 1]);
    b.started[0]!(output('http://b'));
    await tick();
    expect(b.started).toHaveLength(2);
    b.started[1]!(output('http://b'));
    a.started[0]!(output('http://a'));
    expect((await Promise.all([first, second, anywhere])).map((r) => r.endpoint.url)).toEqual([
      'http://b',
      'http://b',
      'http://a',
    ]);
    await expect(pool.generate(CHECKPOINT_PLAN, {}, () => false)).rejects.toMatchObject({ reason: 'config' });
  });

  it('a waiting request can be cancelled', async () => {
    const a = new ManualClient(config('a1111', 'http://a'));
    const pool = new EndpointPool([a]);
    const first = pool.generate(CHECKPOINT_PLAN);
    const controller = new AbortController();
    const second = pool.generate(CHECKPOINT_PLAN, { signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toMatchObject({ reason: 'cancelled' });
    a.started[0]!(output('http://a'));
    await first;
    expect(a.started).toHaveLength(1);
  });

  describe('with two real A1111 test servers', () => {
    const servers = [new A1111TestServer({ delayMs: 150 }), new A1111TestServer({ delayMs: 150 })];
    const urls: string[] = [];
    beforeAll(async () => {
      for (const s of servers) urls.push(await s.listen());
    });
    afterAll(async () => {
      for (const s of servers) await s.close();
    });

    it('spreads four jobs two and two (least-busy, concurrency 1 each)', async () => {
      const pool = new EndpointPool(
        urls.map((u) => new A1111Client(config('a1111', u))),
        'least-busy',
      );
      const outs = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          pool.generate({ ...CHECKPOINT_PLAN, arguments: { ...CHECKPOINT_PLAN.arguments, seed: i } }),
        ),
      );
      expect(outs.every((o) => o.images.length === 1)).toBe(true);
      expect(servers.map((s) => s.requests.filter((r) => r.path === '/sdapi/v1/txt2img').length)).toEqual([2, 2]);
    });
  });
});
