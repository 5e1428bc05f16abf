/**
 * A model pack: public/models/<pack>/manifest.json names the base decoder (a directory served with
 * the app, or a hub id when the user has a network), its dtypes, the instructions of stages 1 and
 * 3, and the ModelToken head (a little-endian float32 file |M| x d with the catalog ids in row order).
 */
import { validateHead, type ModelTokenHead } from '../../modeltoken.ts';
import { isPlainObject, Problems, quotedFieldLine, type JsonObject } from '../../validate.ts';

export const PACK_FORMAT = 'chatgen-pack/1';
export const PACK_DTYPES = ['fp32', 'fp16', 'q8', 'q4', 'q4f16'] as const;
export type PackDtype = (typeof PACK_DTYPES)[number];

export interface PackManifest {
  format: typeof PACK_FORMAT;
  name: string;
  description: string;
  /** Exactly one of: a path relative to the manifest, or a Hugging Face hub id. */
  base_model: { path: string } | { hub_id: string };
  /** ONNX variants present (onnx/model.onnx is fp32, model_quantized.onnx is q8, ...), preferred first. */
  dtypes: PackDtype[];
  architecture: 'text' | 'vision-language';
  /** The graph output holding h; null when the export lacks it and it is added by a graph edit at load. */
  hidden_state_output: string | null;
  /** Overrides the tokenizer's chat template when set. */
  chat_template: string | null;
  instructions: { prompt: string; arguments: string };
  /** Assistant text after the prompt at whose end the model token is read. */
  model_token_prefix: string;
  /** How many retrieved demonstrations go in context: stage 1, and at most for stage 3. */
  demonstrations: { prompt: number; arguments: number };
  /** Longest stage 1 reply, in tokens. */
  max_new_tokens: number;
  /**
   * The ModelToken head, or null when the manifest has no "head" key: such a pack plans in hybrid mode
   * (the LLM writes the prompt, the embedded engine picks the model and arguments) until a head is
   * trained in the app.
   */
  head: PackHead | null;
  /** What Settings shows for a curated pack; absent for packs made by hand. */
  listing: PackListing | null;
}

export interface PackHead {
  file: string;
  dim: number;
  model_ids: number[];
}

/** A curated pack's entry in Settings -> Engine: what it adds, what it downloads and needs. */
export interface PackListing {
  summary: string;
  adds: string[];
  parameters: string;
  /** Download size of the ONNX variant per dtype, in MB (as the hub lists them; tokenizer and configs add a few MB). */
  download_mb: Partial<Record<PackDtype, number>>;
  /** Memory the loaded model takes per dtype, in MB (an estimate). */
  memory_mb: Partial<Record<PackDtype, number>>;
  device: string;
  license: string;
  source: string;
}

export class PackManifestError extends Error {
  override name = 'PackManifestError';
  constructor(
    readonly where: string,
    readonly problems: string[],
  ) {
    super(
      `${where}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the pack manifest:\n- ${problems.join('\n- ')}`,
    );
  }
}

type Json = JsonObject;

/** Validates a parsed manifest.json; every problem is reported at once, by field. */
export function parsePackManifest(value: unknown, where = 'manifest.json'): PackManifest {
  const problems = new Problems();
  if (!isPlainObject(value)) throw new PackManifestError(where, ['the manifest must be a JSON object']);
  const text = (key: string, fallback?: string): string => {
    const v = value[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (typeof v !== 'string' || v.trim() === '') problems.add(key, `must be a non-empty string`);
    return typeof v === 'string' ? v : '';
  };
  const count = (obj: Json, key: string, path: string, min: number, max: number): number => {
    const v = obj[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      problems.add(path, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return min;
    }
    return v;
  };

  if (value.format !== PACK_FORMAT)
    problems.add('format', `must be "${PACK_FORMAT}", got ${JSON.stringify(value.format)}`);
  const name = text('name');
  const description = text('description', '');

  let base_model: PackManifest['base_model'] = { path: '' };
  const base = value.base_model;
  if (!isPlainObject(base)) problems.add('base_model', 'must be an object with "path" or "hub_id"');
  else if (typeof base.path === 'string' && base.path !== '' && base.hub_id === undefined)
    base_model = { path: base.path };
  else if (typeof base.hub_id === 'string' && /^[\w.-]+\/[\w.-]+$/.test(base.hub_id) && base.path === undefined)
    base_model = { hub_id: base.hub_id };
  else problems.add('base_model', 'needs exactly one of "path" (relative to the manifest) or "hub_id" ("owner/name")');

  const dtypes: PackDtype[] = [];
  if (!Array.isArray(value.dtypes) || value.dtypes.length === 0)
    problems.add('dtypes', `must be a non-empty list of ${PACK_DTYPES.join(', ')}`);
  else {
    for (const d of value.dtypes) {
      if ((PACK_DTYPES as readonly unknown[]).includes(d)) dtypes.push(d as PackDtype);
      else problems.add('dtypes', `has unknown dtype ${JSON.stringify(d)}; known: ${PACK_DTYPES.join(', ')}`);
    }
  }

  const architecture = value.architecture ?? 'text';
  if (architecture !== 'text' && architecture !== 'vision-language')
    problems.add('architecture', `must be "text" or "vision-language"`);

  const hidden = value.hidden_state_output ?? null;
  if (hidden !== null && (typeof hidden !== 'string' || hidden === ''))
    problems.add('hidden_state_output', 'must be a graph output name or null');
  const template = value.chat_template ?? null;
  if (template !== null && typeof template !== 'string') problems.add('chat_template', 'must be a string or null');

  const instructions = { prompt: '', arguments: '' };
  if (!isPlainObject(value.instructions))
    problems.add('instructions', 'must be an object with "prompt" and "arguments"');
  else {
    for (const key of ['prompt', 'arguments'] as const) {
      const v = value.instructions[key];
      if (typeof v !== 'string' || v.trim() === '') problems.add(`instructions.${key}`, `must be a non-empty string`);
      else instructions[key] = v;
    }
  }
  const model_token_prefix = text('model_token_prefix', 'Model:');

  const demonstrations = { prompt: 3, arguments: 8 };
  if (value.demonstrations !== undefined) {
    if (!isPlainObject(value.demonstrations))
      problems.add('demonstrations', 'must be an object with "prompt" and "arguments" counts');
    else {
      demonstrations.prompt = count(value.demonstrations, 'prompt', 'demonstrations.prompt', 0, 64);
      demonstrations.arguments = count(value.demonstrations, 'arguments', 'demonstrations.arguments', 0, 256);
    }
  }
  const max_new_tokens =
    value.max_new_tokens === undefined ? 96 : count(value, 'max_new_tokens', 'max_new_tokens', 1, 4096);

  const head: PackHead = { file: '', dim: 0, model_ids: [] };
  if (value.head === undefined || value.head === null) {
    // No head: hybrid planning until one is trained.
  } else if (!isPlainObject(value.head))
    problems.add('head', 'must be an object with "file", "dim" and "model_ids" (or left out for hybrid planning)');
  else {
    const h = value.head;
    if (typeof h.file !== 'string' || h.file === '' || h.file.includes('..'))
      problems.add('head.file', 'must be a file name inside the pack');
    else head.file = h.file;
    head.dim = count(h, 'dim', 'head.dim', 1, 65536);
    if (!Array.isArray(h.model_ids) || h.model_ids.length === 0)
      problems.add('head.model_ids', 'must be a non-empty list of catalog model ids');
    else {
      const seen = new Set<number>();
      for (const [i, id] of h.model_ids.entries()) {
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0)
          problems.add(`head.model_ids[${i}]`, `must be a whole number >= 0, got ${JSON.stringify(id)}`);
        else if (seen.has(id)) problems.add('head.model_ids', `lists model ${id} twice`);
        else seen.add(id);
      }
      head.model_ids = [...seen];
    }
  }
  const listing = value.listing === undefined || value.listing === null ? null : parseListing(value.listing, problems);
  if (problems.count > 0) throw new PackManifestError(where, problems.lines(quotedFieldLine));
  return {
    format: PACK_FORMAT,
    name,
    description,
    base_model,
    dtypes,
    architecture: architecture as PackManifest['architecture'],
    hidden_state_output: hidden as string | null,
    chat_template: template as string | null,
    instructions,
    model_token_prefix,
    demonstrations,
    max_new_tokens,
    head: value.head === undefined || value.head === null ? null : head,
    listing,
  };
}

function parseListing(value: unknown, problems: Problems): PackListing | null {
  if (!isPlainObject(value)) {
    problems.add('listing', 'must be an object');
    return null;
  }
  const text = (key: string): string => {
    const v = value[key];
    if (typeof v !== 'string' || v.trim() === '') problems.add(`listing.${key}`, `must be a non-empty string`);
    return typeof v === 'string' ? v : '';
  };
  const sizes = (key: string): Partial<Record<PackDtype, number>> => {
    const v = value[key];
    const out: Partial<Record<PackDtype, number>> = {};
    if (!isPlainObject(v)) {
      problems.add(`listing.${key}`, `must map dtypes to megabytes`);
      return out;
    }
    for (const [dtype, mb] of Object.entries(v)) {
      if (!(PACK_DTYPES as readonly string[]).includes(dtype))
        problems.add(`listing.${key}`, `has unknown dtype ${JSON.stringify(dtype)}`);
      else if (typeof mb !== 'number' || !(mb > 0))
        problems.add(`listing.${key}.${dtype}`, `must be a positive number of MB`);
      else out[dtype as PackDtype] = mb;
    }
    return out;
  };
  const adds =
    Array.isArray(value.adds) && value.adds.every((a) => typeof a === 'string') ? (value.adds as string[]) : [];
  if (adds.length === 0) problems.add('listing.adds', 'must be a non-empty list of strings');
  return {
    summary: text('summary'),
    adds,
    parameters: text('parameters'),
    download_mb: sizes('download_mb'),
    memory_mb: sizes('memory_mb'),
    device: text('device'),
    license: text('license'),
    source: text('source'),
  };
}

/** Reads the head file the manifest names: little-endian float32, row i for model_ids[i]. */
export function parseHeadFile(bytes: Uint8Array, head: PackHead, where = head.file): ModelTokenHead {
  const expected = head.model_ids.length * head.dim * 4;
  if (bytes.length !== expected) {
    throw new PackManifestError(where, [
      `the head file holds ${bytes.length} bytes; ${head.model_ids.length} models x ${head.dim} float32 needs ${expected}`,
    ]);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Float32Array(head.model_ids.length * head.dim);
  for (let i = 0; i < weights.length; i++) weights[i] = view.getFloat32(i * 4, true);
  if (weights.some((w) => !Number.isFinite(w)))
    throw new PackManifestError(where, ['the head file contains NaN or infinite weights']);
  return validateHead({ dim: head.dim, modelIds: [...head.model_ids], weights });
}

/** The head as the bytes of a head file (for export and for writing packs). */
export function encodeHeadFile(head: ModelTokenHead): Uint8Array {
  const out = new Uint8Array(head.weights.length * 4);
  const view = new DataView(out.buffer);
  head.weights.forEach((w, i) => view.setFloat32(i * 4, w, true));
  return out;
}

/** The ONNX file name transformers.js loads for a dtype (in onnx/). */
export function onnxFileForDtype(dtype: PackDtype, baseName = 'model'): string {
  const suffix: Record<PackDtype, string> = { fp32: '', fp16: '_fp16', q8: '_quantized', q4: '_q4', q4f16: '_q4f16' };
  return `${baseName}${suffix[dtype]}.onnx`;
}
