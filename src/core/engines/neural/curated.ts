/**
 * The curated packs the app ships (public/models/packs/index.json names their folders): what Settings ->
 * Engine lists with their sizes and what they add. A pack whose manifest is broken is left out and
 * reported, so that one bad entry does not hide the others.
 */
import { parsePackManifest, type PackDtype, type PackManifest } from './manifest.ts';
import { isPlainObject } from '../../validate.ts';

export const PACK_INDEX_FORMAT = 'chatgen-pack-index/1';

export interface CuratedPack {
  /** The pack folder's URL (what an engine choice's packUrl holds), with a trailing slash. */
  url: string;
  manifest: PackManifest;
}

export interface CuratedPacks {
  packs: CuratedPack[];
  /** Packs that could not be read, in words. */
  problems: string[];
}

/** Reads index.json at `indexUrl` and each listed pack's manifest.json through `fetchText`. */
export async function loadCuratedPacks(
  indexUrl: string,
  fetchText: (url: string) => Promise<string>,
): Promise<CuratedPacks> {
  const index = JSON.parse(await fetchText(indexUrl)) as unknown;
  if (!isPlainObject(index) || index.format !== PACK_INDEX_FORMAT || !Array.isArray(index.packs)) {
    throw new Error(`${indexUrl} is not a pack index (format ${PACK_INDEX_FORMAT} with a "packs" list)`);
  }
  const names = index.packs.filter((p): p is string => typeof p === 'string' && /^[\w.-]+$/.test(p));
  const problems: string[] = [];
  const packs: CuratedPack[] = [];
  for (const name of names) {
    const url = new URL(`${name}/`, indexUrl).href;
    try {
      const manifest = parsePackManifest(JSON.parse(await fetchText(`${url}manifest.json`)), `${name}/manifest.json`);
      packs.push({ url, manifest });
    } catch (err) {
      problems.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return { packs, problems };
}

/** fp16 variants need WebGPU with shader-f16; the dtype a backend loads is the first the pack lists that it runs. */
export function dtypeFor(
  dtypes: readonly PackDtype[],
  backend: 'webgpu' | 'wasm',
  shaderF16: boolean,
): PackDtype | null {
  return dtypes.find((d) => (d !== 'fp16' && d !== 'q4f16') || (backend === 'webgpu' && shaderF16)) ?? null;
}

/** "786 MB (q4)" for the dtype a backend would download, from the pack's listing. */
export function downloadSize(
  manifest: PackManifest,
  backend: 'webgpu' | 'wasm',
  shaderF16: boolean,
): { dtype: PackDtype; mb: number | null } | null {
  const dtype = dtypeFor(manifest.dtypes, backend, shaderF16);
  if (!dtype) return null;
  return { dtype, mb: manifest.listing?.download_mb[dtype] ?? null };
}
