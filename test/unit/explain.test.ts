/**
 * Plain-language explanations: every kind of evidence the engines return becomes a sentence, and no
 * internal identifier (argument origins, reranker feature names or labels with their numbers) leaks.
 */
import { parseRequest } from '../../src/core/request/parse.ts';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { createBaselineEngine } from '../../src/core/engines/baseline.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { RERANK_FEATURES } from '../../src/core/engines/default/select.ts';
import type { ArgumentOrigin, ModelCandidate } from '../../src/core/engines/engine.ts';
import {
  explainCandidate,
  explainPlan,
  explainPrompt,
  explainReason,
  explainSource,
  GLOSSARY,
  markPrompt,
} from '../../src/core/explain.ts';
import { runPipeline } from '../../src/core/pipeline.ts';

const starterDir = fileURLToPath(new URL('../../public/models/starter/', import.meta.url));
const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(starterDir + 'catalog.jsonl', 'utf8') },
    demonstrations: { file: 'demonstrations.jsonl', text: readFileSync(starterDir + 'demonstrations.jsonl', 'utf8') },
  },
  'starter',
);

const ORIGINS: ArgumentOrigin[] = [
  'nearest-demonstration',
  'model-habit',
  'base-model-prior',
  'request-shape',
  'default',
  'seed',
  'model-output',
];
/** Words only the code uses: none may appear in an explanation. */
const INTERNAL = [...ORIGINS, ...RERANK_FEATURES.filter((f) => f.length > 5), 'BM25', 'softmax', 'logit', 'W_m'];
const NUMBERED_REASON = /\(\s*[+-]\d+\.\d+\)/;

function expectPlain(text: string): void {
  expect(text.trim().length).toBeGreaterThan(0);
  for (const word of INTERNAL) expect(text, `"${word}" leaked into: ${text}`).not.toContain(word);
  expect(text).not.toMatch(NUMBERED_REASON);
}

const REQUESTS = [
  'an oil painting of a mountain landscape at sunset',
  'anime girl with silver hair in a neon city at night',
  'photo of a red sports car on a wet street',
  'pixel art castle',
  'a cozy cabin',
];

describe('explanations of real plans', () => {
  for (const [name, build] of [
    ['default', createDefaultEngine],
    ['baseline', createBaselineEngine],
  ] as const) {
    it(`${name} engine: one or two plain sentences per stage, every candidate reason in words`, async () => {
      const engine = build(catalog);
      for (const message of REQUESTS) {
        const result = await runPipeline(engine, { messages: [message], images: [] });
        const ex = explainPlan(result);
        for (const stage of [ex.prompt, ex.model, ex.arguments]) {
          expectPlain(stage);
          const sentences = stage.split(/(?<=[.!?])\s+(?=[A-Z“])/).length;
          expect(sentences, stage).toBeLessThanOrEqual(3);
        }
        for (const s of Object.values(ex.sources)) expectPlain(s);
        expect(ex.candidates).toHaveLength(result.model.evidence.candidates.length);
        for (const c of result.model.evidence.candidates) {
          // Every reason the engine gives is understood (a new reranker label would fail here).
          for (const reason of c.reasons)
            if (!reason.startsWith('logit')) expect(explainReason(reason), reason).not.toBeNull();
        }
        for (const c of ex.candidates) {
          expect(c.reasons.length).toBeGreaterThan(0);
          for (const r of c.reasons) expectPlain(r);
        }
      }
    });
  }

  it('names the kept words and the example prompts that match them', async () => {
    const result = await runPipeline(createDefaultEngine(catalog), {
      messages: ['an oil painting of a mountain landscape at sunset'],
      images: [],
    });
    const ex = explainPlan(result);
    expect(ex.prompt).toMatch(/The prompt keeps your (words|phrases) .*“[^”]*landscape[^”]*”/);
    expect(ex.model).toContain(result.plan.model.name);
    expect(ex.model).toMatch(/example prompts match .*“painting”/);
    expect(ex.model).toMatch(/The next best, .+, got (under )?\d+% of the vote/);
  });

  it('puts the "reference image not used" note up front', async () => {
    const image = { source: 'data:image/png;base64,iVBORw0KGgo=', mime: 'image/png' };
    const result = await runPipeline(createDefaultEngine(catalog), {
      messages: ['a cat like this one'],
      images: [image],
    });
    expect(explainPlan(result).notices.join(' ')).toMatch(/image was not used/);
  });
});

describe('each evidence kind becomes a sentence', () => {
  it('every argument origin', () => {
    for (const origin of ORIGINS) {
      const text = explainSource({ origin, detail: 'internal detail' });
      expectPlain(text);
      // Only the shape's reason is the engine's own prose; other details carry counts and are read, not echoed.
      if (origin !== 'request-shape') expect(text).not.toContain('internal detail');
    }
    expect(explainSource({ origin: 'model-habit', detail: "used in 3 of the model's 5 demonstrations" })).toContain(
      '3 of its 5 examples',
    );
    expect(
      explainSource({
        origin: 'base-model-prior',
        detail: 'most common for SDXL 1.0 Checkpoint models across the catalog (41% of their demonstrations)',
      }),
    ).toContain('41%');
  });

  it('every reranker signal, helping and counting against', () => {
    const labels = [
      'catalog entry match',
      'best demonstration match',
      'two best demonstrations',
      'name / trigger words mentioned',
      'popularity',
      'is a LoRA',
      'number of demonstrations',
      'share of the request the entry covers',
      'name match',
      'tag match',
      'trigger word match',
      'description match',
      'share of the nearest demonstrations',
      'SD 1.5 base',
      'a LoRA whose name / trigger words are mentioned',
      'a LoRA whose tags match',
      'a checkpoint whose entry matches',
    ];
    expect(labels).toHaveLength(RERANK_FEATURES.length);
    for (const label of labels) {
      const up = explainReason(`${label} 0.50 (+1.20)`);
      const down = explainReason(`${label} 0.50 (-1.20)`);
      expect(up?.helped).toBe(true);
      expect(down?.helped).toBe(false);
      expectPlain(up!.text);
      expectPlain(down!.text);
    }
  });

  it('the baseline and neural reasons, and a candidate puts what helped first', () => {
    expect(explainReason('1,234 downloads')?.text).toContain('most downloaded');
    expect(explainReason('P(model token) = 0.412 in the joint softmax')?.text).toBe(
      'the language model gave it 41% of its vote',
    );
    const candidate: ModelCandidate = {
      model_id: 1,
      name: 'X',
      type: 'LORA',
      base_model: 'SD 1.5',
      score: 0.5,
      reasons: ['is a LoRA 1.00 (-0.80)', 'tag match 0.90 (+1.10)'],
    };
    expect(explainCandidate(candidate).reasons).toEqual([
      'its tags match your words',
      'against it: it is a LoRA, which only suits a specific request',
    ]);
  });

  it('the glossary defines every term the issue lists', () => {
    const terms = GLOSSARY.map((g) => g.term.toLowerCase());
    for (const t of [
      'sampler',
      'steps',
      'cfg scale',
      'size',
      'seed',
      'checkpoint',
      'lora',
      'trigger word',
      'negative prompt',
    ])
      expect(terms).toContain(t);
  });
});

describe('the prompt with the person’s words and the added terms apart', () => {
  it('marks kept words and added phrases; everything else stays plain and the text is unchanged', () => {
    const prompt = 'oil painting mountain landscape sunset, a painting by mse, masterpiece';
    const segments = markPrompt(prompt, {
      kept_terms: ['oil', 'painting', 'mountain', 'landscape', 'sunset'],
      added_terms: [
        { term: 'a painting by mse', from: 'neighbours' },
        { term: 'masterpiece', from: 'neighbours' },
      ],
    });
    expect(segments.map((s) => s.text).join('')).toBe(prompt);
    expect(segments.filter((s) => s.kind === 'added').map((s) => s.text)).toEqual(['a painting by mse', 'masterpiece']);
    expect(segments.filter((s) => s.kind === 'yours').map((s) => s.text)).toEqual([
      'oil',
      'painting',
      'mountain',
      'landscape',
      'sunset',
    ]);
  });
});

/** The prompt explanation of a request as parsed, with the parsed phrases as the prompt and no neighbours. */
const explainParsed = (request: ReturnType<typeof parseRequest>) =>
  explainPrompt({
    prompt: request.phrases.join(', '),
    negative_prompt: '',
    evidence: { neighbours: [], kept_terms: [], added_terms: [], notes: [], request },
  });

describe('the person’s request as the engine parsed it', () => {
  it('phrases, what was left out and what a later turn replaced each become a sentence', () => {
    const text = explainPrompt({
      prompt: 'castle on a hill, night, pixel art',
      negative_prompt: 'people, lowres',
      evidence: {
        neighbours: [],
        kept_terms: ['castle', 'hill', 'night', 'pixel', 'art'],
        added_terms: [],
        notes: [],
        request: {
          phrases: ['castle on a hill', 'night', 'pixel art'],
          negatives: ['people'],
          replacements: [{ turn: 1, removed: ['noon'], terms: ['noon'], by: 'night', rule: 'time of day' }],
        },
      },
    });
    expect(text).toContain('The prompt keeps your phrases “castle on a hill”, “night” and “pixel art”.');
    expect(text).toContain('You asked to leave out “people”, so it goes in the negative prompt.');
    expect(text).toContain('Message 2 replaced “noon” with “night” (a picture has one time of day).');
    expectPlain(text);
  });

  it('a model named to use and a format are said to go elsewhere than the prompt', () => {
    const request = parseRequest(['use the Zephyrine checkpoint for a lighthouse at dusk, 16:9']);
    const text = explainPrompt({
      prompt: request.phrases.join(', '),
      negative_prompt: '',
      evidence: { neighbours: [], kept_terms: [], added_terms: [], notes: [], request },
    });
    expect(text).toContain('“Zephyrine checkpoint” says which model to use, so it picks the model, not the picture.');
    expect(text).toContain('“16:9” sets the picture’s size, so it is not in the prompt.');
    expectPlain(text);
  });

  it('a new subject, place, quality or number from a later turn is said as such', () => {
    const parsed = parseRequest([
      'five ducks on a frozen pond, no reeds',
      'make it two ducks',
      'on a river instead',
      'make the river wide',
      'add reeds',
    ]);
    const text = explainParsed(parsed);
    expect(text).toContain('Message 2 replaced “five ducks” with “two ducks” (you gave the duck a new number).');
    expect(text).toContain('Message 3 replaced “frozen pond” with “river” (you named a new place).');
    expect(text).toContain('Message 4 added “wide river” (you gave the river a new quality).');
    const subject = parseRequest(['a hedgehog in a teacup', 'make it tiny', 'make it orange']);
    const said = explainParsed(subject);
    expect(said).toContain('Message 2 added “tiny” (you gave the main subject a new quality).');
    expect(said).toContain('Message 3 added “orange” (you gave the main subject a new colour).');
    expect(text).toContain('Message 5 replaced “no reeds” with “reeds” (you asked for it again).');
    expectPlain(text);
  });

  it('a size from the request’s shape is said in the engine’s words, quotes made typographic', () => {
    const text = explainSource({
      origin: 'request-shape',
      detail: '"tall" asks for a portrait picture: 832×1216, a native SDXL 1.0 size (about one megapixel)',
    });
    expect(text).toBe('“tall” asks for a portrait picture: 832×1216, a native SDXL 1.0 size (about one megapixel)');
  });

  it('real plans of requests with negation, replacement and shape stay plain', async () => {
    const engine = createDefaultEngine(catalog);
    for (const messages of [
      ['a tall portrait of a knight, no helmet'],
      ['a castle at noon', 'make it night instead'],
      ['a wide panorama of a desert, without people'],
    ]) {
      const ex = explainPlan(await runPipeline(engine, { messages, images: [] }));
      for (const s of [ex.prompt, ex.model, ex.arguments, ...Object.values(ex.sources)]) expectPlain(s);
    }
  });
});

describe('marking the person’s phrases', () => {
  it('a phrase of the request is one mark, small words included', () => {
    const prompt = 'oil painting of a lake at dusk, masterpiece';
    const segments = markPrompt(prompt, {
      kept_terms: ['oil', 'painting', 'lake', 'dusk'],
      added_terms: [{ term: 'masterpiece', from: 'generic quality terms' }],
      request: { phrases: ['oil painting of a lake at dusk'], negatives: [], replacements: [] },
    });
    expect(segments).toEqual([
      { text: 'oil painting of a lake at dusk', kind: 'yours' },
      { text: ', ', kind: 'plain' },
      { text: 'masterpiece', kind: 'added' },
    ]);
  });
});
