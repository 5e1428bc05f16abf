import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fid, featureSetFromRows } from '../../src/core/metrics/fid.ts';
import type { RgbaImage } from '../../src/core/scoring/image.ts';
import type { ScorerPack } from '../../src/core/scoring/scorers.ts';
import { openFolderPack, readImageFile } from '../../scripts/lib/score-node.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
interface Reference {
  images: string[];
  prompts: string[];
  packs: Record<
    string,
    { scores?: number[][] | number[]; features?: number[][]; image_embeds?: number[][]; text_embeds?: number[][] }
  >;
}
const reference = JSON.parse(readFileSync(path.join(fixtures, 'scorers/reference.json'), 'utf8')) as Reference;

/** Every (image, prompt) pair in image-major order, as the reference's score matrices are laid out. */
function pairs(images: RgbaImage[]): { image: RgbaImage; prompt: string }[] {
  return images.flatMap((image) => reference.prompts.map((prompt) => ({ image, prompt })));
}

function expectClose(actual: ArrayLike<number>, expected: number[], tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  const worst = Math.max(...expected.map((e, i) => Math.abs(e - actual[i]!)));
  expect(worst).toBeLessThan(tolerance);
}

describe('scorer packs on onnxruntime-node reproduce the torch references', () => {
  let images: RgbaImage[] = [];
  const packs = new Map<string, ScorerPack>();
  beforeAll(async () => {
    images = await Promise.all(reference.images.map((name) => readImageFile(path.join(fixtures, 'images', name))));
    for (const id of Object.keys(reference.packs))
      packs.set(id, await openFolderPack(path.join(fixtures, 'scorers', id)));
  });
  afterAll(async () => {
    for (const pack of packs.values()) await pack.unload();
  });

  for (const id of ['fixture-clip', 'fixture-hpsv2']) {
    it(`${id}: embeddings and 100·cos scores`, async () => {
      const pack = packs.get(id)!;
      const expected = reference.packs[id]!;
      const imageRows = await pack.imageEmbeddings(images);
      imageRows.forEach((row, i) => expectClose(row, expected.image_embeds![i]!, 1e-4));
      const textRows = await pack.textEmbeddings(reference.prompts);
      textRows.forEach((row, i) => expectClose(row, expected.text_embeds![i]!, 1e-4));
      expectClose(await pack.score(pairs(images)), (expected.scores as number[][]).flat(), 1e-3);
    });
  }

  it('fixture-clip clamps negative similarity at 0; fixture-hpsv2 does not clamp', async () => {
    const clip = await packs.get('fixture-clip')!.score(pairs(images));
    expect(clip.filter((s) => s === 0).length).toBeGreaterThan(0);
    expect(clip.every((s) => s >= 0)).toBe(true);
    const hps = await packs.get('fixture-hpsv2')!.score(pairs(images));
    expect(hps.some((s) => s < 0)).toBe(true);
  });

  it('fixture-imagereward: BLIP-style reward, normalised by the ImageReward mean/std', async () => {
    const scores = await packs.get('fixture-imagereward')!.score(pairs(images));
    expectClose(scores, (reference.packs['fixture-imagereward']!.scores as number[][]).flat(), 1e-4);
  });

  it('fixture-aesthetic: LAION MLP over normalised CLIP image embeddings', async () => {
    const scores = await packs.get('fixture-aesthetic')!.score(images.map((image) => ({ image })));
    expectClose(scores, reference.packs['fixture-aesthetic']!.scores as number[], 1e-5);
  });

  it('fixture-fid: pooled features, and an FID between two halves of them', async () => {
    const rows = await packs.get('fixture-fid')!.features(images);
    rows.forEach((row, i) => expectClose(row, reference.packs['fixture-fid']!.features![i]!, 1e-5));
    const result = fid(featureSetFromRows(rows.slice(0, 2)), featureSetFromRows(rows.slice(2)));
    expect(Number.isFinite(result.distance)).toBe(true);
    expect(result.meaningful).toBe(false);
  });

  it('says what a prompt-less item or a wrong-kind call needs', async () => {
    await expect(packs.get('fixture-clip')!.score([{ image: images[0]! }])).rejects.toThrow(
      /clip needs a prompt for every image; item 0/,
    );
    await expect(packs.get('fixture-fid')!.score([{ image: images[0]! }])).rejects.toThrow(
      /FID features, not per-image scores/,
    );
    await expect(packs.get('fixture-aesthetic')!.textEmbeddings(['x'])).rejects.toThrow(
      /aesthetic pack; this needs clip or hpsv2/,
    );
  });
});
