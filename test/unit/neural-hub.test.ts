/**
 * The hub path in Node: the hub test server speaks the hub's file protocol, the curated Qwen2.5 pack
 * (base_model.hub_id, no head) downloads from it through CHATGEN_HUB_URL's code path, its real tokenizer
 * and the fixture decoder reproduce torch's reference tokens, and it plans in hybrid mode through the
 * bench core (stage 1 by the LLM, stages 2 and 3 by the default engine).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBenchEngines } from '../../src/core/bench/engines.ts';
import { runBench } from '../../src/core/bench/run.ts';
import { loadBenchItems } from '../../src/core/bench/items.ts';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { mergeTurns } from '../../src/core/chat.ts';
import { createHybridEngine, planningModeFor } from '../../src/core/engines/neural/hybrid.ts';
import {
  createHubFetch,
  explainHubFailure,
  hubFailureOf,
  memoryPartialDownloads,
  normaliseHubUrl,
} from '../../src/core/engines/neural/hub.ts';
import { generateGreedy } from '../../src/core/engines/neural/session.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { createHead } from '../../src/core/modeltoken.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { validateArguments } from '../../src/core/plan.ts';
import { loadNodePack, type NodePack } from '../../src/node/neural.ts';
import { HUB_FIXTURES, HubTestServer } from '../servers/hub-test-server.ts';

const root = path.resolve(import.meta.dirname, '../..');
const QWEN = 'onnx-community/Qwen2.5-0.5B-Instruct';
const qwenPack = path.join(root, 'public/models/packs/qwen2.5-0.5b-instruct');
const reference = JSON.parse(readFileSync(path.join(HUB_FIXTURES, 'qwen2.5-0.5b-instruct.reference.json'), 'utf8')) as {
  prompts: { input_ids: number[]; greedy_ids: number[] }[];
};

function starterCatalog(): Catalog {
  const dir = path.join(root, 'public/models/starter');
  const read = (file: string) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') });
  return loadCatalog({ catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') }, 'starter')
    .catalog;
}

let hub: HubTestServer;
let hubUrl: string;
const cacheDir = mkdtempSync(path.join(tmpdir(), 'chatgen-hub-cache-'));
beforeAll(async () => {
  hub = new HubTestServer({ root: HUB_FIXTURES, gated: ['meta-llama/Llama-3.2-1B-Instruct'] });
  hubUrl = await hub.listen();
});
afterAll(async () => {
  await hub.close();
  rmSync(cacheDir, { recursive: true, force: true });
});

describe('hub test server', () => {
  it('answers small files 200 with ETag, X-Repo-Commit, length and ranges; LFS files 302 to the CDN path', async () => {
    const config = await fetch(`${hubUrl}${QWEN}/resolve/main/config.json`);
    expect(config.status).toBe(200);
    expect(config.headers.get('etag')).toMatch(/^"[0-9a-f]{40}"$/);
    expect(config.headers.get('x-repo-commit')).toMatch(/^[0-9a-f]{40}$/);
    expect(config.headers.get('accept-ranges')).toBe('bytes');
    expect(Number(config.headers.get('content-length'))).toBe((await config.arrayBuffer()).byteLength);
    // The stored tokenizer.json.gz is served as the real tokenizer.json.
    const tokenizer = await fetch(`${hubUrl}${QWEN}/resolve/main/tokenizer.json`);
    expect(((await tokenizer.json()) as { model: { type: string } }).model.type).toBe('BPE');

    const redirect = await fetch(`${hubUrl}${QWEN}/resolve/main/onnx/model_q4.onnx`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(/^\/cdn\/[0-9a-f]{64}\/onnx-community\/Qwen2.5-0.5B-Instruct\/onnx\/model_q4.onnx$/);
    const size = Number(redirect.headers.get('x-linked-size'));
    expect(redirect.headers.get('x-linked-etag')).toBe(`"${location.split('/')[2]}"`);

    const partial = await fetch(new URL(location, hubUrl), { headers: { Range: 'bytes=100-' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 100-${size - 1}/${size}`);
    expect((await partial.arrayBuffer()).byteLength).toBe(size - 100);
    const changed = await fetch(new URL(location, hubUrl), {
      headers: { Range: 'bytes=100-', 'If-Range': '"another-etag"' },
    });
    expect(changed.status).toBe(200);
    expect((await changed.arrayBuffer()).byteLength).toBe(size);
  });

  it('answers like the hub: 401 GatedRepo / RepoNotFound, 404 RevisionNotFound / EntryNotFound', async () => {
    const cases = [
      ['meta-llama/Llama-3.2-1B-Instruct/resolve/main/config.json', 401, 'GatedRepo'],
      ['nobody/no-such-model/resolve/main/config.json', 401, 'RepoNotFound'],
      [`${QWEN}/resolve/v9.9/config.json`, 404, 'RevisionNotFound'],
      [`${QWEN}/resolve/main/onnx/model_fp16.onnx`, 404, 'EntryNotFound'],
    ] as const;
    for (const [route, status, code] of cases) {
      const response = await fetch(`${hubUrl}${route}`);
      expect([response.status, response.headers.get('x-error-code')]).toEqual([status, code]);
      const message = explainHubFailure(hubFailureOf(response, `${hubUrl}${route}`), hubUrl);
      expect(message).toContain(`the model hub at ${hubUrl}`);
    }
    const gated = await fetch(`${hubUrl}meta-llama/Llama-3.2-1B-Instruct/resolve/main/config.json`);
    expect(explainHubFailure(hubFailureOf(gated, gated.url), hubUrl)).toMatch(
      /refuses meta-llama\/Llama-3.2-1B-Instruct: it is gated .* \(401/,
    );
    const missing = await fetch(`${hubUrl}${QWEN}/resolve/main/onnx/model_fp16.onnx`);
    expect(explainHubFailure(hubFailureOf(missing, missing.url), hubUrl)).toContain(
      `has no file onnx/model_fp16.onnx in ${QWEN} (404`,
    );
  });

  it('resumes a cancelled download with a Range request and stitches the same bytes', async () => {
    const url = `${hubUrl}${QWEN}/resolve/main/onnx/model_q4.onnx`;
    const whole = new Uint8Array(await (await fetch(url)).arrayBuffer());
    hub.configure({ bytesPerSecond: 4 << 20 });
    const partial = memoryPartialDownloads();
    const controller = new AbortController();
    const first = await createHubFetch({ fetch, partial, signal: controller.signal })(url);
    const reader = first.body!.getReader();
    let got = 0;
    while (got < 200_000) got += (await reader.read()).value!.length;
    controller.abort();
    await expect(reader.read()).rejects.toThrow();
    const kept = await partial.get(url);
    expect(kept!.bytes.length).toBeGreaterThanOrEqual(200_000);
    expect(kept!.bytes.length).toBeLessThan(whole.length);

    hub.configure({ bytesPerSecond: 0 });
    const resumedFrom: number[] = [];
    const second = await createHubFetch({ fetch, partial, onResume: (_, from) => resumedFrom.push(from) })(url);
    expect(Number(second.headers.get('content-length'))).toBe(whole.length);
    const bytes = new Uint8Array(await second.arrayBuffer());
    expect(resumedFrom).toEqual([kept!.bytes.length]);
    // Byte equality through Buffer: vitest's deep equality walks 3 MB element by element (20 s).
    expect(Buffer.from(bytes).equals(Buffer.from(whole))).toBe(true);
    expect(partial.size).toBe(0);
    expect(
      hub.requests.filter(
        (r) => r.path.startsWith('/cdn/') && r.range === `bytes=${kept!.bytes.length}-` && r.status === 206,
      ),
    ).toHaveLength(1);
  });

  it('normalises hub URLs and refuses what is not one', () => {
    expect(normaliseHubUrl('')).toBe('https://huggingface.co/');
    expect(normaliseHubUrl(' http://mirror.local:8080/hf ')).toBe('http://mirror.local:8080/hf/');
    expect(() => normaliseHubUrl('ftp://x')).toThrow(/http or https/);
    expect(() => normaliseHubUrl('not a url')).toThrow(/not a URL/);
  });
});

describe('curated Qwen2.5-0.5B-Instruct pack from the hub test server', () => {
  let pack: NodePack;
  beforeAll(async () => {
    pack = await loadNodePack(qwenPack, { hubUrl, cacheDir });
  }, 60_000);
  afterAll(async () => {
    await pack?.session.dispose();
  });

  it("downloads the export layout (q4 on the CPU) and reproduces torch's greedy tokens with the real tokenizer", async () => {
    expect(pack.head).toBeNull();
    expect(pack.dtype).toBe('q4');
    const files = hub.requests
      .filter((r) => r.path.startsWith(`/${QWEN}/resolve/main/`))
      .map((r) => r.path.split('/resolve/main/')[1]);
    expect(files).toEqual(
      expect.arrayContaining(['tokenizer.json', 'tokenizer_config.json', 'config.json', 'onnx/model_q4.onnx']),
    );
    for (const p of reference.prompts) {
      const out = await generateGreedy(pack.session, p.input_ids, { maxNewTokens: p.greedy_ids.length });
      expect(out.ids).toEqual(p.greedy_ids.filter((id) => !pack.session.eosTokenIds.includes(id)));
    }
    // The real chat template (Qwen's default system prompt when none is given) and tokenizer.
    const text = pack.session.applyChatTemplate([{ role: 'user', content: 'hi' }], true);
    expect(text).toBe(
      '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(pack.session.encode('<|im_start|>')).toEqual([151644]);
  });

  it('plans in hybrid mode: the LLM writes stage 1, the default engine stages 2 and 3, and the plan says so', async () => {
    const catalog = starterCatalog();
    const [built] = await buildBenchEngines(['neural'], catalog, {
      neuralPack: { session: pack.session, head: pack.head, manifest: pack.manifest },
    });
    const engine = built!.engine;
    const result = await runPipeline(engine, { messages: ['A red fox in the snow, watercolor'], images: [] });
    expect(result.stage_engines?.prompt).toBe('LLM "Qwen2.5-0.5B-Instruct" (cpu, q4)');
    expect(result.stage_engines?.model).toMatch(/^the embedded engine \(default\)/);
    expect(result.prompt.evidence.notes[0]).toMatch(/^Stage 1 by the LLM "Qwen2.5-0.5B-Instruct"/);
    expect(result.model.evidence.notes[0]).toContain('the pack has no ModelToken head');
    // The fixture decoder is 2.4M random-then-briefly-trained parameters: its words are not checked, only
    // that the plan carries what it wrote.
    expect(result.plan.prompt).not.toBe('');
    expect(result.plan.prompt).toBe(result.prompt.prompt);
    expect(validateArguments(result.plan.arguments)).toEqual([]);
    expect(catalog.models.some((m) => m.id === result.plan.model.id)).toBe(true);
  }, 60_000);

  it("holds the LLM's stage 1 to the request rules: what the person leaves out goes to the negative prompt", async () => {
    const catalog = starterCatalog();
    const [built] = await buildBenchEngines(['neural'], catalog, {
      neuralPack: { session: pack.session, head: pack.head, manifest: pack.manifest },
    });
    const result = await runPipeline(built!.engine, {
      messages: ['a castle at dusk, anime style, no people'],
      images: [],
    });
    expect(result.plan.negative_prompt).toMatch(/people/);
    expect(result.plan.prompt).not.toMatch(/people/);
    expect(result.prompt.evidence.request?.negatives).toContain('people');
  }, 60_000);

  // Three items, one per request below: the ten plans of issue 13's check run through the CLI (bench-neural-cli.test.ts).
  it('runs 3 bench items through the bench core with valid plans', async () => {
    const catalog = starterCatalog();
    const items = loadBenchItems(
      Array.from({ length: 3 }, (_, i) =>
        JSON.stringify({
          id: `hub-${i}`,
          input_type: 'single',
          setting: 'supervised',
          messages: [
            `${['a castle at dusk', 'a cat on a windowsill', 'a samurai by the sea'][i % 3]}, anime style, no people`,
          ],
          gold: {
            prompt: 'a castle',
            negative_prompt: '',
            model_id: catalog.models[0]!.id,
            arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512, seed: 1 },
          },
        }),
      ).join('\n'),
      'hub-items.jsonl',
    );
    const engines = await buildBenchEngines(['neural'], catalog, {
      neuralPack: { session: pack.session, head: pack.head, manifest: pack.manifest },
    });
    const result = await runBench({ items, itemsFile: 'hub-items.jsonl', catalog, engines });
    expect(result.predictions).toHaveLength(3);
    expect(result.scores.filter((s) => s.failed)).toHaveLength(0);
  }, 120_000);

  it("names the hub's answer when a repo is gated or a file is missing", async () => {
    hub.configure({ gated: [QWEN] });
    try {
      await expect(
        loadNodePack(qwenPack, { hubUrl, cacheDir: mkdtempSync(path.join(cacheDir, 'gated-')) }),
      ).rejects.toThrow(/refuses onnx-community\/Qwen2.5-0.5B-Instruct: it is gated/);
    } finally {
      hub.configure({ gated: [] });
    }
    await expect(loadNodePack(qwenPack, { hubUrl, cacheDir, dtype: 'q8' })).rejects.toThrow(
      /has no file onnx\/model_quantized.onnx in onnx-community\/Qwen2.5-0.5B-Instruct \(404/,
    );
  }, 60_000);
});

describe('planning mode', () => {
  it('is hybrid without a head, with an untrained head, or one covering under half the catalog', () => {
    const catalog = starterCatalog();
    const ids = catalog.models.map((m) => m.id);
    expect(planningModeFor(null, catalog)).toMatchObject({ mode: 'hybrid', reason: 'the pack has no ModelToken head' });
    expect(planningModeFor(createHead(ids, 4), catalog)).toMatchObject({
      mode: 'hybrid',
      reason: expect.stringContaining('untrained'),
    });
    const few = createHead(ids.slice(0, 3), 4);
    few.weights.fill(0.1);
    expect(planningModeFor(few, catalog)).toMatchObject({
      mode: 'hybrid',
      covered: 3,
      reason: expect.stringContaining(`rows for 3 of the catalog's ${ids.length} models`),
    });
    const all = createHead(ids, 4);
    all.weights.fill(0.1);
    expect(planningModeFor(all, catalog)).toEqual({ mode: 'neural', covered: ids.length, models: ids.length });
  });

  it('passes stage 1 through the request rules it is given', async () => {
    const catalog = starterCatalog();
    const embedded = createDefaultEngine(catalog);
    const hybrid = createHybridEngine({
      llm: embedded,
      embedded,
      llmLabel: 'LLM "test"',
      reason: 'test',
      rules: (_request, candidate) => ({
        ...candidate,
        negative_prompt: [candidate.negative_prompt, 'people'].filter(Boolean).join(', '),
      }),
    });
    const request = {
      input: { messages: ['a castle, no people'], images: [] },
      merged: mergeTurns(['a castle, no people']),
    };
    const written = await hybrid.writePrompt(request);
    expect(written.negative_prompt).toMatch(/people$/);
    expect(written.evidence.notes[0]).toBe('Stage 1 by the LLM "test" (hybrid planning).');
  });
});
