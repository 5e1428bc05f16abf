/**
 * The trust suite: requests written for this project, each with what a plan must do to be one a person can
 * use (leave out what they negated, follow their refinements, keep their phrases, give a plain request a
 * general checkpoint, give a named model to a request that names it, follow shape words). Every plan is
 * also checked for what must never happen: a real person's likeness nobody named, an SDXL model off its
 * native sizes, a LoRA without its base checkpoint; and the content words it added that the person never
 * wrote (style, quality, lighting, camera and medium vocabulary and the model's trigger words aside).
 *
 * The checks read the catalog's tags and names directly, not the engine's own classification.
 */
import type { Catalog, CatalogModel } from '../catalog/types.ts';
import type { Engine } from '../engines/engine.ts';
import { runPipeline, type PlanResult } from '../pipeline.ts';
import { isNativeSize, orientationOf } from '../request/shape.ts';
import { findWords, phraseWords, stemWord, tokenize } from '../request/tokens.ts';
import { STYLE_WORDS, type Orientation } from '../request/vocabulary.ts';
import { contentWords } from '../text.ts';
import { asRecord } from '../endpoints/http.ts';

export const TRUST_CATEGORIES = ['negation', 'refinement', 'phrases', 'plain', 'named', 'shape'] as const;
export type TrustCategory = (typeof TRUST_CATEGORIES)[number];

export interface TrustExpectation {
  /** Words that must not be in the prompt. */
  absent?: string[];
  /** Words that must be in the negative prompt. */
  negative?: string[];
  /** Words that must not be in the negative prompt (left out once, then asked for again). */
  notNegative?: string[];
  /** Words that must be in the prompt. */
  present?: string[];
  /** Phrases that must stand in the prompt exactly (case aside). */
  phrases?: string[];
  /** A general checkpoint: no LoRA, no character or person model. */
  general?: boolean;
  /** The chosen checkpoint's style. */
  style?: 'photo' | 'anime' | 'art';
  /** A word the chosen model's name must contain (when some catalog model's name does). */
  model?: string;
  orientation?: Orientation;
}

export interface TrustItem {
  id: string;
  category: TrustCategory;
  messages: string[];
  expect: TrustExpectation;
}

export class TrustSuiteError extends Error {
  override name = 'TrustSuiteError';
}

const stringList = (v: unknown, where: string): string[] => {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new TrustSuiteError(`${where}: expected a list of strings`);
  return v;
};

/** Reads a trust suite (JSONL); every line is checked and a bad one is named with its line number. */
export function parseTrustSuite(text: string, file = 'suite'): TrustItem[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), where: `${file}:${i + 1}` }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, where }) => {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new TrustSuiteError(`${where}: not JSON (${(e as Error).message})`);
      }
      const o = asRecord(raw);
      if (!o) throw new TrustSuiteError(`${where}: expected an object`);
      const category = o['category'];
      if (typeof o['id'] !== 'string' || !TRUST_CATEGORIES.includes(category as TrustCategory)) {
        throw new TrustSuiteError(`${where}: needs an "id" and a "category" (one of ${TRUST_CATEGORIES.join(', ')})`);
      }
      const e = asRecord(o['expect']);
      if (!e) throw new TrustSuiteError(`${where}: "expect" must be an object`);
      const expect: TrustExpectation = {};
      for (const key of ['absent', 'negative', 'notNegative', 'present', 'phrases'] as const)
        if (e[key] !== undefined) expect[key] = stringList(e[key], `${where} expect.${key}`);
      if (e['general'] !== undefined) expect.general = e['general'] === true;
      if (e['style'] === 'photo' || e['style'] === 'anime' || e['style'] === 'art') expect.style = e['style'];
      if (typeof e['model'] === 'string') expect.model = e['model'];
      if (e['orientation'] === 'landscape' || e['orientation'] === 'portrait' || e['orientation'] === 'square')
        expect.orientation = e['orientation'];
      return {
        id: o['id'],
        category: category as TrustCategory,
        messages: stringList(o['messages'], `${where} messages`),
        expect,
      };
    });
}

const PERSON_TAGS = [
  'celebrity',
  'celeb',
  'real person',
  'actress',
  'actor',
  'kpop idol',
  'k-pop idol',
  'idol',
  'singer',
  'politician',
  'youtuber',
  'streamer',
  'cosplayer',
  'instagram model',
  'pornstar',
  'influencer',
  'athlete',
];
const CHARACTER_TAGS = [
  'character',
  'game character',
  'anime character',
  'vtuber',
  'virtual youtuber',
  'characters',
  'video game character',
];
const STYLE_TAGS = {
  photo: ['photorealistic', 'realistic', 'photorealism', 'photography', 'photo', 'realism', 'photoreal', 'analog'],
  anime: ['anime', 'manga', '2d', 'cartoon', 'toon', 'comics', 'anime style'],
  art: [
    'art style',
    'illustration',
    'painting',
    'paintings',
    'digital art',
    'digital illustration',
    'concept art',
    'fantasy',
    'artistic',
    'oil painting',
    'watercolor',
    'art',
    'artstyle',
    '2.5d',
    'semi-realistic',
    'landscapes',
  ],
} as const;

const tagsOf = (m: CatalogModel) => m.tags.map((t) => t.toLowerCase().trim());
const isPerson = (m: CatalogModel) =>
  tagsOf(m).some((t) => PERSON_TAGS.includes(t) || (m.type !== 'Checkpoint' && t === 'person'));
const hasWords = (text: string, term: string) => findWords(tokenize(text), phraseWords(term)) >= 0;

export interface TrustCheck {
  id: string;
  category: TrustCategory;
  engine: string;
  holds: boolean;
  /** What failed, in words. */
  failures: string[];
  /** Content words of the prompt the person never wrote (not style vocabulary or trigger words). */
  added: string[];
  personUnnamed: boolean;
  sdxlOffNative: boolean;
  loraWithoutBase: boolean;
  /** False when the item's check could not apply to this catalog (its named model is not in it). */
  applicable: boolean;
}

export function checkTrustPlan(item: TrustItem, result: PlanResult, catalog: Catalog): TrustCheck {
  const { plan } = result;
  const model = catalog.models.find((m) => m.id === plan.model.id);
  const base = plan.base_checkpoint ? catalog.models.find((m) => m.id === plan.base_checkpoint!.id) : undefined;
  const requestText = item.messages.join('\n');
  const failures: string[] = [];
  const e = item.expect;
  let applicable = true;
  for (const w of e.absent ?? []) if (hasWords(plan.prompt, w)) failures.push(`"${w}" is in the prompt`);
  for (const w of e.negative ?? [])
    if (!hasWords(plan.negative_prompt, w)) failures.push(`"${w}" is not in the negative prompt`);
  for (const w of e.notNegative ?? [])
    if (hasWords(plan.negative_prompt, w)) failures.push(`"${w}" is still in the negative prompt`);
  for (const w of e.present ?? []) if (!hasWords(plan.prompt, w)) failures.push(`"${w}" is missing from the prompt`);
  for (const p of e.phrases ?? [])
    if (!plan.prompt.toLowerCase().includes(p.toLowerCase())) failures.push(`the phrase "${p}" is not in the prompt`);
  if (e.general) {
    if (plan.model.type !== 'Checkpoint')
      failures.push(`a ${plan.model.type} (${plan.model.name}) instead of a general checkpoint`);
    else if (
      model &&
      (isPerson(model) ||
        tagsOf(model).some(
          (t) => CHARACTER_TAGS.includes(t) && !tagsOf(model).includes('base model') && model.type !== 'Checkpoint',
        ))
    )
      failures.push(`${model.name} is a person or character model`);
  }
  if (e.style && model) {
    const styleOf = (m: CatalogModel) =>
      tagsOf(m).some((t) => (STYLE_TAGS[e.style!] as readonly string[]).includes(t)) ||
      (STYLE_TAGS[e.style!] as readonly string[]).some((s) => !s.includes(' ') && m.name.toLowerCase().includes(s));
    if (!styleOf(model) && !(base && styleOf(base))) failures.push(`${model.name} is not a ${e.style} model`);
  }
  if (e.model) {
    const word = e.model.toLowerCase();
    if (!catalog.models.some((m) => m.name.toLowerCase().includes(word))) applicable = false;
    else if (
      !plan.model.name.toLowerCase().includes(word) &&
      !(plan.base_checkpoint?.name.toLowerCase().includes(word) ?? false)
    )
      failures.push(`${plan.model.name} is not the "${e.model}" model asked for`);
  }
  if (e.orientation) {
    const got = orientationOf(plan.arguments.width, plan.arguments.height);
    if (got !== e.orientation)
      failures.push(`${plan.arguments.width}×${plan.arguments.height} is ${got}, not ${e.orientation}`);
  }

  // What must never happen, whatever the category.
  const named = (m: CatalogModel) => {
    const first = m.name.split(/[|()[\]/,\-–—]+/)[0] ?? m.name;
    const words = contentWords(first).filter((w) => !['lora', 'locon', 'model', 'v1', 'v2'].includes(w));
    return words.length > 0 && words.every((w) => hasWords(requestText, w));
  };
  const personUnnamed = [model, base].some((m) => m !== undefined && isPerson(m) && !named(m));
  if (personUnnamed) failures.push("a real person's likeness nobody named");
  const sdxl = /xl|pony/i.test(plan.model.base_model);
  const sdxlOffNative = sdxl && !isNativeSize('sdxl', plan.arguments.width, plan.arguments.height);
  if (sdxlOffNative) failures.push(`SDXL model at ${plan.arguments.width}×${plan.arguments.height}, not a native size`);
  const loraWithoutBase = plan.model.type === 'LORA' && !plan.base_checkpoint;
  if (loraWithoutBase) failures.push('a LoRA plan without its base checkpoint');

  const asked = new Set(contentWords(requestText).map(stemWord));
  const triggers = new Set(contentWords(plan.model.trained_words.join(' ')).map(stemWord));
  const added = [...new Set(contentWords(plan.prompt))].filter(
    (w) => !asked.has(stemWord(w)) && !STYLE_WORDS.has(w) && !triggers.has(stemWord(w)) && !/^\d+(k|mm|s)?$/.test(w),
  );

  return {
    id: item.id,
    category: item.category,
    engine: result.engine.name,
    holds: applicable && failures.length === 0,
    failures,
    added,
    personUnnamed,
    sdxlOffNative,
    loraWithoutBase,
    applicable,
  };
}

export interface TrustSummary {
  engine: string;
  byCategory: Record<TrustCategory, { n: number; held: number }>;
  plans: number;
  personUnnamed: number;
  sdxlPlans: number;
  sdxlOffNative: number;
  loraPlans: number;
  loraWithoutBase: number;
  /** Mean content words per prompt the person never wrote. */
  addedPerPlan: number;
}

export function summariseTrust(
  engine: string,
  checks: readonly TrustCheck[],
  plans: readonly PlanResult[],
): TrustSummary {
  const byCategory = Object.fromEntries(
    TRUST_CATEGORIES.map((c) => [c, { n: 0, held: 0 }]),
  ) as TrustSummary['byCategory'];
  for (const c of checks) {
    if (!c.applicable) continue;
    byCategory[c.category].n++;
    if (c.holds) byCategory[c.category].held++;
  }
  return {
    engine,
    byCategory,
    plans: checks.length,
    personUnnamed: checks.filter((c) => c.personUnnamed).length,
    sdxlPlans: plans.filter((p) => /xl|pony/i.test(p.plan.model.base_model)).length,
    sdxlOffNative: checks.filter((c) => c.sdxlOffNative).length,
    loraPlans: plans.filter((p) => p.plan.model.type === 'LORA').length,
    loraWithoutBase: checks.filter((c) => c.loraWithoutBase).length,
    addedPerPlan: checks.reduce((s, c) => s + c.added.length, 0) / Math.max(1, checks.length),
  };
}

const share = (held: number, n: number) => (n === 0 ? '–' : `${(held / n).toFixed(2)} (${held}/${n})`);

/** One Markdown table: per category the share of plans that hold, then the never-ever counts. */
export function trustTable(summaries: readonly TrustSummary[]): string {
  const header = [
    'Engine',
    ...TRUST_CATEGORIES,
    'unnamed likeness',
    'SDXL off native',
    'LoRA without base',
    'added words / plan',
  ];
  const rows = summaries.map((s) => [
    s.engine,
    ...TRUST_CATEGORIES.map((c) => share(s.byCategory[c].held, s.byCategory[c].n)),
    `${s.personUnnamed}/${s.plans}`,
    `${s.sdxlOffNative}/${s.sdxlPlans}`,
    `${s.loraWithoutBase}/${s.loraPlans}`,
    s.addedPerPlan.toFixed(2),
  ]);
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

export interface TrustRun {
  summaries: TrustSummary[];
  checks: TrustCheck[];
  /** Each plan, for the report: request, prompt, negative prompt, model, base checkpoint, size. */
  plans: {
    id: string;
    engine: string;
    messages: string[];
    prompt: string;
    negative_prompt: string;
    model: string;
    base_checkpoint: string | null;
    size: string;
  }[];
}

/** Plans every item with every engine through the real pipeline and checks each plan. */
export async function runTrustSuite(options: {
  items: readonly TrustItem[];
  catalog: Catalog;
  engines: readonly { engine: Engine }[];
  onProgress?: (done: number, total: number) => void;
}): Promise<TrustRun> {
  const checks: TrustCheck[] = [];
  const plansOut: TrustRun['plans'] = [];
  const summaries: TrustSummary[] = [];
  let done = 0;
  for (const { engine } of options.engines) {
    const engineChecks: TrustCheck[] = [];
    const results: PlanResult[] = [];
    for (const item of options.items) {
      const result = await runPipeline(engine, { messages: item.messages, images: [] });
      results.push(result);
      engineChecks.push(checkTrustPlan(item, result, options.catalog));
      const p = result.plan;
      plansOut.push({
        id: item.id,
        engine: engine.name,
        messages: item.messages,
        prompt: p.prompt,
        negative_prompt: p.negative_prompt,
        model: `${p.model.name} (${p.model.type}, ${p.model.base_model})`,
        base_checkpoint: p.base_checkpoint?.name ?? null,
        size: `${p.arguments.width}×${p.arguments.height}`,
      });
      options.onProgress?.(++done, options.items.length * options.engines.length);
    }
    checks.push(...engineChecks);
    summaries.push(summariseTrust(engine.name, engineChecks, results));
  }
  return { summaries, checks, plans: plansOut };
}
