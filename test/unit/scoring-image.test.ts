import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { preprocessImage, resizedSize, type RgbaImage } from '../../src/core/scoring/image.ts';
import { parseScorerManifest } from '../../src/core/scoring/manifest.ts';
import { decodePng, PngFormatError } from '../../src/core/png.ts';
import { PromptTokenizer } from '../../src/core/scoring/tokens.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');
const reference = JSON.parse(readFileSync(path.join(fixtures, 'scorers/reference.json'), 'utf8')) as {
  images: string[];
  prompts: string[];
  packs: Record<
    string,
    { pixel_values_sum?: number[]; pixel_values_head?: number[][]; token_ids?: number[][]; attention_mask?: number[][] }
  >;
};
const manifest = (id: string) =>
  parseScorerManifest(JSON.parse(readFileSync(path.join(fixtures, 'scorers', id, 'scorer.json'), 'utf8')));

async function sharpRgba(bytes: Uint8Array): Promise<RgbaImage> {
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data) };
}

describe('decodePng', () => {
  it('decodes the fixture PNGs (all five row filters, RGB and RGBA) exactly as sharp does', async () => {
    for (const name of reference.images) {
      const bytes = new Uint8Array(readFileSync(path.join(fixtures, 'images', name)));
      const ours = await decodePng(bytes, name);
      const theirs = await sharpRgba(bytes);
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
      expect(Buffer.from(ours.data).equals(Buffer.from(theirs.data))).toBe(true);
    }
  });

  it('decodes grey, grey+alpha, palette and 16-bit PNGs written by sharp', async () => {
    const width = 13;
    const height = 7;
    const rgb = Buffer.alloc(width * height * 3);
    for (let i = 0; i < rgb.length; i++) rgb[i] = (i * 37) % 256;
    const raw = { raw: { width, height, channels: 3 as const } };
    const variants = [
      sharp(rgb, raw).greyscale().png(),
      sharp(rgb, raw).greyscale().ensureAlpha(0.5).png(),
      sharp(rgb, raw).png({ palette: true, colours: 16, dither: 0 }),
      sharp(rgb, raw).toColourspace('rgb16').png(),
    ];
    for (const variant of variants) {
      const bytes = new Uint8Array(await variant.toBuffer());
      const ours = await decodePng(bytes);
      const theirs = await sharpRgba(bytes);
      const worst = Math.max(...Array.from(ours.data, (v, i) => Math.abs(v - theirs.data[i]!)));
      expect(worst).toBeLessThanOrEqual(1); // 16-bit: we keep the high byte, sharp rounds
    }
  });

  it('gives specific errors for non-PNG, interlaced and truncated files', async () => {
    await expect(decodePng(new Uint8Array([1, 2, 3]), 'x.png')).rejects.toThrow(/x.png: not a PNG file/);
    const interlaced = new Uint8Array(
      await sharp(Buffer.alloc(48, 9), { raw: { width: 4, height: 4, channels: 3 } })
        .png({ progressive: true })
        .toBuffer(),
    );
    await expect(decodePng(interlaced)).rejects.toThrow(/interlaced \(Adam7\)/);
    const bytes = new Uint8Array(readFileSync(path.join(fixtures, 'images', reference.images[0]!)));
    await expect(decodePng(bytes.subarray(0, 60))).rejects.toThrow(PngFormatError);
  });
});

describe('preprocessImage', () => {
  it('sizes: shortest edge with the long side truncated, or exact', () => {
    const spec = manifest('fixture-clip').preprocessing;
    expect(resizedSize(48, 40, spec)).toEqual({ width: 38, height: 32 });
    expect(resizedSize(37, 29, spec)).toEqual({ width: 40, height: 32 });
    expect(resizedSize(37, 29, manifest('fixture-fid').preprocessing)).toEqual({ width: 32, height: 32 });
  });

  it('reproduces the numpy preprocessing of the fixture builder for every pack and image', async () => {
    for (const id of ['fixture-clip', 'fixture-hpsv2', 'fixture-imagereward']) {
      const spec = manifest(id).preprocessing;
      for (const [i, name] of reference.images.entries()) {
        const image = await decodePng(new Uint8Array(readFileSync(path.join(fixtures, 'images', name))));
        const pixels = preprocessImage(image, spec);
        expect(pixels.length).toBe(3 * spec.size * spec.size);
        const sum = pixels.reduce((s, v) => s + v, 0);
        expect(sum).toBeCloseTo(reference.packs[id]!.pixel_values_sum![i]!, 1);
        const head = reference.packs[id]!.pixel_values_head?.[i];
        if (head) head.forEach((v, k) => expect(pixels[k]).toBeCloseTo(v, 5));
      }
    }
  });

  it('rejects pixel buffers that do not match the size', () => {
    expect(() =>
      preprocessImage({ width: 2, height: 2, data: new Uint8Array(12) }, manifest('fixture-clip').preprocessing),
    ).toThrow(/12 bytes of pixels for 2×2 RGBA \(expected 16\)/);
  });
});

describe('PromptTokenizer', () => {
  it("gives the fixture builder's ids for CLIP (word-level) and BLIP (WordPiece, [ENC] first) tokenizers", () => {
    for (const id of ['fixture-clip', 'fixture-imagereward']) {
      const m = manifest(id);
      const tokenizer = new PromptTokenizer(
        JSON.parse(readFileSync(path.join(fixtures, 'scorers', id, 'tokenizer.json'), 'utf8')),
        m.tokenizer!,
      );
      const encoded = reference.prompts.map((p) => tokenizer.encode(p));
      expect(encoded.map((e) => e.ids)).toEqual(reference.packs[id]!.token_ids);
      if (reference.packs[id]!.attention_mask)
        expect(encoded.map((e) => e.mask)).toEqual(reference.packs[id]!.attention_mask);
    }
  });

  it('truncates long prompts keeping the end token', () => {
    const m = manifest('fixture-clip');
    const tokenizer = new PromptTokenizer(
      JSON.parse(readFileSync(path.join(fixtures, 'scorers/fixture-clip/tokenizer.json'), 'utf8')),
      m.tokenizer!,
    );
    const { ids, mask } = tokenizer.encode('red '.repeat(40));
    expect(ids).toHaveLength(16);
    expect(ids[0]).toBe(0);
    expect(ids[15]).toBe(1);
    expect(mask.every((v) => v === 1)).toBe(true);
  });
});
