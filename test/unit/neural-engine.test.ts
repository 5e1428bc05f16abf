import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { mergeTurns, type ChatInput } from '../../src/core/chat.ts';
import type { StageRequest } from '../../src/core/engines/engine.ts';
import { createArgumentDecoder, decodeArguments } from '../../src/core/engines/neural/constrained.ts';
import {
  createNeuralEngine,
  llmHiddenStateEncoder,
  modelTokenContext,
  parsePromptReply,
  type NeuralEngine,
} from '../../src/core/engines/neural/index.ts';
import { generateGreedy, type DecodingState, type LlmSession } from '../../src/core/engines/neural/session.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { validateArguments } from '../../src/core/plan.ts';
import { loadNodePack, type NodePack } from '../../src/node/neural.ts';
import { fuzzStage3, randomChats } from '../../scripts/lib/stage3-fuzz.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures');

interface Reference {
  prompts: { input_ids: number[]; greedy_ids: number[] }[];
  q8: { prompts: { input_ids: number[]; greedy_ids: number[] }[] };
}
/**
 * Real chats through the tiny model (about 20 ms each on this 2-core machine); the adversarial-logits test
 * below runs the constraints 1,000 times more. The full 1,000-chat run, with timings, is a script:
 * `npx tsx scripts/fuzz-neural-stage3.ts`.
 */
const CHATS = 60;
const reference = JSON.parse(readFileSync(path.join(fixtures, 'llm-tiny/reference.json'), 'utf8')) as Reference;

function starterCatalog(): Catalog {
  const dir = path.join(root, 'public/models/starter');
  const read = (file: string) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') });
  return loadCatalog({ catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') }, 'starter')
    .catalog;
}

function request(messages: string[], images: ChatInput['images'] = []): StageRequest {
  return { input: { messages, images }, merged: mergeTurns(messages) };
}

describe('neural engine on the tiny fixture (onnxruntime-node)', () => {
  let pack: NodePack;
  let catalog: Catalog;
  let engine: NeuralEngine;
  const streamed: string[] = [];

  beforeAll(async () => {
    pack = await loadNodePack(path.join(fixtures, 'pack-tiny'));
    catalog = starterCatalog();
    engine = createNeuralEngine({
      session: pack.session,
      catalog,
      head: pack.head,
      pack: pack.manifest,
      onPromptText: (t) => streamed.push(t),
    });
  });
  afterAll(async () => {
    await pack.session.dispose();
  });

  it('reproduces the torch greedy tokens through the graph-edited model (fp32) with the key/value cache', async () => {
    for (const p of reference.prompts) {
      const out = await generateGreedy(pack.session, p.input_ids, { maxNewTokens: p.greedy_ids.length });
      const expected = p.greedy_ids.at(-1) === pack.session.eosTokenIds[0] ? p.greedy_ids.slice(0, -1) : p.greedy_ids;
      expect(out.ids).toEqual(expected);
    }
  });

  it('reproduces the torch int8 fake-quant tokens with the project-quantised q8 model', async () => {
    const q8 = await loadNodePack(path.join(fixtures, 'pack-tiny'), { dtype: 'q8' });
    try {
      expect(q8.session.dtype).toBe('q8');
      for (const p of reference.q8.prompts) {
        const out = await generateGreedy(q8.session, p.input_ids, { maxNewTokens: p.greedy_ids.length });
        const expected = p.greedy_ids.at(-1) === q8.session.eosTokenIds[0] ? p.greedy_ids.slice(0, -1) : p.greedy_ids;
        expect(out.ids).toEqual(expected);
      }
    } finally {
      await q8.session.dispose();
    }
  });

  it('runs the three stages: streamed prompt, ModelToken top-5 with the model mass, valid arguments', async () => {
    streamed.length = 0;
    const result = await runPipeline(
      engine,
      { messages: ['a red fox in the snow, watercolor'], images: [] },
      { seed: 42 },
    );
    expect(result.plan.prompt.length).toBeGreaterThan(0);
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.at(-1)!.startsWith(streamed[0]!)).toBe(true);
    const { candidates, competing, notes } = result.model.evidence;
    expect(candidates).toHaveLength(5);
    expect(competing).toBe(catalog.models.length);
    expect(candidates.reduce((s, c) => s + c.score, 0)).toBeCloseTo(1, 5);
    expect(candidates[0]!.model_id).toBe(result.plan.model.id);
    expect(notes[0]).toMatch(/model tokens took \d+(\.\d)?% of the next-token probability/);
    expect(validateArguments(result.plan.arguments)).toEqual([]);
    expect(result.plan.arguments.seed).toBe(42);
    expect(result.arguments.evidence.demonstrations.every((d) => d.model_id === result.plan.model.id)).toBe(true);
  });

  it('selects a planted ModelToken row, and only allowed models compete', async () => {
    const req = request(['a lighthouse at dusk']);
    const prompt = await engine.writePrompt(req);
    const { h } = await llmHiddenStateEncoder(pack.session).encode(
      modelTokenContext(pack.session, pack.manifest, req.merged.text, prompt.prompt, prompt.negative_prompt),
    );
    const packHead = pack.head!;
    const planted = { ...packHead, weights: packHead.weights.slice() };
    const row = 17;
    for (let k = 0; k < h.length; k++) planted.weights[row * planted.dim + k] = h[k]! * 0.5;
    const plantedEngine = createNeuralEngine({ session: pack.session, catalog, head: planted, pack: pack.manifest });
    const chosen = await plantedEngine.selectModel(req, prompt, {});
    expect(chosen.model.id).toBe(planted.modelIds[row]);
    const allowed = new Set(planted.modelIds.filter((_, r) => r !== row).slice(0, 8));
    const restricted = await plantedEngine.selectModel(req, prompt, { allowedModelIds: allowed });
    expect(restricted.evidence.competing).toBe(8);
    expect(allowed.has(restricted.model.id)).toBe(true);
    expect(restricted.evidence.candidates.every((c) => allowed.has(c.model_id))).toBe(true);
  });

  it('says when a reference image was not used by a text-only pack', async () => {
    const prompt = {
      prompt: 'a cat',
      negative_prompt: '',
      evidence: { neighbours: [], kept_terms: [], added_terms: [], notes: [] },
    };
    const result = await engine.selectModel(
      request(['a cat like this'], [{ source: 'data:image/png;base64,AAAA' }]),
      prompt,
      {},
    );
    expect(result.evidence.notes.join(' ')).toMatch(/reference image was not used/);
  });

  it(`stage 3 yields valid arguments for ${CHATS} random chats`, async () => {
    const { failures } = await fuzzStage3({
      engine,
      models: catalog.models,
      chats: randomChats(CHATS, 99),
      maxDemonstrations: pack.manifest.demonstrations.arguments,
    });
    expect(failures).toEqual([]);
  });
});

describe('constrained argument decoding under adversarial logits', () => {
  /** A session whose logits are seeded noise (with spikes on random tokens): the worst case for the constraints. */
  function noiseSession(seed: number, vocabSize: number, encode: (t: string) => number[]): LlmSession {
    let s = seed;
    const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
    return {
      vocabSize,
      hiddenSize: 4,
      eosTokenIds: [vocabSize - 1],
      maxContextTokens: 4096,
      device: 'test',
      dtype: 'none',
      encode,
      decode: () => '',
      applyChatTemplate: () => '',
      begin(): DecodingState {
        let length = 0;
        return {
          get length() {
            return length;
          },
          async feed(ids) {
            length += ids.length;
            const logits = Float32Array.from({ length: vocabSize }, () => (random() - 0.5) * 20);
            for (let k = 0; k < 5; k++) logits[Math.floor(random() * vocabSize)] = 50;
            return { logits, hidden: null };
          },
          dispose() {},
        };
      },
    };
  }

  it('always gives a parseable object with a known sampler and numbers in range (1,000 runs)', async () => {
    const tokenizer = JSON.parse(readFileSync(path.join(fixtures, 'llm-tiny/tokenizer.json'), 'utf8')) as {
      model: { vocab: Record<string, number> };
    };
    // A character-level encoding over the fixture's vocabulary is enough to exercise multi-token values.
    const vocab = tokenizer.model.vocab;
    const encode = (text: string) => Array.from(text.replaceAll(' ', 'Ġ'), (ch) => vocab[ch] ?? 0);
    const decoder = createArgumentDecoder({ encode });
    for (let run = 0; run < 1000; run++) {
      const session = noiseSession(run + 1, 692, encode);
      const decoded = await decodeArguments(session, decoder, [1, 2, 3]);
      expect(() => JSON.parse(decoded.text)).not.toThrow();
      expect(validateArguments({ ...decoded.arguments, seed: 0 })).toEqual([]);
    }
  });

  it('parses the stage 1 reply format', () => {
    expect(parsePromptReply('Prompt: a fox, snow\nNegative prompt: blurry, text\nArguments: {}')).toEqual({
      prompt: 'a fox, snow',
      negative: 'blurry, text',
    });
    expect(parsePromptReply('Prompt: only a prompt')).toEqual({ prompt: 'only a prompt', negative: '' });
  });
});
