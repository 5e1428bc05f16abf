/**
 * PNG chunk handling for generated images: validation, size, and the A1111-style `parameters`
 * text chunk that Civitai and A1111's "PNG Info" read back. Pure byte work, no decoding of pixels.
 */
import { concatBytes } from '../bytes.ts';
import type { GenerationPlan } from '../plan.ts';

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

export function hasPngSignature(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Splits a PNG into chunks, checking signature, lengths and every CRC. */
export function readPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!hasPngSignature(bytes)) throw new PngFormatError('not a PNG (signature missing)');
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

/**
 * Width and height, checked against the data: the IDAT stream must inflate to exactly the bytes the
 * header's size, bit depth and colour type call for. A header may claim any size (a 100000x100000
 * PNG of a few bytes); inflation stops as soon as the data runs past what the header allows.
 */
export async function checkPngData(bytes: Uint8Array): Promise<{ width: number; height: number }> {
  const chunks = readPngChunks(bytes);
  const ihdr = chunks[0]!.data;
  if (ihdr.length !== 13) throw new PngFormatError('has an IHDR chunk of the wrong length');
  const v = new DataView(ihdr.buffer, ihdr.byteOffset, ihdr.byteLength);
  const width = v.getUint32(0);
  const height = v.getUint32(4);
  const depth = ihdr[8]!;
  const channels = CHANNELS[ihdr[9]!];
  if (width === 0 || height === 0 || channels === undefined || ![1, 2, 4, 8, 16].includes(depth)) {
    throw new PngFormatError(
      `has an impossible header (${width}×${height}, bit depth ${depth}, colour type ${ihdr[9]})`,
    );
  }
  const expected = rawDataBytes(width, height, depth * channels, ihdr[12] === 1);
  const idat = chunks.filter((c) => c.type === 'IDAT').map((c) => c.data);
  if (idat.length === 0) throw new PngFormatError('has no image data (IDAT)');
  const mismatch = (detail: string) =>
    new PngFormatError(`says it is ${width}×${height} pixels but its data does not match (${detail})`);
  const reader = new Blob(idat as Uint8Array<ArrayBuffer>[])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'))
    .getReader();
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
    }
  } catch (e) {
    if (e instanceof PngFormatError) throw e;
    throw new PngFormatError(`has pixel data that does not inflate (${e instanceof Error ? e.message : String(e)})`);
  }
  if (inflated !== expected)
    throw mismatch(`${inflated.toLocaleString('en')} bytes of pixel rows, ${expected.toLocaleString('en')} expected`);
  return { width, height };
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
 * so the file carries only the app's own `parameters`.
 */
const KEPT_CHUNKS = new Set(['IHDR', 'PLTE', 'IDAT', 'tRNS', 'gAMA', 'cHRM', 'sRGB', 'iCCP', 'sBIT', 'pHYs']);

/** Returns a copy of the PNG with only the image's own chunks and the app's `parameters` text chunk before IEND. */
export function embedParameters(png: Uint8Array, parameters: string): Uint8Array {
  const chunks = readPngChunks(png);
  const kept = chunks.filter((c) => KEPT_CHUNKS.has(c.type));
  const parts: Uint8Array[] = [Uint8Array.from(SIGNATURE)];
  for (const c of kept) parts.push(png.subarray(c.offset, c.offset + 12 + c.data.length));
  parts.push(textChunk('parameters', parameters));
  parts.push(encodeChunk('IEND', new Uint8Array(0)));
  return concatBytes(parts);
}

/** The `parameters` text of a PNG, or null when it has none. */
export function readParameters(png: Uint8Array): string | null {
  for (const c of readPngChunks(png)) {
    if (c.type !== 'tEXt' && c.type !== 'iTXt') continue;
    const t = readTextChunk(c);
    if (t?.keyword === 'parameters') return t.text;
  }
  return null;
}

/** A value A1111 would quote: one holding a comma, colon or quote. */
function quoteIfNeeded(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

const stripExtension = (file: string) => file.replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');

/**
 * The A1111 infotext for a plan and seed ("prompt\nNegative prompt: …\nSteps: …, Sampler: …").
 * A LoRA plan states its `<lora:…>` tag in the prompt, as A1111 writes it.
 */
export function formatParameters(plan: GenerationPlan, seed: number, extra: Record<string, string> = {}): string {
  const a = plan.arguments;
  const fields: [string, string][] = [
    ['Steps', String(a.steps)],
    ['Sampler', a.sampler],
    ['CFG scale', String(a.cfg_scale)],
    ['Seed', String(seed)],
    ['Size', `${a.width}x${a.height}`],
  ];
  if (plan.model.type === 'Checkpoint') {
    if (plan.model.hash) fields.push(['Model hash', plan.model.hash.toLowerCase()]);
    fields.push(['Model', stripExtension(plan.model.file)]);
  }
  for (const [k, v] of Object.entries(extra)) fields.push([k, v]);
  // Line breaks in the prompts would let a prompt write its own "Negative prompt:" or fields line.
  const oneLine = (text: string) => text.replace(/\r\n|\r|\n/g, ' ');
  const lines = [oneLine(plan.prompt)];
  if (plan.negative_prompt.trim()) lines.push(`Negative prompt: ${oneLine(plan.negative_prompt)}`);
  lines.push(fields.map(([k, v]) => `${k}: ${quoteIfNeeded(v)}`).join(', '));
  return lines.join('\n');
}

export interface ParsedParameters {
  prompt: string;
  negative_prompt: string;
  fields: Record<string, string>;
}

/** Reads A1111 infotext back (the last line holds "Key: value, …"; quoted values may hold commas). */
export function parseParameters(text: string): ParsedParameters {
  const lines = text.split('\n');
  const last = lines[lines.length - 1] ?? '';
  const fieldRe = /\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
  const fields: Record<string, string> = {};
  let fieldLine = false;
  if (
    /^Steps: /.test(last) ||
    (lines.length > 1 && /^\s*[\w][\w \-/]*: /.test(last) && !last.startsWith('Negative prompt:'))
  ) {
    fieldLine = true;
    for (const m of last.matchAll(fieldRe)) {
      if (m[0].trim() === '') continue;
      const raw = m[2]!.trim();
      fields[m[1]!.trim()] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
  }
  const body = fieldLine ? lines.slice(0, -1) : lines;
  const negAt = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negAt < 0 ? body : body.slice(0, negAt)).join('\n');
  const negative =
    negAt < 0
      ? ''
      : body
          .slice(negAt)
          .join('\n')
          .replace(/^Negative prompt:\s?/, '');
  return { prompt, negative_prompt: negative, fields };
}
