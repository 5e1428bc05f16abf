/**
 * Tunes the default engine on the TRAIN part only (demonstrations.jsonl), never on test items.
 *
 * For a fixed-seed sample of models with 2+ demonstrations, one demonstration is held out and the
 * engine is built without it; its prompt, stripped of A1111 syntax and quality boilerplate, stands in
 * for a casual request (the test items were written the same way, from a held-out record). Prints
 * selection and config accuracy for each option set given.
 *
 *   npx tsx scripts/tune-default-engine.ts [--data DIR] [--n 400] ['{"select":{"demoMax":0.8}}' ...]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../src/core/catalog/load.ts';
import type { Catalog, Demonstration } from '../src/core/catalog/types.ts';
import { createDefaultEngine, DEFAULT_ENGINE_OPTIONS, type DefaultEngineOptions } from '../src/core/engines/default/index.ts';
import { runPipeline } from '../src/core/pipeline.ts';
import { promptTags } from '../src/core/retrieval/terms.ts';

const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  if (i === -1) return dflt;
  const v = argv[i + 1] ?? dflt;
  argv.splice(i, 2);
  return v;
};
const dataDir = flag('--data', path.resolve(import.meta.dirname, '../../shared/data/civitai-2023'));
const sampleSize = Number(flag('--n', '400'));
const itemsFile = flag('--items', '');
const variants = argv.length > 0 ? argv.map((a) => JSON.parse(a) as Partial<Record<keyof DefaultEngineOptions, object>>) : [{}];

const BOILERPLATE = /\b(masterpiece|quality|detailed|detail|8k|4k|uhd|hdr|absurdres|highres|resolution|best|ultra|intricate|sharp focus|trending|artstation|octane|unreal|raw photo|film grain|dslr|photorealistic|realistic|hyper|award|professional|cinematic|lighting|illustration|official art|wallpaper|extremely|beautiful|perfect)\b/i;

/** A casual stand-in for a prompt: its content tags without syntax or quality boilerplate. */
function casualise(prompt: string): string {
  return promptTags(prompt)
    .filter((t) => !BOILERPLATE.test(t))
    .join(', ');
}

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(path.join(dataDir, 'catalog.jsonl'), 'utf8') },
    demonstrations: { file: 'demonstrations.jsonl', text: readFileSync(path.join(dataDir, 'demonstrations.jsonl'), 'utf8') },
  },
  'civitai-2023',
);

const random = rng(20231128);
const byModel = new Map<number, Demonstration[]>();
for (const d of catalog.demonstrations) byModel.set(d.model_id, [...(byModel.get(d.model_id) ?? []), d]);
const eligible = [...byModel.entries()].filter(([, ds]) => ds.length >= 2);
const heldOut = new Set<Demonstration>();
const queries: { demo: Demonstration; text: string; setting: string }[] = [];
while (queries.length < sampleSize && eligible.length > 0) {
  const [, ds] = eligible.splice(Math.floor(random() * eligible.length), 1)[0]!;
  const demo = ds[Math.floor(random() * ds.length)]!;
  const text = casualise(demo.prompt);
  if (text.split(/\s+/).length < 3) continue;
  heldOut.add(demo);
  queries.push({ demo, text, setting: ds.length - 1 >= 3 ? 'supervised' : 'few-shot' });
}
let trainCatalog: Catalog = { ...catalog, demonstrations: catalog.demonstrations.filter((d) => !heldOut.has(d)) };
if (itemsFile) {
  // Report-only mode: score the given test items with the full train set (no tuning happens here).
  trainCatalog = catalog;
  queries.length = 0;
  for (const line of readFileSync(itemsFile, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const item = JSON.parse(line) as { messages: string[]; setting: string; gold: { model_id: number; prompt: string; arguments: Demonstration['arguments'] } };
    queries.push({
      demo: { image_id: 0, model_id: item.gold.model_id, prompt: item.gold.prompt, negative_prompt: '', arguments: item.gold.arguments },
      text: item.messages.join('\n'),
      setting: item.setting,
    });
  }
}

for (const variant of variants) {
  const merged = Object.fromEntries(
    Object.entries(DEFAULT_ENGINE_OPTIONS).map(([k, v]) => [k, { ...v, ...((variant as Record<string, object>)[k] ?? {}) }]),
  ) as unknown as DefaultEngineOptions;
  const started = performance.now();
  const engine = createDefaultEngine(trainCatalog, merged);
  const built = performance.now() - started;
  let selected = 0;
  const argHits = { sampler: 0, steps: 0, cfg_scale: 0, width: 0, height: 0 };
  for (const q of queries) {
    const result = await runPipeline(engine, { messages: q.text.split('\n'), images: [] });
    if (result.plan.model.id === q.demo.model_id) selected++;
    for (const k of Object.keys(argHits) as (keyof typeof argHits)[]) {
      if (String(result.plan.arguments[k]) === String(q.demo.arguments[k])) argHits[k]++;
    }
  }
  const n = queries.length;
  const config = Object.values(argHits).reduce((a, b) => a + b, 0) / (5 * n);
  console.log(
    JSON.stringify(variant),
    `n=${n} selection=${(selected / n).toFixed(3)} config=${config.toFixed(3)}`,
    Object.entries(argHits).map(([k, v]) => `${k}=${(v / n).toFixed(2)}`).join(' '),
    `build=${built.toFixed(0)}ms per-item=${((performance.now() - started - built) / n).toFixed(1)}ms`,
  );
}
