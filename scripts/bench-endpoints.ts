/**
 * Client + cache overhead per image against the local TEST servers (their simulated delay set to 0):
 *   npm run bench:endpoints [-- --n 40]
 * For each endpoint kind: the client's full generate() per image, the same HTTP exchange done raw
 * with fetch (what any client must pay: localhost HTTP + the test server's PNG encoding), their
 * difference (the client's own cost), and the cache work per image (job key + embedding the
 * parameters chunk). Figures are medians over n runs after 5 warm-up runs.
 */
import WebSocket from 'ws';
import { A1111Client } from '../src/core/endpoints/a1111.ts';
import { ComfyUIClient } from '../src/core/endpoints/comfyui.ts';
import { jobKey } from '../src/core/endpoints/job-key.ts';
import { HFInferenceClient, OpenAIImagesClient } from '../src/core/endpoints/openai.ts';
import { embedParameters, formatParameters } from '../src/core/endpoints/infotext.ts';
import type { EndpointClient, EndpointConfig, WebSocketLike } from '../src/core/endpoints/types.ts';
import type { GenerationPlan } from '../src/core/plan.ts';
import { A1111TestServer } from '../test/servers/a1111-test-server.ts';
import { ComfyTestServer } from '../test/servers/comfyui-test-server.ts';
import { OpenAITestServer } from '../test/servers/openai-test-server.ts';

const nArg = process.argv.indexOf('--n');
const N = nArg >= 0 ? Number(process.argv[nArg + 1]) : 40;
const WARMUP = 5;

const plan: GenerationPlan = {
  prompt: 'a lighthouse on a cliff at dusk, dramatic sky, highly detailed',
  negative_prompt: 'blurry, lowres',
  model: {
    id: 1,
    name: 'Realistic Vision V5.1',
    type: 'Checkpoint',
    file: 'realisticVisionV51_v51VAE.safetensors',
    base_model: 'SD 1.5',
    trained_words: [],
    hash: '15012C538F',
  },
  arguments: { sampler: 'DPM++ 2M Karras', steps: 30, cfg_scale: 7, width: 512, height: 768, seed: 1 },
};

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

async function time(fn: (i: number) => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn(i);
  const xs: number[] = [];
  for (let i = 0; i < N; i++) {
    const t = performance.now();
    await fn(i);
    xs.push(performance.now() - t);
  }
  return median(xs);
}

const cfg = (kind: EndpointConfig['kind'], baseUrl: string): EndpointConfig => ({
  kind,
  baseUrl,
  timeoutMs: 30_000,
  concurrency: 1,
  pollMs: 1000,
  apiKey: kind === 'openai' || kind === 'hf-inference' ? 'k' : undefined,
});
const ws = (url: string) => new WebSocket(url) as unknown as WebSocketLike;

const a1111 = new A1111TestServer({ delayMs: 0 });
const comfy = new ComfyTestServer({ delayMs: 0 });
const openai = new OpenAITestServer({ delayMs: 0, apiKey: 'k', imageScale: 8 });
const [aUrl, cUrl, oUrl] = [await a1111.listen(), await comfy.listen(), await openai.listen()];

const withSeed = (i: number): GenerationPlan => ({ ...plan, arguments: { ...plan.arguments, seed: i } });
const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

interface Row {
  kind: string;
  client: number;
  raw: number;
}
const rows: Row[] = [];

async function bench(kind: string, client: EndpointClient, raw: (i: number) => Promise<unknown>): Promise<void> {
  const clientMs = await time((i) => client.generate(withSeed(i)));
  const rawMs = await time(raw);
  rows.push({ kind, client: clientMs, raw: rawMs });
}

const a1111Client = new A1111Client(cfg('a1111', aUrl));
const a1111Body = await a1111Client.buildRequest(plan, 1, new AbortController().signal);
await bench('a1111', a1111Client, async (i) => {
  const r = await post(`${aUrl}/sdapi/v1/txt2img`, { ...a1111Body, seed: i });
  const j = (await r.json()) as { images: string[] };
  return Buffer.from(j.images[0]!, 'base64');
});

const comfyClient = new ComfyUIClient(cfg('comfyui', cUrl), { webSocket: ws });
const comfyBody = await comfyClient.buildRequest(plan, 1, 'bench', new AbortController().signal);
await bench('comfyui', comfyClient, async () => {
  // Raw: queue, poll history until done, fetch the image (no websocket).
  const { prompt_id } = (await (await post(`${cUrl}/prompt`, comfyBody)).json()) as { prompt_id: string };
  for (;;) {
    const h = (await (await fetch(`${cUrl}/history/${prompt_id}`)).json()) as Record<
      string,
      { outputs: Record<string, { images: { filename: string }[] }> }
    >;
    const img = h[prompt_id]?.outputs['9']?.images[0];
    if (img) return (await fetch(`${cUrl}/view?filename=${img.filename}&subfolder=&type=output`)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 1));
  }
});

const openaiClient = new OpenAIImagesClient(cfg('openai', oUrl));
const openaiBody = openaiClient.buildRequests(plan, 1)[0]!;
await bench('openai', openaiClient, async () => {
  const j = (await (await post(`${oUrl}/v1/images/generations`, openaiBody, { Authorization: 'Bearer k' })).json()) as {
    data: { b64_json: string }[];
  };
  return Buffer.from(j.data[0]!.b64_json, 'base64');
});

const hfClient = new HFInferenceClient(cfg('hf-inference', `${oUrl}/hf/models/x`));
await bench('hf-inference', hfClient, async (i) =>
  (await post(`${oUrl}/hf/models/x`, hfClient.buildRequest(plan, i), { Authorization: 'Bearer k' })).arrayBuffer(),
);

// Cache work per image: the job key and embedding the A1111 parameters chunk into the PNG.
const sample = (await a1111Client.generate(plan)).images[0]!.png;
const keyMs = await time(async (i) => jobKey(withSeed(i), { kind: 'a1111', baseUrl: aUrl }, i));
const embedMs = await time(async (i) => embedParameters(sample, formatParameters(withSeed(i), i)));

await Promise.all([a1111.close(), comfy.close(), openai.close()]);

const f = (ms: number) => ms.toFixed(3).padStart(9);
console.log(
  `bench-endpoints: median of ${N} runs per figure (after ${WARMUP} warm-up), Node ${process.version}, test servers with delay 0, 512x768 plan (${sample.length}-byte 64x96 PNG)`,
);
console.log('kind          client ms   raw HTTP ms   client overhead ms');
for (const r of rows) console.log(`${r.kind.padEnd(12)} ${f(r.client)}   ${f(r.raw)}     ${f(r.client - r.raw)}`);
console.log(`cache work per image: job key ${f(keyMs)} ms, embed parameters chunk ${f(embedMs)} ms`);
