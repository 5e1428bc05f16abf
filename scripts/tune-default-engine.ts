/**
 * Tunes the default engine on the TRAIN part only (demonstrations.jsonl), never on test items.
 *
 * Pseudo items (scripts/lib/pseudo-queries.ts): for a fixed-seed sample of models with 2+
 * demonstrations one demonstration is held out, the engine is built without it, and its prompt,
 * casualised the way the test items were written, stands in for a chat. Prints selection, top-5,
 * config (per argument), prompt F1, input coverage and latency for each option set given. `--seed`
 * picks another sample: tune on one seed, confirm on another.
 *
 *   npx tsx scripts/tune-default-engine.ts [--data DIR] [--n 400] [--seed 20231128] ['{"select":{"rerank":false}}' ...]
 *   npx tsx scripts/tune-default-engine.ts --items DIR/dev.jsonl   # report only: the real items, full train set
 *   npx tsx scripts/tune-default-engine.ts --gold-prompt   # a ceiling: each pseudo item's professional prompt
 *                                                          # itself as the chat, nothing lost in a casual rewrite
 */
import { readFileSync } from 'node:fs';
import {
  createDefaultEngine,
  DEFAULT_ENGINE_OPTIONS,
  type DefaultEngineOptions,
} from '../src/core/engines/default/index.ts';
import {
  DEFAULT_DATA_DIR,
  formatScores,
  loadTrainCatalog,
  pseudoItems,
  scoreEngine,
  type PseudoItem,
} from './lib/pseudo-queries.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  if (i === -1) return dflt;
  const v = argv[i + 1] ?? dflt;
  argv.splice(i, 2);
  return v;
};
const dataDir = flag('--data', DEFAULT_DATA_DIR);
const sampleSize = Number(flag('--n', '400'));
const seed = Number(flag('--seed', '20231128'));
const itemsFile = flag('--items', '');
const goldPromptIndex = argv.indexOf('--gold-prompt');
if (goldPromptIndex !== -1) argv.splice(goldPromptIndex, 1);
const variants =
  argv.length > 0 ? argv.map((a) => JSON.parse(a) as Partial<Record<keyof DefaultEngineOptions, object>>) : [{}];

const catalog = loadTrainCatalog(dataDir);
let { items, train } = pseudoItems(catalog, sampleSize, seed);
if (itemsFile) {
  // Report-only mode: score the given test items with the full train set (no tuning happens here).
  train = catalog;
  items = readFileSync(itemsFile, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as PseudoItem);
}

if (goldPromptIndex !== -1) items = items.map((item) => ({ ...item, messages: [item.gold.prompt] }));

for (const variant of variants) {
  const merged = Object.fromEntries(
    Object.entries(DEFAULT_ENGINE_OPTIONS).map(([k, v]) => [
      k,
      { ...v, ...((variant as Record<string, object>)[k] ?? {}) },
    ]),
  ) as unknown as DefaultEngineOptions;
  const started = performance.now();
  const engine = createDefaultEngine(train, merged);
  const built = performance.now() - started;
  const scores = await scoreEngine(engine, items);
  console.log(JSON.stringify(variant), formatScores(scores), `build=${built.toFixed(0)}ms`);
}
