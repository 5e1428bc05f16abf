/**
 * Image-level evaluation for the benchmark: the images each engine's plans produced (named by item id), scored with
 * scorer packs against the item's gold prompt (CLIP score, HPS v2, ImageReward, optionally aesthetic), FID of each
 * engine's set against a reference set, and the paper's Unified Metric across the engines.
 *
 * I/O stays with the caller: images arrive decoded, packs arrive opened (any ScoringRuntime).
 */
import { featureSetFromRows, fid } from '../metrics/fid.ts';
import { unifiedMetric, type RunScores } from '../metrics/unified.ts';
import type { RgbaImage } from '../scoring/image.ts';
import type { ScorerKind } from '../scoring/manifest.ts';
import type { ScorerPack } from '../scoring/scorers.ts';
import type { BenchItem } from './items.ts';
import type { EngineImageMetrics, ImageEvaluation } from './image-metrics.ts';
import { markdown, type BenchReport, type TableCells } from './report.ts';

export type { EngineImageMetrics, ImageEvaluation };

/** One generated image and the item whose plan made it. */
export interface ItemImage {
  itemId: string;
  image: RgbaImage;
}

export interface EvaluateImagesOptions {
  /** The benchmark items (gold prompts by id); images of other ids are an error. */
  items: readonly BenchItem[];
  /** Per engine name, its images. */
  sets: Readonly<Record<string, readonly ItemImage[]>>;
  /** At most one pack per kind. */
  packs: readonly ScorerPack[];
  /** Reference images for FID; null for none. */
  reference: readonly RgbaImage[] | null;
}

const PER_IMAGE_KINDS = ['clip', 'hpsv2', 'imagereward', 'aesthetic'] as const;
type PerImageKind = (typeof PER_IMAGE_KINDS)[number];
const NEEDS_GOLD_PROMPT: ReadonlySet<ScorerKind> = new Set(['clip', 'hpsv2', 'imagereward']);
const FIELD: Readonly<Record<PerImageKind, 'clip_score' | 'hpsv2' | 'imagereward' | 'aesthetic'>> = {
  clip: 'clip_score',
  hpsv2: 'hpsv2',
  imagereward: 'imagereward',
  aesthetic: 'aesthetic',
};

const mean = (xs: readonly number[]): number | null =>
  xs.length === 0 ? null : xs.reduce((a, b) => a + b, 0) / xs.length;

function packsByKind(packs: readonly ScorerPack[]): Map<ScorerKind, ScorerPack> {
  const byKind = new Map<ScorerKind, ScorerPack>();
  for (const pack of packs) {
    const { kind, id } = pack.manifest;
    const other = byKind.get(kind);
    if (other)
      throw new Error(`two ${kind} scorer packs given ("${other.manifest.id}" and "${id}"); give one per kind`);
    byKind.set(kind, pack);
  }
  return byKind;
}

export async function evaluateImages(options: EvaluateImagesOptions): Promise<ImageEvaluation> {
  const engineNames = Object.keys(options.sets);
  if (engineNames.length === 0) throw new Error('evaluateImages: no engine has images');
  const gold = new Map(options.items.map((item) => [item.id, item.gold.prompt]));
  const byKind = packsByKind(options.packs);
  if (byKind.size === 0) throw new Error('evaluateImages: no scorer pack given');
  const fidPack = byKind.get('fid-features') ?? null;
  const referenceFeatures =
    fidPack && options.reference && options.reference.length >= 2
      ? await fidPack.features([...options.reference])
      : null;

  const engines: Record<string, EngineImageMetrics> = {};
  for (const name of engineNames) {
    const set = options.sets[name]!;
    const seen = new Set<string>();
    for (const { itemId } of set) {
      if (!gold.has(itemId))
        throw new Error(
          `engine "${name}": an image is named "${itemId}", which is not the id of any benchmark item in this run`,
        );
      if (seen.has(itemId)) throw new Error(`engine "${name}": two images for item "${itemId}"`);
      seen.add(itemId);
    }
    const metrics: EngineImageMetrics = {
      n: set.length,
      missing: options.items.length - set.length,
      clip_score: null,
      hpsv2: null,
      imagereward: null,
      aesthetic: null,
      fid: null,
      fid_notes: [],
      unified: null,
    };
    if (set.length > 0) {
      for (const kind of PER_IMAGE_KINDS) {
        const pack = byKind.get(kind);
        if (!pack) continue;
        const scores = await pack.score(
          set.map(({ itemId, image }) =>
            NEEDS_GOLD_PROMPT.has(kind) ? { image, prompt: gold.get(itemId)! } : { image },
          ),
        );
        metrics[FIELD[kind]] = mean(scores);
      }
    }
    if (!fidPack) metrics.fid_notes.push('no fid-features scorer pack given');
    else if (!options.reference) metrics.fid_notes.push('no reference images given');
    else if (!referenceFeatures)
      metrics.fid_notes.push(`FID needs at least 2 reference images, got ${options.reference.length}`);
    else if (set.length < 2) metrics.fid_notes.push(`FID needs at least 2 images, this engine has ${set.length}`);
    else {
      const result = fid(
        featureSetFromRows(await fidPack.features(set.map((s) => s.image))),
        featureSetFromRows(referenceFeatures),
      );
      metrics.fid = result.distance;
      metrics.fid_notes.push(...result.warnings);
    }
    engines[name] = metrics;
  }

  const runs: RunScores[] = engineNames.map((name) => {
    const m = engines[name]!;
    return { run: name, fid: m.fid, clipScore: m.clip_score, hpsV2: m.hpsv2, imageReward: m.imagereward };
  });
  const unified = unifiedMetric(runs);
  unified.runs.forEach((name, i) => (engines[name]!.unified = unified.unified[i]!));

  return {
    packs: options.packs.map((p) => ({
      id: p.manifest.id,
      kind: p.manifest.kind,
      name: p.manifest.name,
      meant_for: p.manifest.meantFor,
      backend: p.backend,
    })),
    reference: options.reference ? { n: options.reference.length } : null,
    unified: { explanation: unified.explanation, metrics: unified.metrics, omitted: unified.omitted },
    engines,
  };
}

// Fixed decimals, except for tiny non-zero values (small test feature nets give FIDs around 1e-5), which keep 3 digits.
const cell = (v: number | null, digits: number) =>
  v === null ? '–' : v !== 0 && Math.abs(v) < 10 ** -digits ? v.toExponential(2) : v.toFixed(digits);

/** A row per engine: images scored, the four paper metrics, aesthetic when scored, and Unified. */
export function imageTableCells(evaluation: ImageEvaluation): TableCells {
  const withAesthetic = Object.values(evaluation.engines).some((m) => m.aesthetic !== null);
  const header = [
    'Engine',
    'Images',
    'FID ↓',
    'CLIP score',
    'HPS v2',
    'ImageReward',
    ...(withAesthetic ? ['Aesthetic'] : []),
    'Unified',
  ];
  const rows = Object.entries(evaluation.engines).map(([name, m]) => [
    name,
    String(m.n),
    cell(m.fid, 3),
    cell(m.clip_score, 3),
    cell(m.hpsv2, 3),
    cell(m.imagereward, 3),
    ...(withAesthetic ? [cell(m.aesthetic, 3)] : []),
    cell(m.unified, 3),
  ]);
  return { header, rows };
}

/** Adds an evaluation to a bench report: `engines.<name>.images` per engine, the rest as `image_evaluation`. */
export function attachImageEvaluation(report: BenchReport, evaluation: ImageEvaluation): void {
  const { engines, ...shared } = evaluation;
  for (const [name, metrics] of Object.entries(engines)) {
    const engine = report.engines[name];
    if (!engine)
      throw new Error(
        `images were given for engine "${name}", which this benchmark did not run (ran: ${Object.keys(report.engines).join(', ')})`,
      );
    engine.images = metrics;
  }
  report.image_evaluation = shared;
}

export const imageTable = (evaluation: ImageEvaluation): string => markdown(imageTableCells(evaluation));
