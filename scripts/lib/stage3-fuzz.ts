/**
 * Stage 3 of an engine over seeded random chats: every chat's arguments must pass validateArguments and
 * use at most the pack's number of demonstrations. Shared by the unit test (60 chats) and
 * scripts/fuzz-neural-stage3.ts (the full run, with timings).
 */
import { mergeTurns } from '../../src/core/chat.ts';
import { plannedModelOf, type CatalogModel } from '../../src/core/catalog/types.ts';
import type { StageRequest } from '../../src/core/engines/engine.ts';
import type { NeuralEngine } from '../../src/core/engines/neural/index.ts';
import { validateArguments } from '../../src/core/plan.ts';

/** Random requests built from a seeded generator: subjects, styles, filler, sometimes several turns. */
export function randomChats(n: number, seed: number): string[][] {
  let s = seed;
  const random = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const subjects = [
    'a fox',
    'an astronaut cat',
    'two knights',
    'a neon alley',
    'grandma baking',
    'a glass castle',
    'mech suit',
    'koi pond',
    'a jazz bar',
    'desert ruins',
  ];
  const styles = [
    'anime',
    'photo',
    'oil painting',
    'pixel art',
    'ink sketch',
    'vaporwave',
    '',
    'cinematic',
    'low poly',
    'ukiyo-e',
  ];
  const extras = [
    'at night',
    'in the rain',
    'portrait',
    'wide shot',
    'pls',
    'make it dark',
    '4k!!',
    'no text',
    'with flowers',
    '',
  ];
  return Array.from({ length: n }, () => {
    const turns = [
      `${pick(['i want', 'draw', 'can u make', 'pic of', ''])} ${pick(subjects)} ${pick(styles)} ${pick(extras)}`.trim(),
    ];
    if (random() < 0.3) turns.push(`actually ${pick(extras) || 'brighter'} ${pick(styles)}`.trim());
    return turns;
  });
}

export interface Stage3FuzzOptions {
  engine: NeuralEngine;
  /** Chat i is configured for models[i % models.length]. */
  models: readonly CatalogModel[];
  chats: string[][];
  /** The pack's limit on demonstrations in the stage 3 context. */
  maxDemonstrations: number;
}

export interface Stage3FuzzResult {
  /** One line per chat whose arguments failed a check: the chat, the arguments and what is wrong. */
  failures: string[];
  /** Wall time of each chat's stage 3, in ms. */
  ms: number[];
}

export async function fuzzStage3({
  engine,
  models,
  chats,
  maxDemonstrations,
}: Stage3FuzzOptions): Promise<Stage3FuzzResult> {
  const failures: string[] = [];
  const ms: number[] = [];
  for (const [i, messages] of chats.entries()) {
    const request: StageRequest = { input: { messages, images: [] }, merged: mergeTurns(messages) };
    const prompt = {
      prompt: messages.join(', '),
      negative_prompt: 'blurry',
      evidence: { neighbours: [], kept_terms: [], added_terms: [], notes: [] },
    };
    const model = {
      model: plannedModelOf(models[i % models.length]!),
      evidence: { method: 'test', candidates: [], competing: 1, notes: [] },
    };
    const started = performance.now();
    const result = await engine.configureArguments(request, prompt, model, i);
    ms.push(performance.now() - started);
    const problems = validateArguments(result.arguments).map((p) => p.message);
    if (result.evidence.demonstrations.length > maxDemonstrations)
      problems.push(`${result.evidence.demonstrations.length} demonstrations, the pack allows ${maxDemonstrations}`);
    if (problems.length > 0)
      failures.push(`${JSON.stringify(messages)} -> ${JSON.stringify(result.arguments)}: ${problems.join('; ')}`);
  }
  return { failures, ms };
}
