/** Validators for catalog and demonstration records (ChatGenBench / civitai-2023 JSONL format). */
import { canonicalSampler } from '../plan.ts';
import type { CatalogModel, Demonstration, DemonstrationArguments } from './types.ts';
import { FieldError, read, within, type JsonObject } from '../validate.ts';

const MODEL_TYPES = ['Checkpoint', 'LORA'] as const;

/** Longest texts a catalog line may carry: longer ones come from broken exports and would break the layout and the index. */
export const CATALOG_TEXT_LIMITS = { name: 200, description: 20_000 } as const;

function limited(value: string, field: keyof typeof CATALOG_TEXT_LIMITS): string {
  const limit = CATALOG_TEXT_LIMITS[field];
  if (value.length > limit)
    throw new FieldError(
      field,
      `is ${value.length.toLocaleString('en')} characters long; the limit is ${limit.toLocaleString('en')}`,
    );
  return value;
}

export function parseCatalogModel(o: JsonObject): CatalogModel {
  const hash = read.string(o, 'hash', { optional: true }).trim();
  if (hash !== '' && !/^[0-9a-fA-F]{8,64}$/.test(hash))
    throw new FieldError('hash', `expected hex digits (AutoV2), got "${hash}"`);
  return {
    id: read.number(o, 'id', { integer: true }),
    name: limited(read.string(o, 'name', { nonEmpty: true }), 'name'),
    type: read.oneOf(o, 'type', MODEL_TYPES),
    tags: read.stringArray(o, 'tags', { optional: true }),
    base_model: read.string(o, 'base_model', { optional: true }) || 'Other',
    trained_words: read.stringArray(o, 'trained_words', { optional: true }),
    file: read.string(o, 'file', { optional: true }),
    hash: hash === '' ? null : hash.toUpperCase(),
    downloads: read.number(o, 'downloads', { optional: true }),
    rating: read.number(o, 'rating', { optional: true }),
    description: limited(read.string(o, 'description', { optional: true }), 'description'),
  };
}

export function parseArguments(o: JsonObject): DemonstrationArguments {
  const sampler = read.string(o, 'sampler', { nonEmpty: true });
  if (canonicalSampler(sampler) === null) throw new FieldError('sampler', `unknown sampler "${sampler}"`);
  const positive = (field: string, integer: boolean) => {
    const v = read.number(o, field, { integer });
    if (v <= 0) throw new FieldError(field, `must be positive, got ${v}`);
    return v;
  };
  return {
    sampler,
    steps: positive('steps', true),
    cfg_scale: positive('cfg_scale', false),
    width: positive('width', true),
    height: positive('height', true),
  };
}

export function parseDemonstration(o: JsonObject): Demonstration {
  const demo: Demonstration = {
    image_id: read.number(o, 'image_id', { integer: true }),
    model_id: read.number(o, 'model_id', { integer: true }),
    prompt: read.string(o, 'prompt', { nonEmpty: true }),
    negative_prompt: read.string(o, 'negative_prompt', { optional: true }),
    arguments: within('arguments', () => parseArguments(read.object(o, 'arguments'))),
  };
  const model = read.string(o, 'model', { optional: true });
  if (model) demo.model = model;
  if (typeof o['model_type'] === 'string') demo.model_type = read.oneOf(o, 'model_type', MODEL_TYPES);
  const base = read.string(o, 'base_model', { optional: true });
  if (base) demo.base_model = base;
  const checkpoint = read.string(o, 'checkpoint', { optional: true });
  if (checkpoint) demo.checkpoint = checkpoint;
  const checkpointHash = read.string(o, 'checkpoint_hash', { optional: true });
  if (checkpointHash) demo.checkpoint_hash = checkpointHash;
  return demo;
}
