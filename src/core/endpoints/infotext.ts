/**
 * A1111 infotext: the `parameters` text that A1111 writes into its PNGs and that Civitai and A1111's
 * "PNG Info" read back ("prompt\nNegative prompt: …\nSteps: …, Sampler: …"), written into and read from
 * a generated PNG through ../png.ts.
 */
import type { GenerationPlan } from '../plan.ts';
import { readText, withOnlyText } from '../png.ts';

/** Returns a copy of the PNG with only the image's own chunks and the app's `parameters` text chunk before IEND. */
export function embedParameters(png: Uint8Array, parameters: string): Uint8Array {
  return withOnlyText(png, 'parameters', parameters);
}

/** The `parameters` text of a PNG, or null when it has none. */
export function readParameters(png: Uint8Array): string | null {
  return readText(png, 'parameters');
}

/** A value A1111 would quote: one holding a comma, colon or quote. */
function quoteIfNeeded(value: string): string {
  return /[,:"\n]/.test(value) ? JSON.stringify(value) : value;
}

const stripExtension = (file: string) => file.replace(/\.(safetensors|ckpt|pt|pth|bin)$/i, '');

/**
 * The A1111 infotext for a plan and seed ("prompt\nNegative prompt: …\nSteps: …, Sampler: …").
 * A LoRA plan states its `<lora:…>` tag in the prompt, as A1111 writes it.
 */
export function formatParameters(plan: GenerationPlan, seed: number, extra: Record<string, string> = {}): string {
  const a = plan.arguments;
  const fields: [string, string][] = [
    ['Steps', String(a.steps)],
    ['Sampler', a.sampler],
    ['CFG scale', String(a.cfg_scale)],
    ['Seed', String(seed)],
    ['Size', `${a.width}x${a.height}`],
  ];
  if (plan.model.type === 'Checkpoint') {
    if (plan.model.hash) fields.push(['Model hash', plan.model.hash.toLowerCase()]);
    fields.push(['Model', stripExtension(plan.model.file)]);
  }
  for (const [k, v] of Object.entries(extra)) fields.push([k, v]);
  // Line breaks in the prompts would let a prompt write its own "Negative prompt:" or fields line.
  const oneLine = (text: string) => text.replace(/\r\n|\r|\n/g, ' ');
  const lines = [oneLine(plan.prompt)];
  if (plan.negative_prompt.trim()) lines.push(`Negative prompt: ${oneLine(plan.negative_prompt)}`);
  lines.push(fields.map(([k, v]) => `${k}: ${quoteIfNeeded(v)}`).join(', '));
  return lines.join('\n');
}

export interface ParsedParameters {
  prompt: string;
  negative_prompt: string;
  fields: Record<string, string>;
}

/** Reads A1111 infotext back (the last line holds "Key: value, …"; quoted values may hold commas). */
export function parseParameters(text: string): ParsedParameters {
  const lines = text.split('\n');
  const last = lines[lines.length - 1] ?? '';
  const fieldRe = /\s*([\w][\w \-/]*):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)/g;
  const fields: Record<string, string> = {};
  let fieldLine = false;
  if (
    /^Steps: /.test(last) ||
    (lines.length > 1 && /^\s*[\w][\w \-/]*: /.test(last) && !last.startsWith('Negative prompt:'))
  ) {
    fieldLine = true;
    for (const m of last.matchAll(fieldRe)) {
      if (m[0].trim() === '') continue;
      const raw = m[2]!.trim();
      fields[m[1]!.trim()] = raw.startsWith('"') ? (JSON.parse(raw) as string) : raw;
    }
  }
  const body = fieldLine ? lines.slice(0, -1) : lines;
  const negAt = body.findIndex((l) => l.startsWith('Negative prompt:'));
  const prompt = (negAt < 0 ? body : body.slice(0, negAt)).join('\n');
  const negative =
    negAt < 0
      ? ''
      : body
          .slice(negAt)
          .join('\n')
          .replace(/^Negative prompt:\s?/, '');
  return { prompt, negative_prompt: negative, fields };
}
