/**
 * Constrained decoding of the generation arguments. The JSON scaffold
 *   {"sampler": "<v>", "steps": <v>, "cfg_scale": <v>, "width": <v>, "height": <v>}
 * is fed to the model verbatim; each <v> is decoded token by token over a trie of the field's
 * allowed values (their token sequences), so every step picks the best-scoring token that keeps the
 * value a prefix of some allowed value, and a complete value ends when the first token of what
 * follows it outscores every longer continuation. The result always parses and always validates:
 * a known sampler, numbers in range, sizes on the multiple-of-8 grid.
 */
import { ARGUMENT_LIMITS, KNOWN_SAMPLERS, type GenerationArguments } from '../../plan.ts';
import type { DecodingState, LlmSession, StepOutput } from './session.ts';
import { throwIfAborted } from './session.ts';

export type DecodedArgumentName = 'sampler' | 'steps' | 'cfg_scale' | 'width' | 'height';

export interface TokenTrie {
  children: Map<number, TokenTrie>;
  /** The allowed value that ends here, if any. */
  value: string | null;
}

export function buildTrie(values: readonly string[], encode: (text: string) => number[]): TokenTrie {
  const root: TokenTrie = { children: new Map(), value: null };
  for (const value of values) {
    let node = root;
    for (const id of encode(value)) {
      let next = node.children.get(id);
      if (!next) node.children.set(id, (next = { children: new Map(), value: null }));
      node = next;
    }
    if (node === root) throw new Error(`the allowed value "${value}" encodes to no tokens`);
    node.value = value;
  }
  return root;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let v = from; v <= to + 1e-9; v += step) out.push(Math.round(v * 10) / 10);
  return out;
}

/** The allowed JSON texts of each field, in the order the scaffold asks for them. */
export function allowedArgumentValues(): Record<DecodedArgumentName, string[]> {
  const { steps, cfg_scale, size } = ARGUMENT_LIMITS;
  const numbers = (values: number[]) => values.map((v) => ` ${v}`);
  return {
    sampler: [...KNOWN_SAMPLERS],
    steps: numbers(range(steps.min, steps.max, 1)),
    cfg_scale: numbers(range(cfg_scale.min, cfg_scale.max, 0.5)),
    width: numbers(range(size.min, size.max, size.multiple)),
    height: numbers(range(size.min, size.max, size.multiple)),
  };
}

/** The scaffold text before each field, and the text that closes the object. */
export const SCAFFOLD: { field: DecodedArgumentName; before: string }[] = [
  { field: 'sampler', before: '{"sampler": "' },
  { field: 'steps', before: '", "steps":' },
  { field: 'cfg_scale', before: ', "cfg_scale":' },
  { field: 'width', before: ', "width":' },
  { field: 'height', before: ', "height":' },
];
export const SCAFFOLD_END = '}';

export interface ArgumentDecoder {
  tries: Record<DecodedArgumentName, TokenTrie>;
  /** Token ids of each scaffold piece; index i precedes field i, the last one closes the object. */
  pieces: number[][];
}

/** Tokenises the allowed values and the scaffold once per session. */
export function createArgumentDecoder(session: Pick<LlmSession, 'encode'>): ArgumentDecoder {
  const values = allowedArgumentValues();
  const encode = (t: string) => session.encode(t);
  const tries = {
    sampler: buildTrie(values.sampler, encode),
    steps: buildTrie(values.steps, encode),
    cfg_scale: buildTrie(values.cfg_scale, encode),
    width: buildTrie(values.width, encode),
    height: buildTrie(values.height, encode),
  };
  const pieces = [...SCAFFOLD.map((s) => encode(s.before)), encode(SCAFFOLD_END)];
  if (pieces.some((p) => p.length === 0)) throw new Error('a scaffold piece encodes to no tokens');
  return { tries, pieces };
}

export interface DecodedArguments {
  arguments: Omit<GenerationArguments, 'seed'>;
  /** The JSON text the model produced (scaffold included). */
  text: string;
  /** Per field: how many allowed continuations competed at the first token. */
  choices: Record<DecodedArgumentName, number>;
}

async function decodeValue(
  state: DecodingState,
  step: StepOutput,
  trie: TokenTrie,
  endToken: number,
  signal?: AbortSignal,
): Promise<{ value: string; step: StepOutput }> {
  let node = trie;
  let current = step;
  for (;;) {
    throwIfAborted(signal);
    let bestToken = -1;
    let bestScore = -Infinity;
    for (const token of node.children.keys()) {
      const score = current.logits[token] ?? -Infinity;
      if (bestToken === -1 || score > bestScore) {
        bestToken = token;
        bestScore = score;
      }
    }
    // A complete value ends when what follows it scores at least as well as any longer value.
    if (node.value !== null && (bestToken === -1 || (current.logits[endToken] ?? -Infinity) >= bestScore)) {
      return { value: node.value, step: current };
    }
    const next = node.children.get(bestToken);
    if (!next) throw new Error('constrained decoding reached a dead end (empty trie)');
    current = await state.feed([bestToken], signal);
    node = next;
  }
}

/**
 * Decodes the arguments after `contextIds` (which should end where the JSON object starts). The
 * first scaffold piece is fed with the context, so the whole prompt costs one prefill.
 */
export async function decodeArguments(
  session: LlmSession,
  decoder: ArgumentDecoder,
  contextIds: readonly number[],
  signal?: AbortSignal,
): Promise<DecodedArguments> {
  const state = session.begin();
  try {
    let step = await state.feed([...contextIds, ...decoder.pieces[0]!], signal);
    const values = {} as Record<DecodedArgumentName, string>;
    const choices = {} as Record<DecodedArgumentName, number>;
    for (const [i, { field }] of SCAFFOLD.entries()) {
      const following = decoder.pieces[i + 1]!;
      const trie = decoder.tries[field];
      choices[field] = trie.children.size;
      const decoded = await decodeValue(state, step, trie, following[0]!, signal);
      values[field] = decoded.value;
      // The closing brace needs no forward pass: nothing is decoded after it.
      if (i + 1 < SCAFFOLD.length) step = await state.feed(following, signal);
    }
    const text = SCAFFOLD.map((s) => s.before + values[s.field]).join('') + SCAFFOLD_END;
    const parsed = JSON.parse(text) as Omit<GenerationArguments, 'seed'>;
    return { arguments: parsed, text, choices };
  } finally {
    state.dispose();
  }
}
