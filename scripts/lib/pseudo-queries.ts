/**
 * Pseudo test items from the TRAIN part only (demonstrations.jsonl), for tuning and training the
 * default engine without ever touching the test items.
 *
 * The test items were written by role-play from held-out records: an everyday persona turned the
 * professional prompt and the model into a casual request, dropped quality tags, weights and syntax.
 * `casualise` imitates that with fixed rules and a seeded random source: it keeps the prompt's content
 * tags (fewer of them, the first ones most often), rewrites booru shorthand ("1girl") the way people
 * say it, sometimes names the model's style or the model itself, wraps the result in a chatty opening,
 * and splits a quarter of the requests over 2-3 turns.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog, CatalogModel, Demonstration, DemonstrationArguments } from '../../src/core/catalog/types.ts';
import type { Engine } from '../../src/core/engines/engine.ts';
import { argumentMatches, SCORED_ARGUMENTS } from '../../src/core/metrics/config.ts';
import { summariseLatency } from '../../src/core/metrics/latency.ts';
import { inputCoverage, unigramF1 } from '../../src/core/metrics/prompt.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { promptTags } from '../../src/core/retrieval/terms.ts';

export const DEFAULT_DATA_DIR = path.resolve(import.meta.dirname, '../../../shared/data/civitai-2023');

export function loadTrainCatalog(dataDir: string): Catalog {
  return loadCatalog(
    {
      catalog: { file: 'catalog.jsonl', text: readFileSync(path.join(dataDir, 'catalog.jsonl'), 'utf8') },
      demonstrations: {
        file: 'demonstrations.jsonl',
        text: readFileSync(path.join(dataDir, 'demonstrations.jsonl'), 'utf8'),
      },
    },
    'civitai-2023',
  ).catalog;
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Professional clutter a persona drops: quality boilerplate, camera and render jargon. */
const BOILERPLATE =
  /\b(masterpiece|quality|detailed|details?|8k|4k|uhd|hdr|absurdres|highres|resolution|best|ultra|intricate|sharp|focus|trending|artstation|octane|unreal|raw|film grain|dslr|photorealistic|realistic|realism|hyper|award|professional|cinematic|lighting|official art|wallpaper|extremely|beautiful|perfect|depth of field|bokeh|lens|\d+mm|f\/?\d|canon|nikon|sony|fujifilm|rtx|ray tracing|volumetric|studio|render|unity|cg|photograph|photo|analog|kodak|portra|solo|looking at viewer|simple background|score_\d|rating|easynegative|lora)\b/i;

/** Booru shorthand said the way people say it. */
const SPOKEN: [RegExp, string][] = [
  [/\b1girl\b/g, 'a girl'],
  [/\b1boy\b/g, 'a guy'],
  [/\b2girls\b/g, 'two girls'],
  [/\b2boys\b/g, 'two guys'],
  [/\b1other\b/g, 'a creature'],
  [/\bmulti(ple)? girls\b/g, 'some girls'],
  [/_/g, ' '],
];

const OPENINGS = [
  'can you make me a pic of',
  'hey, could u draw',
  'i want a picture of',
  'yo make',
  'i need an image of',
  'please generate',
  "i'd love to see",
  'draw me',
  '',
  'so basically',
];
const CLOSINGS = ['', '', '', ' pls', ' thanks!', ', that would be awesome', ' lol', ', for my wallpaper'];
const FOLLOW_UPS = ['also add', 'oh and', 'can you make it', 'and i want', 'plus', 'actually also'];

/** Model tags that say nothing about the look (kept out of style hints). */
const NON_STYLE_TAGS = new Set([
  'character',
  'woman',
  'man',
  'girl',
  'boy',
  'person',
  'people',
  'female',
  'male',
  'clothing',
  'concept',
  'sexy',
  'celebrity',
  'base model',
  'tool',
  'lora',
  'checkpoint',
  'style',
]);

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)]!;
}

/** The model's name as a person might drop it: version and file-kind words removed. */
function spokenModelName(model: CatalogModel): string {
  return model.name
    .replace(/\b(v|ver|version)\s*\d+(\.\d+)*\w*\b/gi, '')
    .replace(/\b(lora|locon|lycoris|loha|ckpt|safetensors|fp16|pruned|sd\s?1\.5|sdxl)\b/gi, '')
    .replace(/[|[\](){}_]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** One casual request (1-3 messages) standing in for the professional prompt of `demo`. */
export interface CasualiseOptions {
  /** Chance that a content tag after the first two is left out. */
  tagDrop: number;
  /** Chance that a word of a kept tag is lost in the paraphrase. */
  wordDrop: number;
  /** The same for odd tokens: digits, vowel-less or very long words (trigger words, codes). */
  oddWordDrop: number;
}

export const DEFAULT_CASUALISE: CasualiseOptions = { tagDrop: 0.2, wordDrop: 0.35, oddWordDrop: 0.55 };

export function casualise(
  demo: Demonstration,
  model: CatalogModel | undefined,
  random: () => number,
  options: CasualiseOptions = DEFAULT_CASUALISE,
): string[] {
  let tags = promptTags(demo.prompt).filter((t) => !BOILERPLATE.test(t) && /[a-z]/i.test(t));
  tags = tags.map((t) => SPOKEN.reduce((s, [re, to]) => s.replace(re, to), t).trim()).filter((t) => t.length > 0);
  // People keep the subject (the first tags) and a few details, not the whole list.
  // The persona keeps most of the content (the README: only "a few golds carry details their message
  // leaves out") but says it in its own words: each word survives a paraphrase with some chance, and
  // odd tokens (trigger words, codes) are often dropped as clutter.
  tags = tags.filter((_, i) => i < 2 || random() > options.tagDrop).slice(0, 12);
  tags = tags
    .map((t) =>
      t
        .split(' ')
        .filter((w) => random() > (/\d|^[^aeiou]{5,}$|[a-z]{14,}/i.test(w) ? options.oddWordDrop : options.wordDrop))
        .join(' '),
    )
    .filter((t) => /[a-z]/i.test(t));
  if (model) {
    const hint = random();
    if (hint < 0.3) {
      const styleTags = model.tags.filter((t) => !NON_STYLE_TAGS.has(t.toLowerCase()));
      if (styleTags.length > 0) tags.push(`${pick(random, styleTags)} style`);
    } else if (hint < 0.35) {
      const name = spokenModelName(model);
      if (name.length > 0) tags.push(`like the ${name} ${model.type === 'LORA' ? 'look' : 'model'}`);
    }
  }
  if (tags.length === 0) return [];
  const opening = pick(random, OPENINGS);
  const closing = pick(random, CLOSINGS);
  if (tags.length >= 4 && random() < 0.25) {
    const turns = 2 + Math.floor(random() * 2);
    const per = Math.ceil(tags.length / turns);
    const messages: string[] = [];
    for (let i = 0; i < tags.length; i += per) {
      const part = tags.slice(i, i + per).join(', ');
      messages.push(i === 0 ? `${opening} ${part}`.trim() : `${pick(random, FOLLOW_UPS)} ${part}`);
    }
    return messages;
  }
  const body = tags.length > 1 ? `${tags.slice(0, -1).join(', ')} and ${tags.at(-1)}` : tags[0]!;
  return [`${opening} ${body}${closing}`.trim()];
}

/** The gold prompt as the test items give it: the human prompt with `<lora:...>` tags removed. */
export function goldPrompt(prompt: string): string {
  return prompt
    .replace(/<[^<>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export interface PseudoItem {
  messages: string[];
  setting: 'supervised' | 'few-shot';
  gold: { model_id: number; image_id: number; prompt: string; arguments: DemonstrationArguments };
}

export interface PseudoSet {
  items: PseudoItem[];
  /** The catalog with the held-out demonstrations removed (what the engine may see). */
  train: Catalog;
}

/**
 * `n` pseudo items: a fixed-seed sample of models with 2+ demonstrations, one demonstration of each
 * held out (and removed from the returned catalog), casualised into a request.
 */
export function pseudoItems(catalog: Catalog, n: number, seed: number): PseudoSet {
  const random = rng(seed);
  const models = new Map(catalog.models.map((m) => [m.id, m]));
  const byModel = new Map<number, Demonstration[]>();
  for (const d of catalog.demonstrations) {
    const list = byModel.get(d.model_id);
    if (list) list.push(d);
    else byModel.set(d.model_id, [d]);
  }
  const eligible = [...byModel.values()].filter((ds) => ds.length >= 2);
  const heldOut = new Set<Demonstration>();
  const items: PseudoItem[] = [];
  while (items.length < n && eligible.length > 0) {
    const ds = eligible.splice(Math.floor(random() * eligible.length), 1)[0]!;
    const demo = ds[Math.floor(random() * ds.length)]!;
    const messages = casualise(demo, models.get(demo.model_id), random);
    if (messages.join(' ').split(/\s+/).length < 3) continue;
    heldOut.add(demo);
    items.push({
      messages,
      setting: ds.length - 1 >= 3 ? 'supervised' : 'few-shot',
      gold: {
        model_id: demo.model_id,
        image_id: demo.image_id,
        prompt: goldPrompt(demo.prompt),
        arguments: demo.arguments,
      },
    });
  }
  return { items, train: { ...catalog, demonstrations: catalog.demonstrations.filter((d) => !heldOut.has(d)) } };
}

export interface HarnessScores {
  n: number;
  selection: number;
  top5: number;
  config: number;
  perArgument: Record<(typeof SCORED_ARGUMENTS)[number], number>;
  promptF1: number;
  coverage: number;
  p50: number;
  p95: number;
}

export async function scoreEngine(engine: Engine, items: readonly PseudoItem[]): Promise<HarnessScores> {
  let selected = 0;
  let inTop5 = 0;
  let f1 = 0;
  let coverage = 0;
  const hits = Object.fromEntries(SCORED_ARGUMENTS.map((a) => [a, 0])) as Record<
    (typeof SCORED_ARGUMENTS)[number],
    number
  >;
  const latencies: number[] = [];
  for (const item of items) {
    const started = performance.now();
    const result = await runPipeline(engine, { messages: item.messages, images: [] });
    latencies.push(performance.now() - started);
    if (result.plan.model.id === item.gold.model_id) selected++;
    if (result.model.evidence.candidates.some((c) => c.model_id === item.gold.model_id)) inTop5++;
    const matches = argumentMatches(result.plan.arguments, item.gold.arguments);
    for (const a of SCORED_ARGUMENTS) if (matches[a]) hits[a]++;
    f1 += unigramF1(result.plan.prompt, item.gold.prompt).f1;
    coverage += inputCoverage(item.messages, result.plan.prompt).coverage;
  }
  const n = items.length;
  const perArgument = Object.fromEntries(SCORED_ARGUMENTS.map((a) => [a, hits[a] / n])) as HarnessScores['perArgument'];
  const latency = summariseLatency(latencies);
  return {
    n,
    selection: selected / n,
    top5: inTop5 / n,
    config: Object.values(perArgument).reduce((a, b) => a + b, 0) / SCORED_ARGUMENTS.length,
    perArgument,
    promptF1: f1 / n,
    coverage: coverage / n,
    p50: latency.p50 ?? 0,
    p95: latency.p95 ?? 0,
  };
}

export function formatScores(s: HarnessScores): string {
  const f = (x: number) => x.toFixed(3);
  return (
    `n=${s.n} selection=${f(s.selection)} top5=${f(s.top5)} config=${f(s.config)} ` +
    SCORED_ARGUMENTS.map((a) => `${a}=${s.perArgument[a].toFixed(2)}`).join(' ') +
    ` promptF1=${f(s.promptF1)} coverage=${f(s.coverage)} p50=${s.p50.toFixed(1)}ms p95=${s.p95.toFixed(1)}ms`
  );
}
