/**
 * Scores a folder of images with one or more scorer packs.
 *
 *   npm run score -- --pack DIR [--pack DIR ...] --images DIR [--prompts FILE] [--reference DIR] --out scores.json
 *
 * --pack      a pack folder (with scorer.json) or a folder of pack folders; repeatable
 * --images    PNG/JPEG/WebP files to score
 * --prompts   the prompt each image was made from: a JSON object {"<file name or stem>": "prompt"} or JSONL lines
 *             {"image"|"id": "<file name or stem>", "prompt": "..."}; needed by clip, hpsv2 and imagereward packs
 * --reference a folder of reference images: FID of --images against it with every fid-features pack
 * --out       where to write the JSON report
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { featureSetFromRows, fid, type FidResult } from '../src/core/metrics/fid.ts';
import type { RgbaImage } from '../src/core/scoring/image.ts';
import { SCORER_MANIFEST_FILE } from '../src/core/scoring/manifest.ts';
import { PROMPT_KINDS, type ScorerPack } from '../src/core/scoring/scorers.ts';
import { IMAGE_EXTENSIONS, openFolderPack, readImageFile } from './lib/score-node.ts';

function fail(message: string): never {
  console.error(`score: ${message}`);
  process.exit(2);
}

function packDirs(dir: string): string[] {
  if (!existsSync(dir)) fail(`--pack ${dir} does not exist`);
  if (existsSync(path.join(dir, SCORER_MANIFEST_FILE))) return [dir];
  const nested = readdirSync(dir)
    .map((name) => path.join(dir, name))
    .filter((sub) => statSync(sub).isDirectory() && existsSync(path.join(sub, SCORER_MANIFEST_FILE)))
    .sort();
  if (nested.length === 0) fail(`--pack ${dir} has no ${SCORER_MANIFEST_FILE}, nor any sub-folder with one`);
  return nested;
}

function imageFiles(dir: string, flag: string): string[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`${flag} ${dir} is not a folder`);
  const files = readdirSync(dir)
    .filter((name) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase()))
    .sort()
    .map((name) => path.join(dir, name));
  if (files.length === 0) fail(`${flag} ${dir} has no ${IMAGE_EXTENSIONS.join('/')} files`);
  return files;
}

async function readPrompts(file: string): Promise<Map<string, string>> {
  const text = await readFile(file, 'utf8');
  const prompts = new Map<string, string>();
  const add = (key: unknown, prompt: unknown, where: string) => {
    if (typeof key !== 'string' || typeof prompt !== 'string')
      fail(`${where}: expected a file name and a prompt string`);
    prompts.set(key, prompt);
  };
  const trimmed = text.trim();
  if (trimmed.startsWith('{') && !trimmed.includes('\n{')) {
    const json = JSON.parse(trimmed) as Record<string, unknown>;
    for (const [key, prompt] of Object.entries(json)) add(key, prompt, `${file} "${key}"`);
  } else {
    trimmed.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let row: Record<string, unknown>;
      try {
        row = JSON.parse(line) as Record<string, unknown>;
      } catch {
        fail(`${file}:${i + 1}: not JSON`);
      }
      add(row.image ?? row.id, row.prompt, `${file}:${i + 1}`);
    });
  }
  return prompts;
}

function promptFor(prompts: Map<string, string>, file: string): string | undefined {
  const name = path.basename(file);
  return prompts.get(name) ?? prompts.get(name.slice(0, -path.extname(name).length));
}

interface ImageRow {
  file: string;
  prompt: string | null;
  scores: Record<string, number | null>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pack: { type: 'string', multiple: true },
      images: { type: 'string' },
      prompts: { type: 'string' },
      reference: { type: 'string' },
      out: { type: 'string' },
    },
  });
  if (!values.pack?.length || !values.images || !values.out) {
    fail(
      'usage: npm run score -- --pack DIR [--pack DIR ...] --images DIR [--prompts FILE] [--reference DIR] --out scores.json',
    );
  }
  const files = imageFiles(values.images, '--images');
  const prompts = values.prompts ? await readPrompts(values.prompts) : new Map<string, string>();
  const packs: ScorerPack[] = [];
  for (const dir of values.pack.flatMap(packDirs)) packs.push(await openFolderPack(dir));
  const images = await Promise.all(files.map(readImageFile));
  const rows: ImageRow[] = files.map((file) => ({
    file: path.basename(file),
    prompt: promptFor(prompts, file) ?? null,
    scores: {},
  }));
  const notes: string[] = [];
  const fidResults: Record<string, FidResult> = {};
  const timings: Record<string, number> = {};

  let referenceImages: RgbaImage[] | null = null;
  for (const pack of packs) {
    const { id, kind } = pack.manifest;
    const started = performance.now();
    if (kind === 'fid-features') {
      if (!values.reference) {
        notes.push(`${id}: FID features need --reference DIR; skipped`);
        continue;
      }
      referenceImages ??= await Promise.all(imageFiles(values.reference, '--reference').map(readImageFile));
      const generated = await pack.features(images);
      const reference = await pack.features(referenceImages);
      fidResults[id] = fid(featureSetFromRows(generated), featureSetFromRows(reference));
    } else {
      const usable = rows
        .map((row, i) => ({ row, image: images[i]! }))
        .filter(({ row }) => !PROMPT_KINDS.has(kind) || row.prompt !== null);
      if (usable.length < rows.length)
        notes.push(`${id}: ${rows.length - usable.length} image(s) have no prompt in --prompts; not scored`);
      const scores =
        usable.length > 0
          ? await pack.score(usable.map(({ row, image }) => ({ image, prompt: row.prompt ?? undefined })))
          : [];
      for (const row of rows) row.scores[id] = null;
      usable.forEach(({ row }, i) => (row.scores[id] = scores[i]!));
    }
    timings[id] = performance.now() - started;
    await pack.unload();
  }

  const scoredPacks = packs.filter((p) => p.manifest.kind !== 'fid-features').map((p) => p.manifest.id);
  const means: Record<string, number | null> = {};
  for (const id of scoredPacks) {
    const values = rows.map((r) => r.scores[id]).filter((v): v is number => typeof v === 'number');
    means[id] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  const report = {
    created: new Date().toISOString(),
    images_dir: path.resolve(values.images),
    reference_dir: values.reference ? path.resolve(values.reference) : null,
    packs: packs.map((p) => ({
      id: p.manifest.id,
      kind: p.manifest.kind,
      name: p.manifest.name,
      meant_for: p.manifest.meantFor,
      backend: p.backend,
      ms: timings[p.manifest.id] ?? null,
    })),
    images: rows,
    means,
    fid: fidResults,
    notes,
  };
  await writeFile(values.out, `${JSON.stringify(report, null, 1)}\n`);

  const fmt = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : '—');
  const table = [
    ['image', ...scoredPacks],
    ...rows.map((r) => [r.file, ...scoredPacks.map((id) => fmt(r.scores[id]))]),
    ['mean', ...scoredPacks.map((id) => fmt(means[id]))],
  ];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  for (const row of table) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join('  '));
  for (const [id, result] of Object.entries(fidResults)) {
    console.log(
      `FID (${id}): ${result.distance.toFixed(4)}  [mean term ${result.meanTerm.toFixed(4)}, covariance term ${result.covarianceTerm.toFixed(4)}]`,
    );
    for (const warning of result.warnings) console.log(`  warning: ${warning}`);
  }
  for (const note of notes) console.log(`note: ${note}`);
  console.log(`wrote ${values.out}`);
}

main().catch((error: unknown) => fail(error instanceof Error ? error.message : String(error)));
