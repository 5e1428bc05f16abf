/**
 * PNG files, the one module that reads and writes them: the signature, chunks with their CRCs, the size a
 * header claims checked against its data, decoding to RGBA (image scoring), and text chunks (the A1111
 * `parameters` the endpoints write, ./endpoints/infotext.ts). Every malformed file throws PngFormatError.
 * Inflating uses DecompressionStream('deflate'), present in browsers and Node alike, bounded by the header.
 */
import { concatBytes } from './bytes.ts';
import type { RgbaImage } from './scoring/image.ts';

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface PngChunk {
  type: string;
  /** Offset of the chunk's length field. */
  offset: number;
  /** Data only (no length, type or CRC). */
  data: Uint8Array;
}

export class PngFormatError extends Error {
  override name = 'PngFormatError';
}

export function isPng(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Splits a PNG into chunks, checking signature, lengths and every CRC. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!isPng(bytes)) throw new PngFormatError('not a PNG file (bad signature)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) throw new PngFormatError(`truncated chunk header at byte ${at}`);
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length) throw new PngFormatError(`chunk at byte ${at} runs past the end of the file`);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (!/^[A-Za-z]{4}$/.test(type)) throw new PngFormatError(`bad chunk type at byte ${at}`);
    const crc = view.getUint32(end - 4);
    if (crc32(bytes, at + 4, end - 4) !== crc) throw new PngFormatError(`CRC mismatch in ${type} chunk`);
    chunks.push({ type, offset: at, data: bytes.subarray(at + 8, end - 4) });
    at = end;
    if (type === 'IEND') break;
  }
  if (chunks[0]?.type !== 'IHDR') throw new PngFormatError('first chunk is not IHDR');
  if (chunks[chunks.length - 1]?.type !== 'IEND') throw new PngFormatError('IEND missing');
  return chunks;
}

/** Width and height from IHDR; throws PngFormatError when the bytes are not a sound PNG. */
export function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const ihdr = readPngChunks(bytes)[0]!;
  const v = new DataView(ihdr.data.buffer, ihdr.data.byteOffset, ihdr.data.byteLength);
  return { width: v.getUint32(0), height: v.getUint32(4) };
}

/** Samples per pixel by colour type. */
const CHANNELS: Readonly<Record<number, number>> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Bytes of filtered pixel rows an image of this header decompresses to (Adam7 passes when interlaced). */
function rawDataBytes(width: number, height: number, bitsPerPixel: number, interlaced: boolean): number {
  const rows = (w: number, h: number) => (w > 0 && h > 0 ? h * (1 + Math.ceil((w * bitsPerPixel) / 8)) : 0);
  if (!interlaced) return rows(width, height);
  // Adam7: [x start, y start, x step, y step] of the seven passes.
  const passes = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  return passes.reduce(
    (n, [x0, y0, dx, dy]) => n + rows(Math.ceil((width - x0) / dx), Math.ceil((height - y0) / dy)),
    0,
  );
}

/** What IHDR says: size, sample format and interlacing. */
interface PngHeader {
  width: number;
  height: number;
  depth: number;
  colour: number;
  channels: number;
  interlaced: boolean;
}

function readHeader(chunks: readonly PngChunk[]): PngHeader {
  const ihdr = chunks[0]!.data;
  if (ihdr.length !== 13) throw new PngFormatError('has an IHDR chunk of the wrong length');
  const v = new DataView(ihdr.buffer, ihdr.byteOffset, ihdr.byteLength);
  const width = v.getUint32(0);
  const height = v.getUint32(4);
  const [depth, colour] = [ihdr[8]!, ihdr[9]!];
  const channels = CHANNELS[colour];
  if (width === 0 || height === 0 || channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new PngFormatError(
      `has an impossible header (${width}×${height}, bit depth ${depth}, colour type ${colour})`,
    );
  }
  return { width, height, depth, colour, channels, interlaced: ihdr[12] === 1 };
}

/**
 * The IDAT stream inflated, which must come to exactly the bytes of filtered pixel rows the header's size,
 * bit depth and colour type call for. A header may claim any size (a 100000x100000 PNG of a few bytes) and
 * a few bytes may inflate to gigabytes: inflation stops as soon as the data runs past what the header
 * allows. `keep: false` only counts the bytes (returns an empty array), so a check holds no pixels.
 */
async function inflateRows(
  chunks: readonly PngChunk[],
  header: PngHeader,
  { keep }: { keep: boolean },
): Promise<Uint8Array> {
  const { width, height, depth, channels, interlaced } = header;
  const expected = rawDataBytes(width, height, depth * channels, interlaced);
  const idat = chunks.filter((c) => c.type === 'IDAT').map((c) => c.data);
  if (idat.length === 0) throw new PngFormatError('has no image data (IDAT)');
  const mismatch = (detail: string) =>
    new PngFormatError(`says it is ${width}×${height} pixels but its data does not match (${detail})`);
  const reader = new Blob(idat as Uint8Array<ArrayBuffer>[])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'))
    .getReader();
  const parts: Uint8Array[] = [];
  let inflated = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      inflated += value.byteLength;
      if (inflated > expected) {
        await reader.cancel();
        throw mismatch(`more pixel data than ${expected.toLocaleString('en')} bytes`);
      }
      if (keep) parts.push(value);
    }
  } catch (e) {
    if (e instanceof PngFormatError) throw e;
    throw new PngFormatError(`has pixel data that does not inflate (${e instanceof Error ? e.message : String(e)})`);
  }
  if (inflated !== expected)
    throw mismatch(`${inflated.toLocaleString('en')} bytes of pixel rows, ${expected.toLocaleString('en')} expected`);
  return concatBytes(parts, keep ? inflated : 0);
}

/** Width and height, checked against the data (see inflateRows); throws PngFormatError. */
export async function checkPngData(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const chunks = readPngChunks(bytes);
  const header = readHeader(chunks);
  await inflateRows(chunks, header, { keep: false });
  return { width: header.width, height: header.height };
}

export function encodeChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

const isLatin1 = (text: string) => /^[\u0000-\u00ff]*$/.test(text);

/**
 * A text chunk as PIL (and so A1111) writes it: tEXt when the text is Latin-1, otherwise an
 * uncompressed iTXt in UTF-8.
 */
function textChunk(keyword: string, text: string): Uint8Array {
  const key = Uint8Array.from(keyword, (c) => c.charCodeAt(0));
  if (isLatin1(text)) {
    const data = new Uint8Array(key.length + 1 + text.length);
    data.set(key, 0);
    for (let i = 0; i < text.length; i++) data[key.length + 1 + i] = text.charCodeAt(i);
    return encodeChunk('tEXt', data);
  }
  const utf8 = new TextEncoder().encode(text);
  // keyword \0 compression-flag(0) compression-method(0) language-tag \0 translated-keyword \0 text
  const data = new Uint8Array(key.length + 5 + utf8.length);
  data.set(key, 0);
  data.set(utf8, key.length + 5);
  return encodeChunk('iTXt', data);
}

function readTextChunk(chunk: PngChunk): { keyword: string; text: string } | null {
  const zero = chunk.data.indexOf(0);
  if (zero < 1) return null;
  let keyword = '';
  for (const b of chunk.data.subarray(0, Math.min(zero, 80))) keyword += String.fromCharCode(b);
  if (chunk.type === 'tEXt') {
    let text = '';
    for (const b of chunk.data.subarray(zero + 1)) text += String.fromCharCode(b);
    return { keyword, text };
  }
  if (chunk.type === 'iTXt') {
    const compressed = chunk.data[zero + 1];
    if (compressed !== 0) return null;
    let at = zero + 3;
    const langEnd = chunk.data.indexOf(0, at);
    if (langEnd < 0) return null;
    const transEnd = chunk.data.indexOf(0, langEnd + 1);
    if (transEnd < 0) return null;
    at = transEnd + 1;
    return { keyword, text: new TextDecoder().decode(chunk.data.subarray(at)) };
  }
  return null;
}

/**
 * The chunks a downloaded PNG keeps from the server's: the image and how to show its colours. Text,
 * EXIF, time and unknown chunks are the server's words (a workflow, a prompt, anything) and are dropped,
 * so the file carries only the app's own text.
 */
const KEPT_CHUNKS = new Set(['IHDR', 'PLTE', 'IDAT', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'pHYs']);

/** Returns a copy of the PNG with only the image's own chunks and one text chunk (`keyword`: `text`) before IEND. */
export function withOnlyText(png: Uint8Array, keyword: string, text: string): Uint8Array {
  const chunks = readPngChunks(png);
  const kept = chunks.filter((c) => KEPT_CHUNKS.has(c.type));
  const parts: Uint8Array[] = [Uint8Array.from(SIGNATURE)];
  for (const c of kept) parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
  parts.push(textChunk(keyword, text));
  parts.push(encodeChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}

/** The text of a PNG's tEXt or uncompressed iTXt chunk with this keyword, or null when it has none. */
export function readText(png: Uint8Array, keyword: string): string | null {
  for (const c of readPngChunks(png)) {
    if (c.type !== 'tEXt' && c.type !== 'iTXt') continue;
    const t = readTextChunk(c);
    if (t?.keyword === keyword) return t.text;
  }
  return null;
}

/**
 * Decodes a PNG to 8-bit RGBA, so Node can score PNG files without a native image library and the browser
 * without colour conversion. Supports every non-interlaced colour type (16-bit samples keep their high byte;
 * 1/2/4-bit grey and palette images are expanded); colour profiles and gamma are ignored, as CLIP-style
 * pipelines do. Errors are PngFormatErrors starting with `label` (the file's name).
 */
export async function decodePng(bytes: Uint8Array, label = 'PNG'): Promise<RgbaImage> {
  try {
    return await decode(bytes);
  } catch (e) {
    throw e instanceof PngFormatError ? new PngFormatError(`${label}: ${e.message}`) : e;
  }
}

async function decode(bytes: Uint8Array): Promise<RgbaImage> {
  const chunks = readPngChunks(bytes);
  const header = readHeader(chunks);
  const { width, height, depth, colour, channels } = header;
  const palette = chunks.find((c) => c.type === 'PLTE')?.data ?? null;
  const transparency = chunks.find((c) => c.type === 'tRNS')?.data ?? null;
  if ((depth < 8 && colour !== 0 && colour !== 3) || (depth === 16 && colour === 3))
    throw new PngFormatError(`bit depth ${depth} is not valid for colour type ${colour}`);
  if (header.interlaced)
    throw new PngFormatError('interlaced (Adam7) PNGs are not supported; re-save it without interlacing');
  if (colour === 3 && !palette) throw new PngFormatError('palette image without a PLTE chunk');
  const raw = await inflateRows(chunks, header, { keep: true });
  const bitsPerPixel = channels * depth;
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  const rows = unfilter(raw, height, stride, Math.max(1, bitsPerPixel >> 3));
  return {
    width,
    height,
    data: toRgba({ rows, width, height, stride, depth, colour, channels, palette, transparency }),
  };
}

function unfilter(raw: Uint8Array, height: number, stride: number, bpp: number): Uint8Array {
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
          throw new PngFormatError(`row ${y} has unknown filter type ${kind}`);
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
