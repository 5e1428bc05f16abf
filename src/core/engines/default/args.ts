/**
 * Stage 3 of the default engine. For each argument, every value that some evidence proposes becomes
 * a candidate with a few features: how often the chosen model's demonstrations use it, whether its
 * demonstration most like the request does, what the other likely models of stage 2 use (weighted by
 * their probability), what the catalog's demonstrations nearest to the request use, and how common it
 * is for the model's base and type and across the catalog. A learned linear score over those features
 * (argument-weights.ts, trained on held-out train demonstrations) picks the value, so the engine leans
 * on the model's habits when stage 2 was sure and on similar requests when it was not. Values are
 * repaired into range afterwards, so the result always validates.
 */
import type { DemonstrationArguments } from '../../catalog/types.ts';
import { canonicalSampler, repairArguments, type GenerationArguments } from '../../plan.ts';
import { topK } from '../../retrieval/bm25.ts';
import type { ArgumentName, ArgumentOrigin, ArgumentSource, DemonstrationRef } from '../engine.ts';
import { ARGUMENT_FEATURES, type ArgumentFeatures } from './argument-features.ts';
import { TRAINED_ARGUMENT_WEIGHTS } from './argument-weights.ts';
import type { CatalogIndex } from './index-build.ts';

export type VotedName = Exclude<ArgumentName, 'seed'>;
export const VOTED: readonly VotedName[] = ['sampler', 'steps', 'cfg_scale', 'width', 'height'];

/** What the score of one candidate value is made of, each in 0..1. */
export { ARGUMENT_FEATURES, type ArgumentFeature, type ArgumentFeatures } from './argument-features.ts';

export interface ArgumentOptions {
  /** One weight per feature, learned by scripts/train-default-arguments.ts. */
  weights: Readonly<ArgumentFeatures>;
  /** How many of the catalog's demonstrations nearest to the request vote. */
  nearest: number;
  /** How many of the most common values of the base-model prior become candidates. */
  priorValues: number;
}

export const DEFAULT_ARGUMENT_OPTIONS: ArgumentOptions = {
  weights: TRAINED_ARGUMENT_WEIGHTS,
  nearest: 20,
  priorValues: 8,
};

const FIXED_DEFAULTS: DemonstrationArguments = { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 };

type ValueCounts = Record<VotedName, Map<string, number>>;

/**
 * Each argument value's share of the demonstrations, worked out once per catalog: per base model and
 * type (most common first), and across the catalog.
 */
export interface ArgumentPriors {
  byBase: Map<string, Record<VotedName, [value: string, share: number][]>>;
  global: Record<VotedName, Map<string, number>>;
}

function priorKey(base: string, type: string): string {
  return `${base}\u0000${type}`;
}

function emptyCounts(): ValueCounts {
  return { sampler: new Map(), steps: new Map(), cfg_scale: new Map(), width: new Map(), height: new Map() };
}

function shares(counts: ReadonlyMap<string, number>): Map<string, number> {
  let sum = 0;
  for (const c of counts.values()) sum += c;
  return new Map([...counts].map(([value, count]) => [value, count / (sum || 1)]));
}

export function buildArgumentPriors(index: CatalogIndex): ArgumentPriors {
  const countsByBase = new Map<string, ValueCounts>();
  const global = emptyCounts();
  // Worked out once per model and per sampler name rather than per demonstration (a start-up cost:
  // a big catalog has tens of thousands of demonstrations and a few dozen sampler names).
  const countsOfRow = new Map<number, ValueCounts>();
  const samplerKeys = new Map<string, string>();
  index.demonstrations.forEach((d, i) => {
    const row = index.demoModelRow[i]!;
    let counts = countsOfRow.get(row);
    if (!counts) {
      const model = index.models[row];
      if (!model) return;
      const key = priorKey(model.base_model, model.type);
      counts = countsByBase.get(key);
      if (!counts) countsByBase.set(key, (counts = emptyCounts()));
      countsOfRow.set(row, counts);
    }
    let sampler = samplerKeys.get(d.arguments.sampler);
    if (sampler === undefined) samplerKeys.set(d.arguments.sampler, (sampler = valueKey('sampler', d.arguments)));
    for (const name of VOTED) {
      const v = name === 'sampler' ? sampler : valueKey(name, d.arguments);
      counts[name].set(v, (counts[name].get(v) ?? 0) + 1);
      global[name].set(v, (global[name].get(v) ?? 0) + 1);
    }
  });
  const byBase = new Map(
    [...countsByBase].map(([key, counts]) => [
      key,
      Object.fromEntries(VOTED.map((name) => [name, [...shares(counts[name])].sort((a, b) => b[1] - a[1])])) as Record<
        VotedName,
        [string, number][]
      >,
    ]),
  );
  return {
    byBase,
    global: Object.fromEntries(VOTED.map((name) => [name, shares(global[name])])) as Record<
      VotedName,
      Map<string, number>
    >,
  };
}

export function valueKey(name: VotedName, args: DemonstrationArguments): string {
  if (name === 'sampler') return canonicalSampler(args.sampler) ?? args.sampler;
  return String(args[name]);
}

/** A model of stage 2's shortlist with its probability (the chosen one included). */
export interface CandidateModel {
  row: number;
  probability: number;
}

export interface CandidateValue {
  value: string;
  features: ArgumentFeatures;
  /** How many of the chosen model's demonstrations use this value. */
  modelDemos: number;
}

export interface ArgumentEvidence {
  candidates: Record<VotedName, CandidateValue[]>;
  /** The chosen model's demonstrations, most like the request first, with similarity in 0..1. */
  modelDemos: { demo: number; similarity: number }[];
  /** The chosen model's probability in stage 2 (1 when the user picked a model outside its shortlist). */
  confidence: number;
}

/**
 * The candidate values of every argument with their features. `demoScores` holds each demonstration's
 * BM25 score for the request; `shortlist` is stage 2's candidates with their probabilities.
 */
export function argumentEvidence(
  index: CatalogIndex,
  priors: ArgumentPriors,
  modelRow: number,
  demoScores: Float32Array,
  shortlist: readonly CandidateModel[],
  options: ArgumentOptions,
): ArgumentEvidence {
  const model = index.models[modelRow]!;
  const demos = index.demosOfModel[modelRow] ?? [];
  // A loop, not a spread: a model may have more demonstrations than the stack holds arguments.
  const top = demos.reduce((best, i) => Math.max(best, demoScores[i]!), 1e-9);
  const modelDemos = demos
    .map((demo) => ({ demo, similarity: demoScores[demo]! / top }))
    .sort((a, b) => b.similarity - a.similarity);
  const chosen = shortlist.find((c) => c.row === modelRow);
  const confidence = chosen ? chosen.probability : 1;
  const others = shortlist.filter((c) => c.row !== modelRow);
  const othersMass = others.reduce((sum, c) => sum + c.probability, 0);
  const nearest = topK(demoScores, options.nearest);
  const nearestMass = nearest.reduce((sum, n) => sum + n.score, 0);
  const base = priors.byBase.get(priorKey(model.base_model, model.type));

  const candidates = {} as Record<VotedName, CandidateValue[]>;
  for (const name of VOTED) {
    const values = new Map<string, CandidateValue>();
    const entry = (value: string): CandidateValue => {
      let c = values.get(value);
      if (!c) {
        const features = Object.fromEntries(ARGUMENT_FEATURES.map((f) => [f, 0])) as ArgumentFeatures;
        values.set(value, (c = { value, features, modelDemos: 0 }));
      }
      return c;
    };
    const valueOfDemo = (demo: number) => valueKey(name, index.demonstrations[demo]!.arguments);
    for (const { demo } of modelDemos) {
      const c = entry(valueOfDemo(demo));
      c.features.habit += 1 / modelDemos.length;
      c.modelDemos++;
    }
    const nearestOwn = modelDemos[0];
    if (nearestOwn) entry(valueOfDemo(nearestOwn.demo)).features.topDemo = 1;
    for (const { row, probability } of [{ row: modelRow, probability: confidence }, ...others]) {
      const ds = index.demosOfModel[row] ?? [];
      for (const demo of ds) {
        const c = entry(valueOfDemo(demo));
        c.features.posterior += probability / ds.length;
        if (row !== modelRow && othersMass > 0) c.features.runnersUp += probability / othersMass / ds.length;
      }
    }
    if (nearestMass > 0) for (const n of nearest) entry(valueOfDemo(n.doc)).features.nearest += n.score / nearestMass;
    if (base)
      for (const [value, share] of base[name].slice(0, options.priorValues)) entry(value).features.prior = share;
    for (const c of values.values()) {
      c.features.global = priors.global[name].get(c.value) ?? 0;
      c.features.confidentHabit = c.features.habit * confidence;
    }
    candidates[name] = [...values.values()];
  }
  return { candidates, modelDemos, confidence };
}

export function scoreValue(features: ArgumentFeatures, weights: Readonly<ArgumentFeatures>): number {
  let score = 0;
  for (const f of ARGUMENT_FEATURES) score += weights[f] * features[f];
  return score;
}

export interface ChosenArguments {
  arguments: GenerationArguments;
  sources: Record<ArgumentName, ArgumentSource>;
  demonstrations: DemonstrationRef[];
  notes: string[];
}

export function chooseArguments(
  index: CatalogIndex,
  priors: ArgumentPriors,
  modelRow: number,
  demoScores: Float32Array,
  shortlist: readonly CandidateModel[],
  seed: number,
  options: ArgumentOptions,
): ChosenArguments {
  const model = index.models[modelRow]!;
  const evidence = argumentEvidence(index, priors, modelRow, demoScores, shortlist, options);
  const demoCount = evidence.modelDemos.length;
  const notes: string[] = [];
  if (demoCount === 0)
    notes.push(
      `${model.name} has no demonstrations: its arguments come from the ${model.base_model} prior and similar requests.`,
    );
  const runnerUpNames = shortlist.filter((c) => c.row !== modelRow).map((c) => index.models[c.row]!.name);

  const chosen: Partial<Record<VotedName, string>> = {};
  const sources: Partial<Record<ArgumentName, ArgumentSource>> = {};
  for (const name of VOTED) {
    const ranked = evidence.candidates[name]
      .map((c) => ({ c, score: scoreValue(c.features, options.weights) }))
      .sort(
        (a, b) => b.score - a.score || b.c.features.global - a.c.features.global || a.c.value.localeCompare(b.c.value),
      );
    const best = ranked[0]?.c;
    if (!best) {
      chosen[name] = String(FIXED_DEFAULTS[name]);
      sources[name] = { origin: 'default', detail: 'no demonstration and no prior: the fixed default' };
      continue;
    }
    chosen[name] = best.value;
    sources[name] = describeSource(best, demoCount, evidence.confidence, model.base_model, model.type, runnerUpNames);
  }
  const raw = {
    sampler: chosen.sampler ?? FIXED_DEFAULTS.sampler,
    steps: Number(chosen.steps),
    cfg_scale: Number(chosen.cfg_scale),
    width: Number(chosen.width),
    height: Number(chosen.height),
    seed,
  };
  const repaired = repairArguments(raw);
  for (const name of VOTED) {
    if (String(repaired[name]) !== String(raw[name])) {
      notes.push(`${name} ${raw[name]} was brought into range as ${repaired[name]}.`);
    }
  }
  sources.seed = { origin: 'seed', detail: 'derived from the chat text, so the same chat gives the same picture' };
  return {
    arguments: repaired,
    sources: sources as Record<ArgumentName, ArgumentSource>,
    demonstrations: evidence.modelDemos.slice(0, 5).map(({ demo, similarity }) => {
      const d = index.demonstrations[demo]!;
      return { model_id: d.model_id, model_name: model.name, image_id: d.image_id, prompt: d.prompt, similarity };
    }),
    notes,
  };
}

function describeSource(
  candidate: CandidateValue,
  demoCount: number,
  confidence: number,
  base: string,
  type: string,
  runnerUpNames: readonly string[],
): ArgumentSource {
  const f = candidate.features;
  const fromOthers = f.runnersUp > 0 || f.nearest > 0;
  let origin: ArgumentOrigin;
  let detail: string;
  if (candidate.modelDemos === 0 && fromOthers) {
    origin = 'nearest-demonstration';
    const who =
      runnerUpNames.length > 0 ? `the other likely models (${runnerUpNames.slice(0, 3).join(', ')}) and ` : '';
    detail = `not used by the chosen model's demonstrations; used by ${who}the catalog's demonstrations most like this request (${Math.round(f.nearest * 100)}% of their vote)`;
  } else if (candidate.modelDemos === 0) {
    origin = 'base-model-prior';
    detail = `most common for ${base} ${type} models across the catalog (${Math.round(f.prior * 100)}% of their demonstrations)`;
  } else if (candidate.modelDemos === 1 && demoCount > 1 && f.topDemo === 1) {
    origin = 'nearest-demonstration';
    detail = `from the demonstration most like this request (1 of ${demoCount})`;
  } else {
    origin = 'model-habit';
    detail = `used in ${candidate.modelDemos} of the model's ${demoCount} demonstrations`;
  }
  if (candidate.modelDemos > 0 && f.nearest >= 0.3)
    detail += `; ${Math.round(f.nearest * 100)}% of the most similar demonstrations across the catalog agree`;
  if (candidate.modelDemos > 0 && confidence < 0.5)
    detail += ` (stage 2 gave this model ${Math.round(confidence * 100)}%, so similar requests weighed in)`;
  return { origin, detail };
}
