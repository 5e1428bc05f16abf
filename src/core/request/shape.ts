/**
 * The picture shape a request asks for, and the sizes each base-model family is made for. Format words
 * ("16:9", "phone wallpaper", "landscape orientation", "vertical") are strong; scene words that imply a
 * shape ("landscape", "portrait", "full body", "poster") are weak; a strong cue wins over weak ones, and a
 * later cue over an earlier one of the same strength.
 */
import { findWords, phraseWords, tokenize } from './tokens.ts';
import { ASPECT_CUES, SHAPE_CUES, type Orientation } from './vocabulary.ts';

export interface ShapeRequest {
  orientation: Orientation;
  /** Width / height when the cue says more than an orientation ("16:9", "panoramic"). */
  aspect: number | null;
  /** The words that asked for it. */
  cue: string;
}

const WEAK = new Set([
  'landscape',
  'portrait',
  'full body',
  'full-body',
  'full length',
  'head to toe',
  'poster',
  'movie poster',
  'scenery',
  'vista',
  'tall',
  'avatar',
  'icon',
  'wide shot',
  'wide angle',
  'book cover',
]);
/** "wide" is a shape only on its own ("make it wide") or before a format noun, not in "a wide river". */
const WIDE_NOUNS = new Set([
  'format',
  'image',
  'picture',
  'shot',
  'view',
  'frame',
  'aspect',
  'ratio',
  'version',
  'crop',
]);

const CUES = SHAPE_CUES.map((c) => ({ ...c, words: phraseWords(c.phrase) })).sort(
  (a, b) => b.words.length - a.words.length,
);

export function shapeOf(phrases: readonly string[]): ShapeRequest | null {
  let best: { shape: ShapeRequest; strong: boolean } | null = null;
  for (const phrase of phrases) {
    const tokens = tokenize(phrase);
    for (const cue of CUES) {
      const at = findWords(tokens, cue.words);
      if (at < 0) continue;
      if (cue.phrase === 'wide' && !(tokens.length === 1 || WIDE_NOUNS.has(tokens[at + 1]?.norm ?? ''))) continue;
      if (cue.phrase === 'tall' && tokens.length > 3 && !WIDE_NOUNS.has(tokens[at + 1]?.norm ?? '')) continue;
      const strong = !WEAK.has(cue.phrase);
      if (best?.strong && !strong) continue;
      const aspect = ASPECT_CUES.find((a) => a.phrase === cue.phrase)?.aspect ?? null;
      best = { shape: { orientation: cue.orientation, aspect, cue: cue.phrase }, strong };
      break;
    }
  }
  return best?.shape ?? null;
}

export type SizeFamily = 'sdxl' | 'sd2-768' | 'sd1';

/** Sizes each family is trained on or run at by its community (width, height). */
export const NATIVE_SIZES: Readonly<Record<SizeFamily, readonly (readonly [number, number])[]>> = {
  sdxl: [
    [1024, 1024],
    [1152, 896],
    [896, 1152],
    [1216, 832],
    [832, 1216],
    [1344, 768],
    [768, 1344],
    [1536, 640],
    [640, 1536],
  ],
  'sd2-768': [
    [768, 768],
    [896, 768],
    [768, 896],
    [1152, 768],
    [768, 1152],
    [1344, 768],
    [768, 1344],
    [1536, 640],
    [640, 1536],
  ],
  sd1: [
    [512, 512],
    [640, 512],
    [512, 640],
    [768, 512],
    [512, 768],
    [912, 512],
    [512, 912],
    [1024, 512],
    [512, 1024],
  ],
};

export function orientationOf(width: number, height: number): Orientation {
  if (Math.abs(Math.log(width / height)) < 0.05) return 'square';
  return width > height ? 'landscape' : 'portrait';
}

/** Default aspect of an orientation when the cue gives none. */
const DEFAULT_ASPECT: Record<Orientation, number> = { landscape: 3 / 2, portrait: 2 / 3, square: 1 };

/** The family size closest in aspect to `aspect` (log distance), within the wanted orientation. */
export function nativeSize(family: SizeFamily, orientation: Orientation, aspect: number | null): [number, number] {
  const target = aspect ?? DEFAULT_ASPECT[orientation];
  let best: readonly [number, number] = NATIVE_SIZES[family][0]!;
  let bestDistance = Infinity;
  for (const size of NATIVE_SIZES[family]) {
    if (orientationOf(size[0], size[1]) !== orientation) continue;
    const d = Math.abs(Math.log(size[0] / size[1] / target));
    if (d < bestDistance) {
      best = size;
      bestDistance = d;
    }
  }
  return [best[0], best[1]];
}

export function isNativeSize(family: SizeFamily, width: number, height: number): boolean {
  return NATIVE_SIZES[family].some(([w, h]) => w === width && h === height);
}
