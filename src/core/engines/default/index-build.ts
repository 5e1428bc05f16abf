/**
 * The indexes the default engine builds once per catalog: BM25 over whole model documents (name,
 * tags, trigger words, description, demonstration prompts) and BM25 over single demonstrations.
 */
import type { Catalog, CatalogModel, Demonstration } from '../../catalog/types.ts';
import { Bm25Index } from '../../retrieval/bm25.ts';
import { STYLE_WORDS } from '../../request/vocabulary.ts';
import { joinedTerms, promptTags, retrievalTerms } from '../../retrieval/terms.ts';
import { words } from '../../text.ts';
import {
  GENERIC_NAME_WORDS,
  commonTagsOf,
  everydayTriggersOf,
  modelPhrases,
  modelTraits,
  namingTermsForIndex,
  sharedTriggersOf,
  type CatalogNaming,
  type ModelPhrases,
  type ModelTraits,
} from './model-traits.ts';

/** How much each field of a model counts in its document (a field repeated n times counts n times). */
export interface FieldWeights {
  name: number;
  tags: number;
  trained_words: number;
  description: number;
  demonstrations: number;
  /** BM25 saturation and length normalisation of the model documents and of the demonstrations. */
  modelK1: number;
  modelB: number;
  demoK1: number;
  demoB: number;
}

export const DEFAULT_FIELD_WEIGHTS: FieldWeights = {
  name: 3,
  tags: 1,
  trained_words: 2,
  description: 1,
  demonstrations: 1,
  modelK1: 1.2,
  modelB: 0.75,
  demoK1: 1.2,
  demoB: 0.75,
};

/** Only the opening of a description: the rest is mostly changelogs and links. */
const DESCRIPTION_WORDS = 120;

export type CatalogField = 'name' | 'tags' | 'trained_words' | 'description';

export interface CatalogIndex {
  catalog: Catalog;
  models: CatalogModel[];
  modelRow: Map<number, number>;
  /** Demonstration indices of each model row. */
  demosOfModel: number[][];
  demonstrations: Demonstration[];
  /** The model row of each demonstration. */
  demoModelRow: Int32Array;
  modelIndex: Bm25Index;
  demoIndex: Bm25Index;
  /** One small BM25 index per catalog field, so the reranker can tell a name match from a description match. */
  fieldIndex: Record<CatalogField, Bm25Index>;
  /** Model rows by the distinctive terms of their name and trigger words ("lora", "v2" and the like left out). */
  nameRows: Map<string, number[]>;
  /**
   * One-word model names ("dreamshaper") that a request written apart ("dream shaper") is joined back
   * into: terms of model names alone, leaving out those the demonstrations write apart as everyday
   * phrases ("full body", "short hair"), which would otherwise pull any request using them to that model.
   */
  joinableNames: ReadonlySet<string>;
  /** The idf mass of each model's distinctive name terms. */
  nameIdfTotal: Float32Array;
  /** log(1 + downloads) scaled to [0, 1]. */
  popularity: Float32Array;
  /** Each model's kind: person, character, NSFW-leaning, general checkpoint, styles, base family. */
  traits: ModelTraits[];
  /** What a request can name each model by. */
  phrases: ModelPhrases[];
  /** Trigger phrases shared by many models (booru vocabulary), and how many models' names use each term. */
  naming: CatalogNaming;
  /** Model rows by each term of their name, triggers and tags: the niche models a request can ask for. */
  namingRows: Map<string, number[]>;
  /** Rows of the general checkpoints. */
  generalRows: number[];
  /**
   * The style vocabulary neighbours may add to a prompt: prompt tags made only of style, quality, lighting,
   * camera and medium words (STYLE_WORDS) that the demonstrations of many models use, whatever they depict;
   * each with the number of models using it.
   */
  addableTerms: ReadonlyMap<string, number>;
  /** Checkpoint rows by AutoV2 hash, file stem and versionless name: how demonstrations name their checkpoint. */
  checkpointKeys: ReadonlyMap<string, number>;
}

/** The keys a checkpoint is found by: "hash:…", "file:…" (stem), "stem:…" (letters before the version). */
export function checkpointKeysOf(name: string, file = '', hash = ''): string[] {
  const keys: string[] = [];
  const h = hash.trim().toLowerCase();
  if (/^[0-9a-f]{8,}$/.test(h)) keys.push(`hash:${h.slice(0, 10)}`);
  const stem = file
    .replace(/\.(safetensors|ckpt|pt|bin)$/i, '')
    .trim()
    .toLowerCase();
  if (stem) keys.push(`file:${stem}`);
  for (const source of [stem, name.toLowerCase()]) {
    const versionless = source.replace(/[\s_\-.]*(v|ver|version)?\s*\d[\s\S]*$/i, '').replace(/[^a-z]/g, '');
    if (versionless.length >= 4) keys.push(`stem:${versionless}`);
  }
  return keys;
}

function checkpointKeyMap(models: readonly CatalogModel[]): Map<string, number> {
  const keys = new Map<string, number>();
  // Most downloaded first, so a shared versionless stem points to the best-known version.
  const rows = models.map((_, row) => row).filter((row) => models[row]!.type === 'Checkpoint');
  rows.sort((a, b) => models[b]!.downloads - models[a]!.downloads || a - b);
  for (const row of rows) {
    const m = models[row]!;
    for (const key of checkpointKeysOf(m.name, m.file, m.hash ?? '')) if (!keys.has(key)) keys.set(key, row);
  }
  return keys;
}

/** Style tags a catalog's demonstrations use across at least this share of its models (and 2 models). */
const ADDABLE_MIN_SHARE = 0.004;

/**
 * The prompt tags of the demonstrations that are style vocabulary used across many models, and not
 * written more often in negative prompts than in prompts ("blurry" is a defect people ask to avoid,
 * "blurry background" a look they ask for).
 */
function addableTermsOf(demonstrations: readonly Demonstration[], demoModelRow: Int32Array): Map<string, number> {
  const modelsOf = new Map<string, Set<number>>();
  const styleTag = new Map<string, boolean>();
  const modelsWithDemos = new Set<number>();
  const inNegatives = new Map<string, number>();
  const inPrompts = new Map<string, number>();
  for (const d of demonstrations) {
    for (const tag of new Set(promptTags(d.negative_prompt))) inNegatives.set(tag, (inNegatives.get(tag) ?? 0) + 1);
    for (const tag of new Set(promptTags(d.prompt))) inPrompts.set(tag, (inPrompts.get(tag) ?? 0) + 1);
  }
  const avoided = (tag: string) => (inNegatives.get(tag) ?? 0) >= (inPrompts.get(tag) ?? 0);
  demonstrations.forEach((d, i) => {
    const row = demoModelRow[i]!;
    if (row < 0) return;
    modelsWithDemos.add(row);
    for (const tag of promptTags(d.prompt)) {
      let isStyle = styleTag.get(tag);
      if (isStyle === undefined) {
        const w = words(tag);
        isStyle =
          w.length > 0 &&
          w.length <= 4 &&
          w.every((x) => STYLE_WORDS.has(x) || /^\d+(k|mm)?$/.test(x)) &&
          !avoided(tag);
        styleTag.set(tag, isStyle);
      }
      if (!isStyle) continue;
      let rows = modelsOf.get(tag);
      if (!rows) modelsOf.set(tag, (rows = new Set()));
      rows.add(row);
    }
  });
  const minModels = Math.max(2, Math.ceil(ADDABLE_MIN_SHARE * modelsWithDemos.size));
  return new Map([...modelsOf].filter(([, rows]) => rows.size >= minModels).map(([tag, rows]) => [tag, rows.size]));
}

/** How many demonstrations may write a name's words apart before it counts as an everyday phrase. */
const APART_LIMIT = 2;

/** `demoTerms`: each demonstration's prompt, already tokenised. */
function joinableNameTerms(models: readonly CatalogModel[], demoTerms: readonly (readonly string[])[]): Set<string> {
  const nameTerms = new Set(models.flatMap((m) => retrievalTerms(m.name)));
  const apart = new Map<string, number>();
  for (const terms of demoTerms) {
    for (const term of joinedTerms(terms, (t) => nameTerms.has(t))) apart.set(term, (apart.get(term) ?? 0) + 1);
  }
  return new Set([...nameTerms].filter((t) => (apart.get(t) ?? 0) <= APART_LIMIT));
}

/** No argument spreads here: a spread of a data-sized list overflows the call stack (a model with 20k demonstrations). */
function repeat<T>(items: readonly T[], times: number): T[] {
  const out: T[] = [];
  for (let i = 0; i < times; i++) for (const item of items) out.push(item);
  return out;
}

/** A model's document; `demoTerms` are its demonstrations' prompts, already tokenised. */
export function modelDocumentTerms(
  model: CatalogModel,
  demoTerms: readonly (readonly string[])[],
  weights: FieldWeights = DEFAULT_FIELD_WEIGHTS,
): string[] {
  const description = retrievalTerms(model.description).slice(0, DESCRIPTION_WORDS);
  return [
    ...repeat(retrievalTerms(model.name), weights.name),
    ...repeat(retrievalTerms(model.tags.join(', ')), weights.tags),
    ...repeat(retrievalTerms(model.trained_words.join(', ')), weights.trained_words),
    ...repeat(description, weights.description),
    ...repeat(demoTerms.flat(), weights.demonstrations),
  ];
}

export function buildCatalogIndex(catalog: Catalog, weights: FieldWeights = DEFAULT_FIELD_WEIGHTS): CatalogIndex {
  const models = catalog.models;
  const modelRow = new Map<number, number>();
  models.forEach((m, i) => modelRow.set(m.id, i));
  const demosOfModel: number[][] = models.map(() => []);
  const demoModelRow = new Int32Array(catalog.demonstrations.length);
  catalog.demonstrations.forEach((d, i) => {
    const row = modelRow.get(d.model_id) ?? -1;
    demoModelRow[i] = row;
    if (row >= 0) demosOfModel[row]!.push(i);
  });
  const demoTerms = catalog.demonstrations.map((d) => retrievalTerms(d.prompt));
  const modelIndex = new Bm25Index(
    models.map((m, row) =>
      modelDocumentTerms(
        m,
        demosOfModel[row]!.map((i) => demoTerms[i]!),
        weights,
      ),
    ),
    { k1: weights.modelK1, b: weights.modelB },
  );
  const demoIndex = new Bm25Index(demoTerms, { k1: weights.demoK1, b: weights.demoB });
  const fieldIndex: Record<CatalogField, Bm25Index> = {
    name: new Bm25Index(models.map((m) => retrievalTerms(m.name))),
    tags: new Bm25Index(models.map((m) => retrievalTerms(m.tags.join(', ')))),
    trained_words: new Bm25Index(models.map((m) => retrievalTerms(m.trained_words.join(', ')))),
    description: new Bm25Index(models.map((m) => retrievalTerms(m.description).slice(0, DESCRIPTION_WORDS))),
  };
  let maxLog = 1;
  for (const m of models) maxLog = Math.max(maxLog, Math.log1p(Math.max(0, m.downloads)));
  const popularity = Float32Array.from(models, (m) => Math.log1p(Math.max(0, m.downloads)) / maxLog);
  const nameTerms = models.map((m) => [
    ...new Set(
      retrievalTerms(`${m.name} ${m.trained_words.join(' ')}`).filter(
        (t) => !GENERIC_NAME_WORDS.has(t) && !/^(v?\d+|\d+d)$/.test(t),
      ),
    ),
  ]);
  const joinableNames = joinableNameTerms(models, demoTerms);
  const nameRows = new Map<string, number[]>();
  const nameIdfTotal = new Float32Array(models.length);
  nameTerms.forEach((terms, row) => {
    for (const t of terms) {
      const rows = nameRows.get(t);
      if (rows) rows.push(row);
      else nameRows.set(t, [row]);
      nameIdfTotal[row]! += modelIndex.idf(t);
    }
  });
  const traits = modelTraits(models);
  const commonTags = commonTagsOf(models);
  const phrases = models.map((m) => modelPhrases(m, commonTags));
  const nonCharacterNameTerms = new Set<string>();
  phrases.forEach((p, row) => {
    if (!traits[row]!.character && !traits[row]!.person) for (const t of p.nameTerms) nonCharacterNameTerms.add(t);
  });
  const namingRows = new Map<string, number[]>();
  phrases.forEach((p, row) => {
    for (const term of namingTermsForIndex(p)) {
      const rows = namingRows.get(term);
      if (rows) rows.push(row);
      else namingRows.set(term, [row]);
    }
  });
  return {
    catalog,
    models,
    traits,
    phrases,
    naming: {
      sharedTriggers: new Set([...sharedTriggersOf(phrases), ...everydayTriggersOf(phrases, demoTerms, demoModelRow)]),
      nonCharacterNameTerms,
    },
    namingRows,
    generalRows: traits.flatMap((t, row) => (t.general ? [row] : [])),
    addableTerms: addableTermsOf(catalog.demonstrations, demoModelRow),
    checkpointKeys: checkpointKeyMap(models),
    modelRow,
    demosOfModel,
    demonstrations: catalog.demonstrations,
    demoModelRow,
    modelIndex,
    demoIndex,
    fieldIndex,
    popularity,
    nameRows,
    joinableNames,
    nameIdfTotal,
  };
}
