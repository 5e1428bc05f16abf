/**
 * Node I/O for the benchmark's image-level evaluation (bench --images/--scorers/--reference): reads a folder of
 * generated images named by item id, flat (one engine) or with one sub-folder per engine, the scorer packs and the
 * reference images. The evaluation itself is src/core/bench/images.ts.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ItemImage } from '../../src/core/bench/images.ts';
import type { RgbaImage } from '../../src/core/scoring/image.ts';
import { SCORER_MANIFEST_FILE } from '../../src/core/scoring/manifest.ts';
import type { ScorerPack } from '../../src/core/scoring/scorers.ts';
import { IMAGE_EXTENSIONS, openFolderPack, readImageFile } from './score-node.ts';

const isImage = (name: string) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
const stem = (name: string) => name.slice(0, -path.extname(name).length);

function requireFolder(dir: string, flag: string): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`${flag} ${dir} is not a folder`);
}

export interface EngineImages {
  sets: Record<string, ItemImage[]>;
  /** Image files whose name is not an item id of this run (e.g. left out by --limit), per engine. */
  skipped: Record<string, number>;
}

/**
 * DIR/<item id>.png when one engine runs, or DIR/<engine>/<item id>.png. A sub-folder named after no engine of the
 * run is an error (a typo would otherwise drop that engine silently); an engine without a sub-folder is not evaluated.
 */
export async function readEngineImages(
  dir: string,
  engineNames: readonly string[],
  itemIds: ReadonlySet<string>,
): Promise<EngineImages> {
  requireFolder(dir, '--images');
  const entries = readdirSync(dir, { withFileTypes: true });
  const subfolders = entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
  const folders: [string, string][] = [];
  if (subfolders.length > 0) {
    for (const name of subfolders) {
      if (!engineNames.includes(name))
        throw new Error(
          `--images ${dir}: sub-folder "${name}" is not an engine of this run (${engineNames.join(', ')})`,
        );
      folders.push([name, path.join(dir, name)]);
    }
  } else {
    if (engineNames.length !== 1) {
      throw new Error(
        `--images ${dir} has no sub-folders, but ${engineNames.length} engines run: put each engine's images in a sub-folder named after it`,
      );
    }
    folders.push([engineNames[0]!, dir]);
  }
  const result: EngineImages = { sets: {}, skipped: {} };
  for (const [engine, folder] of folders) {
    const files = readdirSync(folder).filter(isImage).sort();
    const used = files.filter((f) => itemIds.has(stem(f)));
    result.skipped[engine] = files.length - used.length;
    result.sets[engine] = await Promise.all(
      used.map(async (f) => ({ itemId: stem(f), image: await readImageFile(path.join(folder, f)) })),
    );
  }
  return result;
}

/** A pack folder (with scorer.json) or a folder of pack folders, opened on onnxruntime-node. */
export async function openScorerPacks(dir: string): Promise<ScorerPack[]> {
  requireFolder(dir, '--scorers');
  const dirs = existsSync(path.join(dir, SCORER_MANIFEST_FILE))
    ? [dir]
    : readdirSync(dir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, SCORER_MANIFEST_FILE)))
        .map((e) => path.join(dir, e.name))
        .sort();
  if (dirs.length === 0)
    throw new Error(`--scorers ${dir} has no ${SCORER_MANIFEST_FILE}, nor any sub-folder with one`);
  return Promise.all(dirs.map((d) => openFolderPack(d)));
}

export async function readReferenceImages(dir: string): Promise<RgbaImage[]> {
  requireFolder(dir, '--reference');
  const files = readdirSync(dir).filter(isImage).sort();
  if (files.length === 0) throw new Error(`--reference ${dir} has no ${IMAGE_EXTENSIONS.join('/')} files`);
  return Promise.all(files.map((f) => readImageFile(path.join(dir, f))));
}
