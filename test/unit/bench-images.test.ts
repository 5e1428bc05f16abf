import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evaluateImages, imageTable, type ItemImage } from '../../src/core/bench/images.ts';
import { loadBenchItems } from '../../src/core/bench/items.ts';
import type { BenchReport } from '../../src/core/bench/report.ts';
import { featureSetFromRows, fid } from '../../src/core/metrics/fid.ts';
import type { RgbaImage } from '../../src/core/scoring/image.ts';
import { openScorerPacks } from '../../scripts/lib/bench-images.ts';
import { readImageFile } from '../../scripts/lib/score-node.ts';
import { bench } from './bench-cli-run.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const scorersDir = path.join(repoRoot, 'test/fixtures/scorers');
const imagesDir = path.join(repoRoot, 'test/fixtures/images');
const reference = JSON.parse(readFileSync(path.join(scorersDir, 'reference.json'), 'utf8')) as {
  images: string[];
  prompts: string[];
  packs: Record<string, { scores?: number[][] | number[]; features?: number[][] }>;
};
const [CIRCLE, NOISE, PORTRAIT, STRIPES] = reference.images as [string, string, string, string];
const [P_CIRCLE, P_GIRL, P_STRIPES] = reference.prompts as [string, string, string];

const args = { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 };
const golds = [P_CIRCLE, P_GIRL, P_STRIPES, P_CIRCLE];
const itemRows = golds.map((prompt, i) => ({
  id: `it-${i}`,
  input_type: 'single',
  setting: 'supervised',
  messages: [`please draw ${prompt}`],
  gold: { prompt, model_id: 3, arguments: args },
}));
const itemsText = itemRows.map((r) => JSON.stringify(r)).join('\n');
const items = loadBenchItems(itemsText, 'items.jsonl');

// Engine "alpha" has no image for it-3; "beta" has one per item.
const sets: Record<string, [string, string][]> = {
  alpha: [
    ['it-0', CIRCLE],
    ['it-1', PORTRAIT],
    ['it-2', STRIPES],
  ],
  beta: [
    ['it-0', NOISE],
    ['it-1', CIRCLE],
    ['it-2', PORTRAIT],
    ['it-3', STRIPES],
  ],
};

const imageIndex = (file: string) => reference.images.indexOf(file);
const promptIndex = (prompt: string) => reference.prompts.indexOf(prompt);
const goldOf = (itemId: string) => golds[Number(itemId.slice(3))]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The torch reference score of a pack for an image file against a prompt (reference.json holds [image][prompt]). */
const torchScore = (pack: string, file: string, prompt: string) =>
  (reference.packs[pack]!.scores as number[][])[imageIndex(file)]![promptIndex(prompt)]!;
const torchFeatures = (file: string) => reference.packs['fixture-fid']!.features![imageIndex(file)]!;

const decoded = new Map<string, RgbaImage>();
async function image(file: string): Promise<RgbaImage> {
  if (!decoded.has(file)) decoded.set(file, await readImageFile(path.join(imagesDir, file)));
  return decoded.get(file)!;
}

describe('image-level bench evaluation (core) with the fixture scorer packs', () => {
  it('means per engine reproduce the torch reference scores against the gold prompt, FID uses the reference set, Unified is normalised across engines', async () => {
    const packs = await openScorerPacks(scorersDir);
    const imageSets: Record<string, ItemImage[]> = {};
    for (const [engine, rows] of Object.entries(sets))
      imageSets[engine] = await Promise.all(rows.map(async ([itemId, file]) => ({ itemId, image: await image(file) })));
    const referenceImages = await Promise.all([CIRCLE, PORTRAIT, STRIPES].map(image));
    const evaluation = await evaluateImages({ items, sets: imageSets, packs, reference: referenceImages });
    await Promise.all(packs.map((p) => p.unload()));

    for (const [engine, rows] of Object.entries(sets)) {
      const m = evaluation.engines[engine]!;
      expect(m.n).toBe(rows.length);
      expect(m.missing).toBe(4 - rows.length);
      const expected = (pack: string) => mean(rows.map(([id, file]) => torchScore(pack, file, goldOf(id))));
      expect(m.clip_score).toBeCloseTo(expected('fixture-clip'), 3);
      expect(m.hpsv2).toBeCloseTo(expected('fixture-hpsv2'), 3);
      expect(m.imagereward).toBeCloseTo(expected('fixture-imagereward'), 4);
      const aesthetic = reference.packs['fixture-aesthetic']!.scores as number[];
      expect(m.aesthetic).toBeCloseTo(mean(rows.map(([, file]) => aesthetic[imageIndex(file)]!)), 5);
    }
    // alpha's images are exactly the reference set: FID 0. beta's is the FID of the torch features.
    expect(evaluation.engines.alpha!.fid).toBeLessThan(1e-12);
    const betaFid = fid(
      featureSetFromRows(sets.beta!.map(([, f]) => torchFeatures(f))),
      featureSetFromRows([CIRCLE, PORTRAIT, STRIPES].map(torchFeatures)),
    ).distance;
    expect(betaFid).toBeGreaterThan(0);
    expect(Math.abs(evaluation.engines.beta!.fid! - betaFid) / betaFid).toBeLessThan(1e-2);
    expect(evaluation.engines.beta!.fid_notes.join(' ')).toMatch(/singular/);

    // Two runs: each metric normalises to 1 for the better run and 0 for the other, so Unified = share of metrics won.
    const { metrics } = evaluation.unified;
    expect(metrics.map((n) => n.metric)).toEqual(['fid', 'clipScore', 'hpsV2', 'imageReward']);
    const field = { fid: 'fid', clipScore: 'clip_score', hpsV2: 'hpsv2', imageReward: 'imagereward' } as const;
    const wins = { alpha: 0, beta: 0 };
    for (const n of metrics) {
      const [a, b] = [evaluation.engines.alpha![field[n.metric]]!, evaluation.engines.beta![field[n.metric]]!];
      expect(n.min).toBe(Math.min(a, b));
      expect(n.max).toBe(Math.max(a, b));
      const alphaBetter = n.lowerIsBetter ? a < b : a > b;
      wins[alphaBetter ? 'alpha' : 'beta']++;
      expect(n.normalised).toEqual(alphaBetter ? [1, 0] : [0, 1]);
    }
    expect(evaluation.engines.alpha!.unified).toBe(wins.alpha / 4);
    expect(evaluation.engines.beta!.unified).toBe(wins.beta / 4);
    expect(evaluation.unified.explanation).toContain('min-max normalised');

    const table = imageTable(evaluation);
    expect(table).toContain('| Engine | Images | FID ↓ | CLIP score | HPS v2 | ImageReward | Aesthetic | Unified |');
    expect(table).toMatch(/\| alpha \| 3 \| 0\.000 \| \d+\.\d{3} \|/);
  }, 60_000);

  it('refuses images named by no item, two packs of one kind, and says why FID is missing', async () => {
    const packs = await openScorerPacks(path.join(scorersDir, 'fixture-clip'));
    const one = await image(CIRCLE);
    await expect(
      evaluateImages({ items, sets: { alpha: [{ itemId: 'nope', image: one }] }, packs, reference: null }),
    ).rejects.toThrow('an image is named "nope", which is not the id of any benchmark item');
    await expect(
      evaluateImages({ items, sets: { alpha: [] }, packs: [...packs, ...packs], reference: null }),
    ).rejects.toThrow('two clip scorer packs');
    const evaluation = await evaluateImages({
      items,
      sets: { alpha: [{ itemId: 'it-0', image: one }] },
      packs,
      reference: null,
    });
    expect(evaluation.engines.alpha!.fid).toBeNull();
    expect(evaluation.engines.alpha!.fid_notes).toEqual(['no fid-features scorer pack given']);
    expect(evaluation.engines.alpha!.hpsv2).toBeNull();
    expect(evaluation.unified.omitted.map((o) => o.metric)).toEqual(['fid', 'hpsV2', 'imageReward']);
    await Promise.all(packs.map((p) => p.unload()));
  });
});

const work = mkdtempSync(path.join(tmpdir(), 'bench-images-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run bench with --images, --scorers and --reference', () => {
  it('adds engines.<name>.images and image_evaluation to the report and prints the image table', async () => {
    // A hand-made data folder: three catalog models, two demonstrations, the four items above.
    const data = path.join(work, 'data');
    mkdirSync(data);
    const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
    writeFileSync(
      path.join(data, 'catalog.jsonl'),
      jsonl(
        [1, 2, 3].map((id) => ({
          id,
          name: `Model ${id}`,
          type: id === 1 ? 'LORA' : 'Checkpoint',
          downloads: 100 * id,
          base_model: 'SD 1.5',
        })),
      ),
    );
    writeFileSync(
      path.join(data, 'demonstrations.jsonl'),
      jsonl([{ image_id: 10, model_id: 3, prompt: 'a red circle', negative_prompt: '', arguments: args }]),
    );
    writeFileSync(path.join(data, 'dev.jsonl'), itemsText + '\n');
    // Generated images named by item id, one sub-folder per engine (copied from the fixtures at test time).
    for (const [engine, rows] of [
      ['baseline', sets.alpha!],
      ['default', sets.beta!],
    ] as const) {
      mkdirSync(path.join(work, 'images', engine), { recursive: true });
      for (const [id, file] of rows)
        copyFileSync(path.join(imagesDir, file), path.join(work, 'images', engine, `${id}.png`));
    }
    copyFileSync(path.join(imagesDir, STRIPES), path.join(work, 'images', 'default', 'not-an-item.png'));
    mkdirSync(path.join(work, 'reference'));
    for (const file of [CIRCLE, PORTRAIT, STRIPES])
      copyFileSync(path.join(imagesDir, file), path.join(work, 'reference', file));

    const out = path.join(work, 'report.json');
    const withImages = (engines: string) => [
      '--data',
      data,
      '--engines',
      engines,
      '--out',
      out,
      '--predictions',
      path.join(work, 'p.jsonl'),
      '--images',
      path.join(work, 'images'),
    ];
    const { stdout, stderr } = await bench([
      ...withImages('baseline,default'),
      '--scorers',
      scorersDir,
      '--reference',
      path.join(work, 'reference'),
    ]);
    expect(stderr).toContain('default: 1 image(s) not named by an item id of this run; not scored');
    expect(stdout).toContain('Image-level evaluation:');
    expect(stdout).toContain('| Engine | Images | FID ↓ | CLIP score | HPS v2 | ImageReward | Aesthetic | Unified |');
    expect(stdout).toMatch(/\| baseline \| 3 \| 0\.000 \|/);
    const report = JSON.parse(readFileSync(out, 'utf8')) as BenchReport;
    expect(report.image_evaluation!.reference).toEqual({ n: 3 });
    expect(report.image_evaluation!.packs.map((p) => p.kind).sort()).toEqual([
      'aesthetic',
      'clip',
      'fid-features',
      'hpsv2',
      'imagereward',
    ]);
    const baseline = report.engines.baseline!.images!;
    expect(baseline.n).toBe(3);
    expect(baseline.clip_score).toBeCloseTo(
      mean(sets.alpha!.map(([id, file]) => torchScore('fixture-clip', file, goldOf(id)))),
      3,
    );
    expect(report.engines.default!.images!.n).toBe(4);
    expect(baseline.unified! + report.engines.default!.images!.unified!).toBeGreaterThan(0);

    // Images without scorers, and images of an engine that did not run.
    await expect(bench(withImages('baseline'))).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('--images and --scorers go together'),
    });
    await expect(bench([...withImages('baseline'), '--scorers', scorersDir])).rejects.toMatchObject({
      stderr: expect.stringContaining('sub-folder "default" is not an engine of this run'),
    });
  }, 120_000);
});
