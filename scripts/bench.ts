/**
 * The benchmark CLI: a thin shell over src/core/bench (the app's Bench page runs the same core).
 *
 *   npm run bench -- [--data DIR] [--items FILE] [--engines baseline,default[,neural]] [--pack DIR]
 *                    [--out FILE] [--predictions FILE] [--limit N] [--bert DIR [--bert-idf]]
 *                    [--images DIR --scorers DIR [--reference DIR]]
 *   npm run bench -- --suite trust [--data DIR] [--items FILE] [--engines default] [--out FILE]
 *
 * Reads the catalog and demonstrations from --data (catalog.jsonl, demonstrations.jsonl) and test items
 * from --items (default DIR/dev.jsonl); writes the JSON report and one JSONL line per item and engine;
 * prints the Markdown tables. Progress goes to stderr.
 *
 * --suite trust runs the project's trust suite (test/trust/suite.jsonl: requests with what a plan must do) on
 * the catalog of --data and prints, per category, the share of plans that hold, the plans that must never
 * happen (a likeness nobody named, SDXL off its native sizes, a LoRA without its base checkpoint) and the
 * mean number of content words per prompt the person never wrote; --out gets every plan and failure.
 *
 * The neural engine needs a model pack: --pack is a chatgen-pack/1 folder (manifest.json, head file, base
 * decoder), e.g. test/fixtures/pack-tiny; it runs on onnxruntime-node (--pack-dtype picks one of its dtypes).
 * A pack without a head (or whose head lacks most of the catalog's models) plans in hybrid mode: stage 1 by
 * its LLM, stages 2 and 3 by the default engine. A pack with base_model.hub_id downloads from the public hub,
 * or from the mirror in the environment variable CHATGEN_HUB_URL, keeping the files in CHATGEN_MODEL_CACHE
 * (default: transformers.js's own cache folder).
 *
 * Image-level evaluation: --images holds the images made from each item's plan, named <item id>.png, flat when one
 * engine runs or in one sub-folder per engine; --scorers is a scorer pack or a folder of packs (clip, hpsv2,
 * imagereward, aesthetic, fid-features); --reference is a folder of reference images for FID. The report gains
 * engines.<name>.images and image_evaluation, and an extra table is printed.
 */
import { existsSync, mkdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { buildBenchEngines, parseEngineList, type BenchEngineInputs } from '../src/core/bench/engines.ts';
import { loadBenchItems } from '../src/core/bench/items.ts';
import { parseTrustSuite, runTrustSuite, trustTable } from '../src/core/bench/trust.ts';
import { metricsTable, perArgumentTable } from '../src/core/bench/report.ts';
import { runBench, type BenchProgress } from '../src/core/bench/run.ts';
import { attachImageEvaluation, evaluateImages, imageTable, type ImageEvaluation } from '../src/core/bench/images.ts';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { formatRecordError } from '../src/core/catalog/jsonl.ts';
import { loadBertEmbedder } from '../src/core/metrics/bert-embedder.ts';
import { BertScorer } from '../src/core/metrics/bertscore.ts';
import { PACK_DTYPES, type PackDtype } from '../src/core/engines/neural/manifest.ts';
import { loadNodePack, type NodePack } from '../src/node/neural.ts';
import { openScorerPacks, readEngineImages, readReferenceImages } from './lib/bench-images.ts';

const repoRoot = path.resolve(import.meta.dirname, '..');
const DEFAULT_DATA = path.resolve(repoRoot, '../shared/data/civitai-2023');

class UsageError extends Error {}

/** Where the CLI writes and what it reads from its environment: the process's own, or a test's. */
export interface BenchCliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (the progress bar redraws one line). */
  isTTY: boolean;
}

function readText(file: string, what: string): string {
  if (!existsSync(file)) throw new UsageError(`${what} not found: ${file}`);
  return readFileSync(file, 'utf8');
}

function progressBar(io: BenchCliIo): (p: BenchProgress) => void {
  const width = 30;
  const started = performance.now();
  let lastPrinted = -1;
  return (p) => {
    const share = p.total === 0 ? 1 : p.done / p.total;
    const percent = Math.floor(share * 100);
    const elapsed = (performance.now() - started) / 1000;
    const filled = Math.round(share * width);
    const text = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} ${elapsed.toFixed(1)}s ${p.engine} ${p.itemId}`;
    if (io.isTTY) {
      io.stderr(`\r${text.padEnd(100)}${p.done === p.total ? '\n' : ''}`);
    } else if (percent >= lastPrinted + 10 || p.done === p.total) {
      // Not a terminal (CI, a log file): a line every 10% instead of redrawing one line.
      lastPrinted = percent;
      io.stderr(text + '\n');
    }
  };
}

/** Runs `npm run bench` with these arguments; resolves to the exit code (2 for a usage error). */
export async function benchCli(args: string[], io: BenchCliIo): Promise<number> {
  let neuralPack: NodePack | undefined;
  try {
    await bench(args, io, (pack) => (neuralPack = pack));
    return 0;
  } catch (e) {
    io.stderr(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
    return e instanceof UsageError ? 2 : 1;
  } finally {
    await neuralPack?.session.dispose();
  }
}

async function bench(
  args: string[],
  io: BenchCliIo,
  /** Told the pack it opened, which benchCli closes when the run ends. */
  opened: (pack: NodePack) => void,
): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        data: { type: 'string', default: DEFAULT_DATA },
        catalog: { type: 'string' },
        demonstrations: { type: 'string' },
        items: { type: 'string' },
        engines: { type: 'string', default: 'baseline,default' },
        out: { type: 'string', default: path.join(repoRoot, 'reports/bench-report.json') },
        predictions: { type: 'string', default: path.join(repoRoot, 'reports/bench-predictions.jsonl') },
        limit: { type: 'string' },
        bert: { type: 'string' },
        'bert-idf': { type: 'boolean', default: false },
        images: { type: 'string' },
        scorers: { type: 'string' },
        reference: { type: 'string' },
        pack: { type: 'string' },
        'pack-dtype': { type: 'string' },
        suite: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (values.help) {
    io.stdout(
      readFileSync(import.meta.filename, 'utf8')
        .split('*/')[0]!
        .replace(/^\/\*\*\n/, '')
        .replace(/^ \* ?/gm, '') + '\n',
    );
    return;
  }
  const dataDir = path.resolve(values.data);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) {
    throw new UsageError(
      `data folder not found: ${dataDir}\n` +
        (values.data === DEFAULT_DATA
          ? 'The default is ../shared/data/civitai-2023 beside the repository; pass --data DIR to use another.'
          : ''),
    );
  }
  const catalogFile = path.resolve(values.catalog ?? path.join(dataDir, 'catalog.jsonl'));
  const demosFile = path.resolve(values.demonstrations ?? path.join(dataDir, 'demonstrations.jsonl'));
  if (values.suite !== undefined && values.suite !== 'trust')
    throw new UsageError(`--suite must be "trust", got "${values.suite}"`);
  const trust = values.suite === 'trust';
  const itemsFile = path.resolve(
    values.items ?? (trust ? path.join(repoRoot, 'test/trust/suite.jsonl') : path.join(dataDir, 'dev.jsonl')),
  );
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1)
      throw new UsageError(`--limit must be a whole number of at least 1, got "${values.limit}"`);
  }
  const engineNames = parseEngineList(values.engines);
  if ((values.images === undefined) !== (values.scorers === undefined))
    throw new UsageError('--images and --scorers go together');
  if (values.reference !== undefined && values.images === undefined)
    throw new UsageError('--reference needs --images and --scorers');
  const wantsNeural = engineNames.includes('neural');
  if (wantsNeural && values.pack === undefined) {
    throw new UsageError(
      '--engines neural needs --pack DIR: a model pack folder with manifest.json (e.g. test/fixtures/pack-tiny)',
    );
  }
  if (!wantsNeural && (values.pack !== undefined || values['pack-dtype'] !== undefined)) {
    throw new UsageError('--pack and --pack-dtype are only used by the neural engine: add neural to --engines');
  }
  const packDtype = values['pack-dtype'];
  if (packDtype !== undefined && !(PACK_DTYPES as readonly string[]).includes(packDtype)) {
    throw new UsageError(`--pack-dtype must be one of ${PACK_DTYPES.join(', ')}, got "${packDtype}"`);
  }

  // The pack is opened before the catalog is read, so a bad pack fails in a second, not after the catalog load.
  const inputs: BenchEngineInputs = {};
  if (wantsNeural && values.pack !== undefined) {
    const packDir = path.resolve(values.pack);
    const packStarted = performance.now();
    try {
      const pack = await loadNodePack(packDir, {
        ...(packDtype === undefined ? {} : { dtype: packDtype as PackDtype }),
        ...(io.env.CHATGEN_HUB_URL ? { hubUrl: io.env.CHATGEN_HUB_URL } : {}),
        ...(io.env.CHATGEN_MODEL_CACHE ? { cacheDir: io.env.CHATGEN_MODEL_CACHE } : {}),
      });
      inputs.neuralPack = { session: pack.session, head: pack.head, manifest: pack.manifest };
      opened(pack);
      io.stderr(
        `bench: pack "${pack.manifest.name}" loaded on onnxruntime-node (${pack.session.dtype}, ${pack.head ? `${pack.head.modelIds.length} model rows` : 'no head: hybrid planning'}) in ${((performance.now() - packStarted) / 1000).toFixed(2)}s\n`,
      );
    } catch (e) {
      throw new Error(`cannot load the model pack ${packDir}:\n${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const t0 = performance.now();
  // Every file is read before any is parsed, so a missing one is reported at once.
  const itemsText = readText(itemsFile, 'test items');
  const catalogText = readText(catalogFile, 'catalog');
  const demosText = readText(demosFile, 'demonstrations');
  const { catalog, errors } = loadCatalog(
    { catalog: { file: catalogFile, text: catalogText }, demonstrations: { file: demosFile, text: demosText } },
    path.basename(dataDir),
  );
  for (const e of errors.slice(0, 5)) io.stderr(`bench: skipped ${formatRecordError(e)}\n`);
  if (errors.length > 5) io.stderr(`bench: ... and ${errors.length - 5} more skipped catalog lines\n`);
  if (trust) {
    const suite = parseTrustSuite(itemsText, path.relative(repoRoot, itemsFile));
    const engines = await buildBenchEngines(engineNames, catalog, inputs);
    io.stderr(
      `bench: trust suite, ${suite.length} requests, catalog ${path.basename(dataDir)} (${catalog.models.length} models)\n`,
    );
    const bar = progressBar(io);
    const run = await runTrustSuite({
      items: suite,
      catalog,
      engines,
      onProgress: (done, total) => bar({ done, total, engine: 'trust', itemId: '' }),
    });
    const out =
      values.out === path.join(repoRoot, 'reports/bench-report.json')
        ? path.join(repoRoot, 'reports/trust-report.json')
        : values.out;
    mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    writeFileSync(out, JSON.stringify(run, null, 2) + '\n');
    io.stdout(`\n${trustTable(run.summaries)}\n\n`);
    for (const c of run.checks.filter((x) => !x.holds && x.applicable))
      io.stdout(`- ${c.engine} ${c.id}: ${c.failures.join('; ')}\n`);
    const skipped = run.checks.filter((c) => !c.applicable).map((c) => c.id);
    if (skipped.length > 0)
      io.stdout(
        `\nNot applicable to this catalog (the named model is not in it): ${[...new Set(skipped)].join(', ')}\n`,
      );
    io.stdout(`\nreport with every plan: ${path.relative(process.cwd(), path.resolve(out))}\n`);
    return;
  }
  const allItems = loadBenchItems(itemsText, itemsFile);
  const items = limit === undefined ? allItems : allItems.slice(0, limit);
  io.stderr(
    `bench: ${catalog.models.length} models, ${catalog.demonstrations.length} demonstrations, ${items.length} of ${allItems.length} items (${((performance.now() - t0) / 1000).toFixed(1)}s to load)\n`,
  );

  const engines = await buildBenchEngines(engineNames, catalog, inputs);
  for (const e of engines) {
    io.stderr(`bench: engine ${e.engine.name} ready in ${(e.setupMs / 1000).toFixed(2)}s\n`);
    const stages = e.engine.stageEngines;
    if (stages)
      io.stderr(
        `bench: ${e.engine.name}: stage 1 by ${stages.prompt}; stage 2 by ${stages.model}; stage 3 by ${stages.arguments}\n`,
      );
  }

  let bert: BertScorer | undefined;
  if (values.bert !== undefined) {
    const dir = path.resolve(values.bert);
    const embedder = await loadBertEmbedder({
      localModelPath: path.dirname(dir),
      modelId: path.basename(dir),
      device: 'cpu',
    });
    bert = await BertScorer.create(
      embedder,
      items.map((i) => i.gold.prompt),
      { idf: values['bert-idf'] },
    );
    io.stderr(`bench: BERTScore with ${embedder.name}${values['bert-idf'] ? ' (idf-weighted)' : ''}\n`);
  }

  const started = performance.now();
  const result = await runBench({
    items,
    itemsFile: path.relative(repoRoot, itemsFile) || itemsFile,
    catalog,
    engines,
    ...(bert ? { bert } : {}),
    onProgress: progressBar(io),
  });
  const seconds = (performance.now() - started) / 1000;

  let images: ImageEvaluation | null = null;
  if (values.images !== undefined && values.scorers !== undefined) {
    const imagesStarted = performance.now();
    const { sets, skipped } = await readEngineImages(
      path.resolve(values.images),
      engineNames,
      new Set(items.map((i) => i.id)),
    );
    for (const [engine, count] of Object.entries(skipped)) {
      if (count > 0) io.stderr(`bench: ${engine}: ${count} image(s) not named by an item id of this run; not scored\n`);
    }
    const packs = await openScorerPacks(path.resolve(values.scorers));
    const reference = values.reference === undefined ? null : await readReferenceImages(path.resolve(values.reference));
    images = await evaluateImages({ items, sets, packs, reference });
    await Promise.all(packs.map((p) => p.unload()));
    attachImageEvaluation(result.report, images);
    io.stderr(`bench: images scored in ${((performance.now() - imagesStarted) / 1000).toFixed(1)}s\n`);
  }

  for (const file of [values.out, values.predictions]) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(values.out, JSON.stringify(result.report, null, 2) + '\n');
  writeFileSync(values.predictions, result.predictions.map((p) => JSON.stringify(p)).join('\n') + '\n');

  const failed = result.scores.filter((s) => s.failed).length;
  io.stdout(`\n${metricsTable(result.report)}\n\nPer-argument exact match:\n\n${perArgumentTable(result.report)}\n\n`);
  if (images) {
    io.stdout(`Image-level evaluation:\n\n${imageTable(images)}\n\n${images.unified.explanation}\n`);
    for (const [engine, m] of Object.entries(images.engines)) {
      for (const note of m.fid_notes) io.stdout(`FID note (${engine}): ${note}\n`);
    }
    io.stdout('\n');
  }
  io.stdout(
    `${result.predictions.length} predictions in ${seconds.toFixed(1)}s${failed > 0 ? `, ${failed} failed (see "error" in the predictions file)` : ''}; ` +
      `report: ${path.relative(process.cwd(), path.resolve(values.out))}, predictions: ${path.relative(process.cwd(), path.resolve(values.predictions))}\n`,
  );
}

// Run as a script (not imported by a test): the process's own streams and exit code.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(import.meta.filename)) {
  const code = await benchCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    isTTY: process.stderr.isTTY,
  });
  if (code !== 0) process.exit(code);
}
