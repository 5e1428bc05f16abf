/**
 * Node I/O for the scoring core: packs read from a folder, PNG/JPEG/WebP files decoded (PNG by the core's own
 * decoder with node:zlib; other formats through sharp, which transformers.js already installs), sessions on
 * onnxruntime-node's CPU provider.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { RgbaImage } from '../../src/core/scoring/image.ts';
import { decodePng, isPng } from '../../src/core/png.ts';
import { ortRuntime, type OrtModule, type ScoringRuntime } from '../../src/core/scoring/runtime.ts';
import { ScorerPack, type PackSource } from '../../src/core/scoring/scorers.ts';

export function folderSource(dir: string): PackSource {
  return {
    location: dir,
    async readFile(name, onProgress) {
      const bytes = new Uint8Array(await readFile(path.join(dir, name)));
      onProgress?.(bytes.length, bytes.length);
      return bytes;
    },
  };
}

export function nodeRuntime(): ScoringRuntime {
  return ortRuntime(ort as unknown as OrtModule, ['cpu'], 'onnxruntime-node cpu');
}

export function openFolderPack(dir: string, runtime: ScoringRuntime = nodeRuntime()): Promise<ScorerPack> {
  return ScorerPack.open(folderSource(dir), runtime);
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];

export async function readImageFile(file: string): Promise<RgbaImage> {
  const bytes = new Uint8Array(await readFile(file));
  if (isPng(bytes)) return decodePng(bytes, file);
  const { default: sharp } = await import('sharp');
  const { data, info } = await sharp(bytes).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return {
    width: info.width,
    height: info.height,
    data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
  };
}
