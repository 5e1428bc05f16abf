import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSafePackPath, parseScorerManifest, ScorerManifestError } from '../../src/core/scoring/manifest.ts';

const clipJson = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, '../fixtures/scorers/fixture-clip/scorer.json'), 'utf8'),
) as Record<string, unknown>;

function problems(json: unknown): string[] {
  try {
    parseScorerManifest(json, 'test');
  } catch (error) {
    expect(error).toBeInstanceOf(ScorerManifestError);
    return (error as ScorerManifestError).problems;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('parseScorerManifest', () => {
  it('reads the fixture packs, with kind defaults for the score settings', () => {
    const clip = parseScorerManifest(clipJson);
    expect(clip).toMatchObject({
      id: 'fixture-clip',
      kind: 'clip',
      dim: 16,
      tokenizer: { maxLength: 16, padId: 1, firstTokenId: null },
    });
    expect(clip.preprocessing).toEqual({
      size: 32,
      resize: 'shortest-edge',
      filter: 'bicubic',
      crop: 'center',
      mean: expect.any(Array),
      std: expect.any(Array),
    });
    const { score: _, ...withoutScore } = clipJson;
    expect(parseScorerManifest(withoutScore).score).toEqual({ scale: 100, clampMin: 0 });
    for (const id of ['fixture-hpsv2', 'fixture-imagereward', 'fixture-aesthetic', 'fixture-fid']) {
      const json: unknown = JSON.parse(
        readFileSync(path.resolve(import.meta.dirname, `../fixtures/scorers/${id}/scorer.json`), 'utf8'),
      );
      expect(parseScorerManifest(json).id).toBe(id);
    }
  });

  it('lists every problem with its JSON path', () => {
    const found = problems({
      ...clipJson,
      format: 'other',
      kind: 'clip',
      files: { vision_model: '../../etc/passwd', text_model: 'text_model.onnx' },
      preprocessing: { size: 0, resize: 'fit', filter: 'lanczos', crop: 'center', mean: [0, 0], std: [1, 0, 1] },
      tokenizer: { max_length: 1, pad_id: -1 },
    });
    expect(found).toEqual([
      'format: expected "chatgen-scorer-pack", got "other"',
      'files.vision_model: expected a relative file name inside the pack, got "../../etc/passwd"',
      'files.tokenizer: a clip pack needs this file',
      'preprocessing.size: expected an integer in 1..4096, got 0',
      'preprocessing.resize: expected "shortest-edge" or "exact", got "fit"',
      'preprocessing.filter: expected "bicubic" or "bilinear", got "lanczos"',
      'preprocessing.mean: expected 3 numbers (R, G, B), got [0,0]',
      'preprocessing.std: expected 3 positive numbers (R, G, B), got [1,0,1]',
      'tokenizer.max_length: expected an integer >= 2, got 1',
      'tokenizer.pad_id: expected a token id, got -1',
    ]);
  });

  it('rejects unknown kinds, missing kind-specific fields and non-objects', () => {
    expect(problems({ ...clipJson, kind: 'dalle' })).toContain(
      'kind: expected one of clip, hpsv2, imagereward, aesthetic, fid-features, got "dalle"',
    );
    const ir = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, '../fixtures/scorers/fixture-imagereward/scorer.json'), 'utf8'),
    ) as Record<string, unknown>;
    expect(problems({ ...ir, reward: { mean: 0, std: 0 }, tokenizer: { max_length: 35, pad_id: 0 } })).toEqual([
      "tokenizer.first_token_id: ImageReward needs BLIP's [ENC] token id",
      'reward: ImageReward needs { "mean": number, "std": number > 0 } (0.16717362830052426 and 1.0333394966054072 for THUDM/ImageReward)',
    ]);
    expect(
      problems({
        ...clipJson,
        kind: 'fid-features',
        files: { feature_model: 'f.onnx' },
        preprocessing: { ...(clipJson.preprocessing as object), crop: 'none' },
      }),
    ).toEqual([
      'preprocessing.crop: "none" needs resize "exact" (a shortest-edge resize is not square)',
      'dims.features: expected a positive integer, got undefined',
      'score: only clip and hpsv2 packs take score settings, not fid-features',
    ]);
    expect(() => parseScorerManifest([1, 2])).toThrow(
      /invalid scorer pack manifest.*\n- the manifest is not a JSON object/,
    );
  });

  it('accepts only relative paths inside the pack', () => {
    for (const ok of ['model.onnx', 'onnx/model.onnx']) expect(isSafePackPath(ok)).toBe(true);
    for (const bad of [
      '',
      '/abs.onnx',
      'C:/x.onnx',
      'a\\b.onnx',
      '../x',
      'a/../b',
      './a',
      'https://example.com/x.onnx',
    ]) {
      expect(isSafePackPath(bad)).toBe(false);
    }
  });
});
