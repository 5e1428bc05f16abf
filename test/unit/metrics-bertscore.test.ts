import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBertEmbedder } from '../../src/core/metrics/bert-embedder.ts';
import {
  bertScore,
  BertScorer,
  idfFromReferences,
  type TokenEmbedder,
  type TokenEmbeddings,
} from '../../src/core/metrics/bertscore.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');

interface ReferencePair {
  candidate: string;
  reference: string;
  candidate_ids: number[];
  reference_ids: number[];
  candidate_embeddings: number[][];
  reference_embeddings: number[][];
  bertscore: { precision: number; recall: number; f1: number };
  bertscore_idf: { precision: number; recall: number; f1: number };
}
// Written by scripts/fixtures/build_bert_fixture.py from the torch model the ONNX file was exported from.
const reference = JSON.parse(readFileSync(path.join(fixtures, 'bert-tiny.reference.json'), 'utf8')) as {
  pairs: ReferencePair[];
};

const tokens = (vectors: number[][], special: boolean[] = vectors.map(() => false)): TokenEmbeddings => ({
  ids: vectors.map((_, i) => i),
  vectors: vectors.map((v) => Float32Array.from(v)),
  special,
});

describe('bertScore on hand-made embeddings', () => {
  it('is 1 for identical texts and follows greedy matching otherwise', () => {
    const a = tokens([
      [1, 0],
      [0, 1],
    ]);
    expect(bertScore(a, a).f1).toBeCloseTo(1, 12);
    // Candidate token [1,0] matches reference [1,0] (1); [0,1] best matches [1,1]/√2 (0.7071).
    const c = tokens([
      [1, 0],
      [0, 1],
    ]);
    const r = tokens([
      [1, 0],
      [1, 1],
      [-1, 0],
    ]);
    const s = bertScore(c, r);
    expect(s.precision).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(s.recall).toBeCloseTo((1 + Math.SQRT1_2 + 0) / 3, 12);
    expect(s.f1).toBeCloseTo((2 * s.precision * s.recall) / (s.precision + s.recall), 12);
  });
  it('lets special tokens be matched but gives them no weight', () => {
    const c = tokens(
      [
        [0, 1],
        [1, 0],
      ],
      [true, false],
    );
    const r = tokens(
      [
        [0, 1],
        [0.6, 0.8],
      ],
      [true, false],
    );
    const s = bertScore(c, r);
    expect(s.precision).toBeCloseTo(0.6, 6);
    expect(s.recall).toBeCloseTo(0.8, 6); // reference [0.6,0.8] best matches the candidate's special [0,1]
  });
  it('scores 0 when a text has only special tokens (an empty prompt)', () => {
    const empty = tokens(
      [
        [1, 0],
        [0, 1],
      ],
      [true, true],
    );
    expect(bertScore(empty, tokens([[1, 0]]))).toEqual({ precision: 0, recall: 0, f1: 0 });
  });
  it('computes idf as log((M+1)/(df+1)) over the references', () => {
    const idf = idfFromReferences([
      [5, 6, 6],
      [6, 7],
    ]);
    expect(idf(6)).toBeCloseTo(Math.log(3 / 3), 12);
    expect(idf(5)).toBeCloseTo(Math.log(3 / 2), 12);
    expect(idf(99)).toBeCloseTo(Math.log(3), 12);
  });
});

describe('BERTScore with the tiny BERT fixture in transformers.js', () => {
  let embedder: TokenEmbedder;
  beforeAll(async () => {
    embedder = await loadBertEmbedder({ localModelPath: fixtures, modelId: 'bert-tiny', device: 'cpu' });
  });

  it('tokenises like the reference WordPiece and reproduces the torch embeddings', async () => {
    for (const pair of reference.pairs) {
      for (const [text, ids, expected] of [
        [pair.candidate, pair.candidate_ids, pair.candidate_embeddings],
        [pair.reference, pair.reference_ids, pair.reference_embeddings],
      ] as const) {
        const e = await embedder.embed(text);
        expect(e.ids).toEqual(ids);
        expect(e.special[0]).toBe(true);
        expect(e.special.at(-1)).toBe(true);
        expect(e.special.slice(1, -1).every((s) => !s)).toBe(true);
        e.vectors.forEach((v, t) => v.forEach((x, k) => expect(Math.abs(x - expected[t]![k]!)).toBeLessThan(1e-4)));
      }
    }
  });

  it('reproduces the reference BERTScore with and without idf', async () => {
    const refs = reference.pairs.map((p) => p.reference);
    for (const [idf, key] of [
      [false, 'bertscore'],
      [true, 'bertscore_idf'],
    ] as const) {
      const scorer = await BertScorer.create(embedder, refs, { idf });
      for (const pair of reference.pairs) {
        const s = await scorer.score(pair.candidate, pair.reference);
        expect(s.precision).toBeCloseTo(pair[key].precision, 4);
        expect(s.recall).toBeCloseTo(pair[key].recall, 4);
        expect(s.f1).toBeCloseTo(pair[key].f1, 4);
      }
    }
  });

  it('names the folder when the model is missing', async () => {
    await expect(
      loadBertEmbedder({ localModelPath: fixtures, modelId: 'no-such-model', device: 'cpu' }),
    ).rejects.toThrow(/no-such-model.*config\.json, tokenizer\.json and onnx\/model\.onnx/);
  });
});
