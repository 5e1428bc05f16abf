/**
 * A small PNG decoder to 8-bit RGBA, so Node can score PNG files without a native image library. Decompression
 * (zlib) is passed in: node:zlib's inflateSync in Node, DecompressionStream('deflate') in a browser.
 * Supports every non-interlaced PNG colour type at bit depth 8 (16-bit samples keep their high byte; 1/2/4-bit
 * grey and palette images are expanded). Colour profiles and gamma chunks are ignored, as CLIP-style pipelines do.
 */
import type { RgbaImage } from './image.ts';

export type Inflate = (compressed: Uint8Array) => Uint8Array | Promise<Uint8Array>;

export class PngError extends Error {
  override name = 'PngError';
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

export function isPng(bytes: Uint8Array): boolean {
  return SIGNATURE.every((b, i) => bytes[i] === b);
}

export async function decodePng(bytes: Uint8Array, inflate: Inflate, label = 'PNG'): Promise<RgbaImage> {
  if (!isPng(bytes)) throw new PngError(`${label}: not a PNG file (bad signature)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  let palette: Uint8Array | null = null;
  let transparency: Uint8Array | null = null;
  const data: Uint8Array[] = [];
  while (offset + 8 <= bytes.length) {
    const length = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw new PngError(`${label}: chunk ${type} is truncated`);
    offset += 12 + length;
    if (type === 'IHDR') {
      const v = new DataView(body.buffer, body.byteOffset, body.byteLength);
      header = {
        width: v.getUint32(0),
        height: v.getUint32(4),
        depth: body[8]!,
        colour: body[9]!,
        interlace: body[12]!,
      };
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') transparency = body;
    else if (type === 'IDAT') data.push(body);
    else if (type === 'IEND') break;
  }
  if (!header) throw new PngError(`${label}: no IHDR chunk`);
  const { width, height, depth, colour, interlace } = header;
  const channels = CHANNELS[colour];
  if (channels === undefined) throw new PngError(`${label}: unknown colour type ${colour}`);
  if (
    ![1, 2, 4, 8, 16].includes(depth) ||
    (depth < 8 && colour !== 0 && colour !== 3) ||
    (depth === 16 && colour === 3)
  ) {
    throw new PngError(`${label}: bit depth ${depth} is not valid for colour type ${colour}`);
  }
  if (interlace !== 0)
    throw new PngError(`${label}: interlaced (Adam7) PNGs are not supported; re-save it without interlacing`);
  if (width === 0 || height === 0) throw new PngError(`${label}: empty image ${width}×${height}`);
  if (colour === 3 && !palette) throw new PngError(`${label}: palette image without a PLTE chunk`);
  if (data.length === 0) throw new PngError(`${label}: no image data (IDAT)`);

  const compressed = new Uint8Array(data.reduce((n, d) => n + d.length, 0));
  let at = 0;
  for (const d of data) {
    compressed.set(d, at);
    at += d.length;
  }
  const raw = await inflate(compressed);
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel >> 3);
  if (raw.length < height * (stride + 1)) {
    throw new PngError(`${label}: image data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  }
  const rows = unfilter(raw, height, stride, bpp, label);
  return {
    width,
    height,
    data: toRgba({ rows, width, height, stride, depth, colour, channels, palette, transparency }),
  };
}

function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number, label: string): Uint8Array {
  const out = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const kind = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? out[row + x - bpp]! : 0;
      const b = y > 0 ? out[prev + x]! : 0;
      const c = x >= bpp && y > 0 ? out[prev + x - bpp]! : 0;
      let predictor: number;
      switch (kind) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new PngError(`${label}: row ${y} has unknown filter type ${kind}`);
      }
      out[row + x] = (raw[src + x]! + predictor) & 0xff;
    }
  }
  return out;
}

/** An unfiltered image as IHDR, PLTE and tRNS describe it. */
interface RawImage {
  rows: Uint8Array;
  width: number;
  height: number;
  stride: number;
  depth: number;
  colour: number;
  channels: number;
  palette: Uint8Array | null;
  transparency: Uint8Array | null;
}

function toRgba({ rows, width, height, stride, depth, colour, channels, palette, transparency }: RawImage): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  const maxSample = (1 << Math.min(depth, 8)) - 1;
  const sample = (y: number, index: number): number => {
    // index counts samples within the row; returns the sample scaled to 8 bits (palette indices unscaled).
    if (depth === 8) return rows[y * stride + index]!;
    if (depth === 16) return rows[y * stride + index * 2]!;
    const bit = index * depth;
    const value = (rows[y * stride + (bit >> 3)]! >> (8 - depth - (bit & 7))) & maxSample;
    return colour === 3 ? value : Math.round((value * 255) / maxSample);
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      const s = x * channels;
      if (colour === 3) {
        const i = sample(y, x);
        out[o] = palette![i * 3] ?? 0;
        out[o + 1] = palette![i * 3 + 1] ?? 0;
        out[o + 2] = palette![i * 3 + 2] ?? 0;
        out[o + 3] = transparency?.[i] ?? 255;
      } else if (colour === 0 || colour === 4) {
        const g = sample(y, s);
        out[o] = g;
        out[o + 1] = g;
        out[o + 2] = g;
        out[o + 3] = colour === 4 ? sample(y, s + 1) : 255;
      } else {
        out[o] = sample(y, s);
        out[o + 1] = sample(y, s + 1);
        out[o + 2] = sample(y, s + 2);
        out[o + 3] = colour === 6 ? sample(y, s + 3) : 255;
      }
    }
  }
  return out;
}
