/**
 * Test items in the ChatGenBench JSONL format (see ../shared/data/civitai-2023/README.md, "dev.jsonl"):
 * a freestyle chat input plus the gold prompt, model and arguments. Every line is validated; errors
 * name the file, the line and the field.
 */
import { inputTypeOf, type ChatInput, type InputType, type ReferenceImage } from '../chat.ts';
import { formatRecordError, parseJsonl, type RecordError } from '../catalog/jsonl.ts';
import { FieldError, isPlainObject, read, within, type JsonObject } from '../validate.ts';
import { parseArguments } from '../catalog/records.ts';
import type { DemonstrationArguments } from '../catalog/types.ts';
import type { ModelType } from '../plan.ts';

export const SETTINGS = ['supervised', 'few-shot'] as const;
export type Setting = (typeof SETTINGS)[number];
export const INPUT_TYPES = ['single', 'multimodal', 'history'] as const satisfies readonly InputType[];

export interface BenchGold {
  /** The human prompt with <lora:...> tags removed: what prompt metrics compare against. */
  prompt: string;
  raw_prompt: string;
  negative_prompt: string;
  model_id: number;
  model: string;
  model_type: ModelType | null;
  arguments: DemonstrationArguments;
}

export interface BenchItem {
  id: string;
  input_type: InputType;
  setting: Setting;
  input: ChatInput;
  persona: string;
  gold: BenchGold;
}

function parseImages(o: JsonObject): ReferenceImage[] {
  const v = o['images'];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new FieldError('images', 'expected a list of image paths or data URLs');
  return v.map((image, i) => {
    // An image is a path / data URL, or {source, mime?} as the app stores it.
    if (typeof image === 'string') {
      if (image.trim() === '') throw new FieldError(`images[${i}]`, 'must not be empty');
      return { source: image };
    }
    if (isPlainObject(image)) {
      return within(`images[${i}]`, () => {
        const ref: ReferenceImage = { source: read.string(image, 'source', { nonEmpty: true }) };
        const mime = read.string(image, 'mime', { optional: true });
        if (mime) ref.mime = mime;
        return ref;
      });
    }
    throw new FieldError(`images[${i}]`, 'expected an image path, a data URL or {source}');
  });
}

export function parseBenchItem(o: JsonObject): BenchItem {
  const id = read.string(o, 'id', { nonEmpty: true });
  const inputType = read.oneOf(o, 'input_type', INPUT_TYPES);
  const setting = read.oneOf(o, 'setting', SETTINGS);
  const messages = read.stringArray(o, 'messages');
  if (messages.length === 0) throw new FieldError('messages', 'must hold at least one user message');
  messages.forEach((m, i) => {
    if (m.trim() === '') throw new FieldError(`messages[${i}]`, 'must not be empty');
  });
  const input: ChatInput = { messages, images: parseImages(o) };
  // The breakdowns group by the declared type, so it must describe the input the engines actually get.
  const actualType = inputTypeOf(input);
  if (actualType !== inputType) {
    throw new FieldError(
      'input_type',
      `says "${inputType}" but the item has ${messages.length} message(s) and ${input.images.length} image(s), which is "${actualType}"`,
    );
  }
  const g = read.object(o, 'gold');
  const gold = within('gold', () => {
    const modelType = read.string(g, 'model_type', { optional: true });
    if (modelType !== '' && modelType !== 'Checkpoint' && modelType !== 'LORA') {
      throw new FieldError('model_type', `expected "Checkpoint" or "LORA", got "${modelType}"`);
    }
    const prompt = read.string(g, 'prompt', { nonEmpty: true });
    return {
      prompt,
      raw_prompt: read.string(g, 'raw_prompt', { optional: true }) || prompt,
      negative_prompt: read.string(g, 'negative_prompt', { optional: true }),
      model_id: read.number(g, 'model_id', { integer: true }),
      model: read.string(g, 'model', { optional: true }),
      model_type: modelType === '' ? null : modelType,
      arguments: within('arguments', () => parseArguments(read.object(g, 'arguments'))),
    } satisfies BenchGold;
  });
  return { id, input_type: inputType, setting, input, persona: read.string(o, 'persona', { optional: true }), gold };
}

export class BenchItemsError extends Error {
  override name = 'BenchItemsError';
  constructor(readonly errors: RecordError[]) {
    super(
      `${errors.length} problem${errors.length === 1 ? '' : 's'} in the test items:\n` +
        errors.slice(0, 10).map(formatRecordError).join('\n') +
        (errors.length > 10 ? `\n... and ${errors.length - 10} more` : ''),
    );
  }
}

/**
 * Parses a test-item file. Unlike a catalog import, a benchmark must run on exactly the items given:
 * any bad line, a duplicate id or an empty file is an error (all problems are listed at once).
 */
export function loadBenchItems(text: string, file: string): BenchItem[] {
  const parsed = parseJsonl(text, parseBenchItem, { file });
  const errors = [...parsed.errors];
  const seen = new Map<string, number>();
  parsed.records.forEach((item, i) => {
    const line = parsed.recordLines[i] ?? 0;
    const first = seen.get(item.id);
    if (first !== undefined)
      errors.push({ file, line, field: 'id', message: `duplicate id "${item.id}" (first on line ${first})` });
    else seen.set(item.id, line);
  });
  if (errors.length === 0 && parsed.records.length === 0)
    errors.push({ file, line: 1, field: '', message: 'the file holds no test items' });
  if (errors.length > 0) throw new BenchItemsError(errors.sort((a, b) => a.line - b.line));
  return parsed.records;
}
