/**
 * The last part of stage 3: fitting the plan to the chosen model as people run it. The size follows the
 * request's shape words and the model's base family (an SDXL model at one of its native ~1 MP sizes); a
 * LoRA gets the checkpoint its own demonstrations were made with (same base family, installed when only
 * installed models may be used); the model's trigger words join the prompt.
 */
import { retrievalTerms, stripPromptSyntax } from '../../retrieval/terms.ts';
import { checkpointKeysOf, type CatalogIndex } from './index-build.ts';
import { isNativeSize, nativeSize, orientationOf, type ShapeRequest, type SizeFamily } from '../../request/shape.ts';
import { sameFamily, type BaseFamily, type StyleClass } from './model-traits.ts';

function sizeFamily(family: BaseFamily): SizeFamily | null {
  if (family === 'sdxl') return 'sdxl';
  if (family === 'sd2-768') return 'sd2-768';
  if (family === 'sd1' || family === 'sd2') return 'sd1';
  return null;
}

export interface FittedSize {
  width: number;
  height: number;
  /** Why the size changed from the learned one; null when it did not. */
  reason: string | null;
}

/**
 * The size for `modelRow` given the learned (width, height), the request's shape, and the (width, height)
 * pairs of the model's demonstrations (its habits, most used first).
 */
export function fitSize(
  index: CatalogIndex,
  modelRow: number,
  learned: { width: number; height: number },
  shape: ShapeRequest | null,
  habits: readonly (readonly [number, number])[],
): FittedSize {
  const family = sizeFamily(index.traits[modelRow]!.family);
  const base = index.models[modelRow]!.base_model;
  const learnedOrientation = orientationOf(learned.width, learned.height);
  const aspectFar = (w: number, h: number) => shape?.aspect != null && Math.abs(Math.log(w / h / shape.aspect)) > 0.1;
  const wantsChange =
    shape !== null && (shape.orientation !== learnedOrientation || aspectFar(learned.width, learned.height));
  if (family === 'sdxl') {
    if (!wantsChange && isNativeSize('sdxl', learned.width, learned.height)) return { ...learned, reason: null };
    const [width, height] = nativeSize(
      'sdxl',
      shape?.orientation ?? learnedOrientation,
      shape?.aspect ?? (shape ? null : learned.width / learned.height),
    );
    const why = shape
      ? `"${shape.cue}" asks for a ${shape.orientation} picture`
      : `${learned.width}×${learned.height} is not a size ${base} models are made for`;
    return { width, height, reason: `${why}: ${width}×${height}, a native ${base} size (about one megapixel)` };
  }
  if (!wantsChange) return { ...learned, reason: null };
  // The model's own habit in that shape, else its family's usual size for it.
  const habit = habits.find(([w, h]) => orientationOf(w, h) === shape!.orientation && !aspectFar(w, h));
  const [width, height] = habit ?? nativeSize(family ?? 'sd1', shape!.orientation, shape!.aspect);
  const source = habit
    ? `the model's own ${shape!.orientation} size`
    : `the usual ${shape!.orientation} size for ${base}`;
  return {
    width,
    height,
    reason: `"${shape!.cue}" asks for a ${shape!.orientation} picture: ${width}×${height}, ${source}`,
  };
}

export interface BaseCheckpoint {
  row: number;
  reason: string;
}

export interface BaseCheckpointOptions {
  /** The models the plan may use (safe mode, the server's installed models); all when absent. */
  allowed?: ReadonlySet<number>;
  /** The styles the request asks for ("anime style"): a checkpoint of another style is passed over. */
  styles?: readonly StyleClass[];
  /** Checkpoints the person named ("use the DreamShaper checkpoint with the Ghibli LoRA"), by row: one that fits wins. */
  named?: readonly number[];
}

/**
 * The checkpoint a LoRA runs on: the one most of its demonstrations were made with, found in the catalog
 * by hash, file or name, of the same base family, not a person's likeness or NSFW-leaning, and allowed;
 * else the most downloaded general checkpoint of its family and style. When the request asks for a style,
 * a checkpoint of that style comes first: an anime LoRA asked for "anime style" does not run on a photo
 * checkpoint because most of its demonstrations did. Null when the catalog has none.
 */
export function baseCheckpointFor(
  index: CatalogIndex,
  loraRow: number,
  { allowed, styles = [], named = [] }: BaseCheckpointOptions = {},
): BaseCheckpoint | null {
  const lora = index.traits[loraRow]!;
  const asked = (row: number) => index.traits[row]!.styles.some((s) => styles.includes(s));
  const usable = (row: number) => {
    const t = index.traits[row]!;
    return (
      index.models[row]!.type === 'Checkpoint' &&
      !t.person &&
      !t.nsfw &&
      sameFamily(t.family, lora.family) &&
      (!allowed || allowed.has(index.models[row]!.id))
    );
  };
  const namedUsable = named.find(usable);
  if (namedUsable !== undefined) return { row: namedUsable, reason: 'the request names it' };
  const votes = new Map<number, number>();
  const demos = index.demosOfModel[loraRow] ?? [];
  for (const demo of demos) {
    const d = index.demonstrations[demo]!;
    if (!d.checkpoint && !d.checkpoint_hash) continue;
    const title = (d.checkpoint ?? '').replace(/\s*\[[0-9a-f]{8,}\]\s*$/i, '');
    const keys = checkpointKeysOf(title, title, d.checkpoint_hash ?? '');
    const row = keys.map((k) => index.checkpointKeys.get(k)).find((r) => r !== undefined);
    if (row !== undefined && usable(row)) votes.set(row, (votes.get(row) ?? 0) + 1);
  }
  const ranked = [...votes].sort(
    (a, b) => b[1] - a[1] || index.models[b[0]]!.downloads - index.models[a[0]]!.downloads,
  );
  const general = index.generalRows.filter(usable);
  if (styles.length > 0 && !(ranked[0] && asked(ranked[0][0]))) {
    const votedInStyle = ranked.find(([row]) => asked(row));
    if (votedInStyle)
      return {
        row: votedInStyle[0],
        reason: `${votedInStyle[1]} of the LoRA's ${demos.length} demonstrations were made with it, and it is ${styles.join('/')} as asked`,
      };
    const generalInStyle = general.find(asked);
    if (generalInStyle !== undefined)
      return {
        row: generalInStyle,
        reason: `a popular ${index.models[generalInStyle]!.base_model} checkpoint in the ${styles.join('/')} style the request asks for`,
      };
  }
  const voted = ranked[0];
  if (voted) {
    return { row: voted[0], reason: `${voted[1]} of the LoRA's ${demos.length} demonstrations were made with it` };
  }
  const styled = (row: number) => index.traits[row]!.styles.some((s) => lora.styles.includes(s));
  const pick =
    general.find(styled) ??
    general[0] ??
    index.models
      .map((_, row) => row)
      .filter(usable)
      .sort((a, b) => index.models[b]!.downloads - index.models[a]!.downloads)[0];
  if (pick === undefined) return null;
  return {
    row: pick,
    reason: `no demonstration of the LoRA names a checkpoint in the catalog; a popular ${index.models[pick]!.base_model} checkpoint${styled(pick) ? ' of its style' : ''}`,
  };
}

/** Trigger words of a model worth writing: the first part of each, not shared booru vocabulary, at most 2. */
export function triggerWordsFor(index: CatalogIndex, modelRow: number): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const entry of index.models[modelRow]!.trained_words) {
    // "(sks person:1.2)" and "sks person" are one trigger: weights, brackets and LoRA tags aside.
    const first = stripPromptSyntax(entry.split(',')[0]!).trim();
    const key = retrievalTerms(first.replace(/_/g, ' ')).join(' ');
    if (first.length === 0 || first.length > 40 || key.length === 0 || seen.has(key)) continue;
    seen.add(key);
    if (index.naming.sharedTriggers.has(key)) continue;
    out.push(first);
    if (out.length >= 2) break;
  }
  return out;
}
