/**
 * Stage 3 of the default engine: each argument is a weighted vote. The chosen model's demonstrations
 * vote first, the ones most like the request loudest; when the model has few demonstrations,
 * demonstrations of models of the same base and type vote too, then a catalog-wide prior for that
 * base model, then fixed defaults. Values are repaired into range afterwards, so the result always
 * validates.
 */
import type { DemonstrationArguments } from '../../catalog/types.ts';
import { canonicalSampler, repairArguments, type GenerationArguments } from '../../plan.ts';
import type { ArgumentName, ArgumentOrigin, ArgumentSource, DemonstrationRef } from '../engine.ts';
import type { CatalogIndex } from './index-build.ts';

export interface ArgumentOptions {
  /** Vote of every demonstration of the chosen model before similarity is added. */
  demoBase: number;
  /** Extra vote of a demonstration in proportion to its similarity to the request (0..1). */
  demoSimilarity: number;
  /** Total vote of the base-model prior. */
  prior: number;
  /**
   * How much the runners-up of stage 2 vote, relative to their probability against the chosen model's:
   * when the choice is uncertain, what the likely alternatives use is evidence about the arguments too.
   */
  runnersUp: number;
  /** Total vote, relative to the chosen model's, of the catalog's demonstrations nearest to the request. */
  nearest: number;
}

export const DEFAULT_ARGUMENT_OPTIONS: ArgumentOptions = { demoBase: 1, demoSimilarity: 1, prior: 0.3, runnersUp: 1, nearest: 1 };

/** Another model that votes on the arguments: its row, and its probability relative to the chosen model's. */
export interface RunnerUp {
  row: number;
  relativeWeight: number;
}

type VotedName = Exclude<ArgumentName, 'seed'>;
const VOTED: readonly VotedName[] = ['sampler', 'steps', 'cfg_scale', 'width', 'height'];

const FIXED_DEFAULTS: DemonstrationArguments = { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 };

/** The most common value of each argument among demonstrations of one base model and type. */
export type BasePriors = Map<string, Record<VotedName, Map<string, number>>>;

function priorKey(base: string, type: string): string {
  return `${base}\u0000${type}`;
}

export function buildBasePriors(index: CatalogIndex): BasePriors {
  const priors: BasePriors = new Map();
  index.demonstrations.forEach((d, i) => {
    const model = index.models[index.demoModelRow[i]!];
    if (!model) return;
    const key = priorKey(model.base_model, model.type);
    let p = priors.get(key);
    if (!p) priors.set(key, (p = { sampler: new Map(), steps: new Map(), cfg_scale: new Map(), width: new Map(), height: new Map() }));
    for (const name of VOTED) {
      const v = valueKey(name, d.arguments);
      p[name].set(v, (p[name].get(v) ?? 0) + 1);
    }
  });
  return priors;
}

function valueKey(name: VotedName, args: DemonstrationArguments): string {
  if (name === 'sampler') return canonicalSampler(args.sampler) ?? args.sampler;
  return String(args[name]);
}

export interface ChosenArguments {
  arguments: GenerationArguments;
  sources: Record<ArgumentName, ArgumentSource>;
  demonstrations: DemonstrationRef[];
  notes: string[];
}

/**
 * `similarity(demoIndex)` says how alike a demonstration is to the request, in 0..1.
 */
export function chooseArguments(
  index: CatalogIndex,
  priors: BasePriors,
  modelRow: number,
  similarity: (demo: number) => number,
  seed: number,
  options: ArgumentOptions = DEFAULT_ARGUMENT_OPTIONS,
  runnersUp: readonly RunnerUp[] = [],
  /** The catalog's demonstrations most like the request, with their similarity in 0..1. */
  nearest: readonly { demo: number; similarity: number }[] = [],
): ChosenArguments {
  const model = index.models[modelRow]!;
  const demos = index.demosOfModel[modelRow] ?? [];
  const weighted = demos
    .map((i) => ({ i, sim: similarity(i) }))
    .sort((a, b) => b.sim - a.sim);
  const prior = priors.get(priorKey(model.base_model, model.type));
  const notes: string[] = [];
  if (demos.length === 0) notes.push(`${model.name} has no demonstrations: its arguments come from the ${model.base_model} prior.`);

  // Each runner-up's demonstrations share a total vote of (its relative weight) x (the chosen model's total).
  const voteOf = (sim: number) => options.demoBase + options.demoSimilarity * sim;
  const chosenTotal = weighted.reduce((sum, { sim }) => sum + voteOf(sim), 0) || 1;
  const others = runnersUp
    .filter((r) => r.row !== modelRow && options.runnersUp > 0 && r.relativeWeight > 0)
    .map((r) => {
      const ds = (index.demosOfModel[r.row] ?? []).map((i) => ({ i, vote: voteOf(similarity(i)) }));
      const total = ds.reduce((sum, d) => sum + d.vote, 0) || 1;
      return ds.map(({ i, vote }) => ({ i, vote: (options.runnersUp * r.relativeWeight * chosenTotal * vote) / total }));
    })
    .flat();
  const nearestTotal = nearest.reduce((sum, n) => sum + n.similarity, 0);
  if (options.nearest > 0 && nearestTotal > 0) {
    for (const n of nearest) others.push({ i: n.demo, vote: (options.nearest * chosenTotal * n.similarity) / nearestTotal });
  }
  const runnerUpNames = [...new Set(runnersUp.filter((r) => r.row !== modelRow).map((r) => index.models[r.row]!.name))];

  const chosen: Partial<Record<VotedName, string>> = {};
  const sources: Partial<Record<ArgumentName, ArgumentSource>> = {};
  for (const name of VOTED) {
    const votes = new Map<string, { weight: number; nearest: number; demos: number; others: number }>();
    for (const { i, sim } of weighted) {
      const v = valueKey(name, index.demonstrations[i]!.arguments);
      const entry = votes.get(v) ?? { weight: 0, nearest: 0, demos: 0, others: 0 };
      entry.weight += voteOf(sim);
      entry.nearest = Math.max(entry.nearest, sim);
      entry.demos++;
      votes.set(v, entry);
    }
    for (const { i, vote } of others) {
      const v = valueKey(name, index.demonstrations[i]!.arguments);
      const entry = votes.get(v) ?? { weight: 0, nearest: 0, demos: 0, others: 0 };
      entry.weight += vote;
      entry.others += vote;
      votes.set(v, entry);
    }
    if (prior) {
      const counts = prior[name];
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      for (const [v, c] of counts) {
        const entry = votes.get(v) ?? { weight: 0, nearest: 0, demos: 0, others: 0 };
        entry.weight += (options.prior * c) / total;
        votes.set(v, entry);
      }
    }
    const ranked = [...votes.entries()].sort((a, b) => b[1].weight - a[1].weight || b[1].nearest - a[1].nearest);
    const top = ranked[0];
    if (!top) {
      chosen[name] = String(FIXED_DEFAULTS[name]);
      sources[name] = { origin: 'default', detail: 'no demonstration and no prior: the fixed default' };
      continue;
    }
    const [value, vote] = top;
    chosen[name] = value;
    sources[name] = describeSource(vote, weighted.length, model.base_model, model.type, runnerUpNames);
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
  const top = weighted[0]?.sim ?? 1;
  return {
    arguments: repaired,
    sources: sources as Record<ArgumentName, ArgumentSource>,
    demonstrations: weighted.slice(0, 5).map(({ i, sim }) => {
      const d = index.demonstrations[i]!;
      return { model_id: d.model_id, model_name: model.name, image_id: d.image_id, prompt: d.prompt, similarity: top > 0 ? sim / top : 0 };
    }),
    notes,
  };
}

function describeSource(
  vote: { weight: number; nearest: number; demos: number; others: number },
  demoCount: number,
  base: string,
  type: string,
  runnerUpNames: readonly string[],
): ArgumentSource {
  let origin: ArgumentOrigin;
  let detail: string;
  if (vote.demos === 0 && vote.others > 0) {
    origin = 'nearest-demonstration';
    detail = `not used by the chosen model's demonstrations; voted for by similar demonstrations of other models (the runners-up ${runnerUpNames.slice(0, 3).join(', ')}, and the catalog's nearest)`;
  } else if (vote.demos === 0) {
    origin = 'base-model-prior';
    detail = `most common for ${base} ${type} models across the catalog`;
  } else if (vote.demos === 1 && demoCount > 1) {
    origin = 'nearest-demonstration';
    detail = `from the demonstration most like this request (1 of ${demoCount})`;
  } else {
    origin = vote.nearest >= 0.999 && vote.demos < demoCount / 2 ? 'nearest-demonstration' : 'model-habit';
    detail = `used in ${vote.demos} of the model's ${demoCount} demonstrations`;
  }
  if (vote.demos > 0 && vote.others >= 0.1 * vote.weight) detail += '; similar demonstrations of other models agree';
  return { origin, detail };
}
