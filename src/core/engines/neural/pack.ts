/**
 * Loading a pack's manifest and head through an injected file reader (fetch in the browser, the
 * file system in Node), with errors that say which file and what is wrong.
 */
import type { ModelTokenHead } from '../../modeltoken.ts';
import { parseHeadFile, parsePackManifest, PackManifestError, type PackManifest } from './manifest.ts';

export interface PackFiles {
  /** Where the pack is, for messages. */
  readonly location: string;
  readText(relativePath: string): Promise<string>;
  readBytes(relativePath: string): Promise<Uint8Array>;
}

export interface LoadedPack {
  manifest: PackManifest;
  /** Null for a pack without a head (hybrid planning until one is trained). */
  head: ModelTokenHead | null;
}

export async function loadPack(files: PackFiles): Promise<LoadedPack> {
  const where = `${files.location}/manifest.json`;
  let raw: unknown;
  try {
    raw = JSON.parse(await files.readText('manifest.json'));
  } catch (err) {
    throw new PackManifestError(where, [
      `cannot read the manifest: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  const manifest = parsePackManifest(raw, where);
  if (manifest.head === null) return { manifest, head: null };
  let bytes: Uint8Array;
  try {
    bytes = await files.readBytes(manifest.head.file);
  } catch (err) {
    throw new PackManifestError(`${files.location}/${manifest.head.file}`, [
      `cannot read the head file: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  return { manifest, head: parseHeadFile(bytes, manifest.head, `${files.location}/${manifest.head.file}`) };
}
