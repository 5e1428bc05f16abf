/**
 * A plan as a JSON document (the chat, the plan, the engine and the explanations) and the checks that
 * read one back: an imported or shared document is untrusted, so every field is validated.
 */
import type { PlanExplanation } from '../explain.ts';
import { validateArguments, type GenerationPlan, type PlannedModel } from '../plan.ts';
import { isPlainObject } from '../validate.ts';

export const PLAN_DOCUMENT_FORMAT = 'chatgen-plan/1';

export interface PlanDocument {
  format: typeof PLAN_DOCUMENT_FORMAT;
  /** The chat's turns, in order (reference images are never exported). */
  messages: string[];
  plan: GenerationPlan;
  engine: { name: string; version: string } | null;
  explanation?: PlanExplanation;
}

export class PlanDocumentError extends Error {
  override name = 'PlanDocumentError';
}

function fail(path: string, problem: string): never {
  throw new PlanDocumentError(`${path}: ${problem}`);
}

function text(v: unknown, path: string): string {
  if (typeof v !== 'string') fail(path, 'must be text');
  return v;
}

function plannedModel(v: unknown, path: string): PlannedModel {
  if (!isPlainObject(v)) fail(path, 'must be an object');
  if (typeof v['id'] !== 'number' || !Number.isInteger(v['id'])) fail(`${path}.id`, 'must be a whole number');
  if (v['type'] !== 'Checkpoint' && v['type'] !== 'LORA') fail(`${path}.type`, 'must be "Checkpoint" or "LORA"');
  const trained = v['trained_words'];
  if (!Array.isArray(trained) || trained.some((w) => typeof w !== 'string'))
    fail(`${path}.trained_words`, 'must be a list of text');
  const hash = v['hash'];
  if (hash !== null && typeof hash !== 'string') fail(`${path}.hash`, 'must be text or null');
  return {
    id: v['id'],
    name: text(v['name'], `${path}.name`),
    type: v['type'],
    file: text(v['file'], `${path}.file`),
    base_model: text(v['base_model'], `${path}.base_model`),
    trained_words: trained as string[],
    hash,
  };
}

/** Checks an untrusted value is a valid plan and returns a clean copy (unknown fields dropped). */
export function parseGenerationPlan(v: unknown, path = 'plan'): GenerationPlan {
  if (!isPlainObject(v)) fail(path, 'must be an object');
  const a = v['arguments'];
  if (!isPlainObject(a)) fail(`${path}.arguments`, 'must be an object');
  const args = {
    sampler: text(a['sampler'], `${path}.arguments.sampler`),
    steps: Number(a['steps']),
    cfg_scale: Number(a['cfg_scale']),
    width: Number(a['width']),
    height: Number(a['height']),
    seed: Number(a['seed']),
  };
  const problems = validateArguments(args);
  if (problems.length) fail(`${path}.arguments`, problems.map((p) => p.message).join('; '));
  return {
    prompt: text(v['prompt'], `${path}.prompt`),
    negative_prompt: text(v['negative_prompt'], `${path}.negative_prompt`),
    model: plannedModel(v['model'], `${path}.model`),
    ...(v['base_checkpoint'] !== undefined
      ? { base_checkpoint: plannedModel(v['base_checkpoint'], `${path}.base_checkpoint`) }
      : {}),
    arguments: args,
  };
}

export function parseMessages(v: unknown, path = 'messages'): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.some((m) => typeof m !== 'string'))
    fail(path, 'must be a non-empty list of text');
  return v as string[];
}

function parseEngine(v: unknown): PlanDocument['engine'] {
  if (v === null || v === undefined) return null;
  if (!isPlainObject(v)) fail('engine', 'must be an object or null');
  return { name: text(v['name'], 'engine.name'), version: text(v['version'], 'engine.version') };
}

export function planToJson(doc: Omit<PlanDocument, 'format'>): string {
  return JSON.stringify({ format: PLAN_DOCUMENT_FORMAT, ...doc }, null, 2);
}

/** Reads a plan document (the explanation, being derived, is not read back: it is rebuilt from evidence). */
export function jsonToPlanDocument(json: string): Omit<PlanDocument, 'explanation'> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    throw new PlanDocumentError(`not JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(value) || value['format'] !== PLAN_DOCUMENT_FORMAT)
    fail('format', `must be "${PLAN_DOCUMENT_FORMAT}"`);
  return {
    format: PLAN_DOCUMENT_FORMAT,
    messages: parseMessages(value['messages']),
    plan: parseGenerationPlan(value['plan']),
    engine: parseEngine(value['engine']),
  };
}
