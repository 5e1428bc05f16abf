/**
 * Decoded images and the preprocessing every scorer applies before its ONNX graph, in pure TypeScript:
 * resize (PIL-style antialiased separable bicubic/bilinear, in float, clamped to [0, 255] after each pass as PIL's
 * 8-bit images are), crop, /255, (x - mean) / std, channel-first float32.
 *
 * scripts/fixtures/build_scorer_fixtures.py implements the same steps in numpy; the fixtures' references depend on it.
 * Against PIL's 8-bit path (what CLIP's own preprocessing uses) the resized pixels differ by under one grey level.
 */
import type { Preprocessing } from './manifest.ts';

/** 8-bit pixels, 4 channels (RGBA) per pixel, row-major; alpha is ignored by the scorers (like PIL's convert('RGB')). */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
}

export function checkImage(image: RgbaImage, label = 'image'): void {
  if (!Number.isInteger(image.width) || !Number.isInteger(image.height) || image.width < 1 || image.height < 1) {
    throw new Error(`${label}: invalid size ${image.width}×${image.height}`);
  }
  if (image.data.length !== image.width * image.height * 4) {
    throw new Error(
      `${label}: ${image.data.length} bytes of pixels for ${image.width}×${image.height} RGBA (expected ${image.width * image.height * 4})`,
    );
  }
}

type Filter = (x: number) => number;

const FILTERS: Record<Preprocessing['filter'], { fn: Filter; support: number }> = {
  bicubic: {
    support: 2,
    // Keys' cubic with a = -0.5, as PIL and torchvision use.
    fn: (value) => {
      const a = -0.5;
      const x = Math.abs(value);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  bilinear: { support: 1, fn: (value) => Math.max(0, 1 - Math.abs(value)) },
};

interface Taps {
  start: Int32Array;
  count: Int32Array;
  /** `width` weights per output index. */
  weights: Float64Array;
  width: number;
}

/** The weights of each output sample over the input samples, widened by the scale when shrinking (antialiasing). */
function resampleTaps(sizeIn: number, sizeOut: number, filter: Preprocessing['filter']): Taps {
  const { fn, support: baseSupport } = FILTERS[filter];
  const scale = sizeIn / sizeOut;
  const filterScale = Math.max(scale, 1);
  const support = baseSupport * filterScale;
  const width = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(sizeOut);
  const count = new Int32Array(sizeOut);
  const weights = new Float64Array(sizeOut * width);
  for (let i = 0; i < sizeOut; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(Math.floor(center - support + 0.5), 0);
    const hi = Math.min(Math.floor(center + support + 0.5), sizeIn);
    start[i] = lo;
    count[i] = hi - lo;
    let total = 0;
    for (let j = 0; j < hi - lo; j++) {
      const w = fn((j + lo - center + 0.5) / filterScale);
      weights[i * width + j] = w;
      total += w;
    }
    if (total !== 0) for (let j = 0; j < hi - lo; j++) weights[i * width + j]! /= total;
  }
  return { start, count, weights, width };
}

/** Resamples an interleaved float image (3 channels) along x. */
function resampleRows(
  src: Float64Array,
  w: number,
  h: number,
  newW: number,
  filter: Preprocessing['filter'],
): Float64Array {
  const taps = resampleTaps(w, newW, filter);
  const out = new Float64Array(newW * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < newW; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      const s = taps.start[x]!;
      for (let j = 0; j < taps.count[x]!; j++) {
        const wgt = taps.weights[x * taps.width + j]!;
        const p = (y * w + s + j) * 3;
        r += wgt * src[p]!;
        g += wgt * src[p + 1]!;
        b += wgt * src[p + 2]!;
      }
      const o = (y * newW + x) * 3;
      out[o] = clamp255(r);
      out[o + 1] = clamp255(g);
      out[o + 2] = clamp255(b);
    }
  }
  return out;
}

/** Resamples an interleaved float image (3 channels) along y. */
function resampleColumns(
  src: Float64Array,
  w: number,
  h: number,
  newH: number,
  filter: Preprocessing['filter'],
): Float64Array {
  const taps = resampleTaps(h, newH, filter);
  const out = new Float64Array(w * newH * 3);
  for (let y = 0; y < newH; y++) {
    const s = taps.start[y]!;
    for (let j = 0; j < taps.count[y]!; j++) {
      const wgt = taps.weights[y * taps.width + j]!;
      const row = (s + j) * w * 3;
      const o = y * w * 3;
      for (let k = 0; k < w * 3; k++) out[o + k]! += wgt * src[row + k]!;
    }
  }
  for (let k = 0; k < out.length; k++) out[k] = clamp255(out[k]!);
  return out;
}

function clamp255(v: number): number {
  return Math.min(255, Math.max(0, v));
}

/** The size after the resize step: the short side becomes `size` (long side truncated, like torchvision), or exactly size×size. */
export function resizedSize(width: number, height: number, spec: Preprocessing): { width: number; height: number } {
  if (spec.resize === 'exact') return { width: spec.size, height: spec.size };
  return width <= height
    ? { width: spec.size, height: Math.floor((spec.size * height) / width) }
    : { width: Math.floor((spec.size * width) / height), height: spec.size };
}

/** One image as the channel-first float32 tensor (3 × size × size) a scorer's image graph takes. */
export function preprocessImage(image: RgbaImage, spec: Preprocessing): Float32Array {
  checkImage(image);
  const { width: w, height: h } = image;
  let pixels: Float64Array = new Float64Array(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    pixels[i * 3] = image.data[i * 4]!;
    pixels[i * 3 + 1] = image.data[i * 4 + 1]!;
    pixels[i * 3 + 2] = image.data[i * 4 + 2]!;
  }
  const target = resizedSize(w, h, spec);
  if (target.width !== w) pixels = resampleRows(pixels, w, h, target.width, spec.filter);
  if (target.height !== h) pixels = resampleColumns(pixels, target.width, h, target.height, spec.filter);
  const size = spec.size;
  if (spec.crop === 'none' && (target.width !== size || target.height !== size)) {
    throw new Error(
      `preprocessing: crop "none" needs resize "exact" (got ${target.width}×${target.height} for size ${size})`,
    );
  }
  const top = Math.floor((target.height - size) / 2);
  const left = Math.floor((target.width - size) / 2);
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const mean = spec.mean[c]!;
    const std = spec.std[c]!;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const v = pixels[((top + y) * target.width + left + x) * 3 + c]! / 255;
        out[c * size * size + y * size + x] = (v - mean) / std;
      }
    }
  }
  return out;
}
