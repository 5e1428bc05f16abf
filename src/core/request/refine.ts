/**
 * What a later turn asks to change, read from its words before filler is stripped (parse.ts strips
 * "make it" and "instead", which are exactly the words that say a change is meant):
 * - "make it a dog", "turn it into an owl", "it should be a fox", "a dog instead": a new main subject;
 * - "on the moon instead", "now in a desert": a new place, replacing the earlier one with that preposition;
 * - "make her hair short", "make the sea calm": a new quality of a thing said before; "make her older":
 *   of the main subject;
 * - "make the book a newspaper": a thing said before replaced;
 * - "less realistic": a quality to take out.
 * Each takes the whole clause; what it cannot read as one of these goes on as an ordinary phrase.
 */
import { COLOURS } from './vocabulary.ts';
import { stemWord, type Token, wordToken } from './tokens.ts';

export type ClauseChange =
  | { kind: 'subject'; by: Token[] }
  | { kind: 'subject quality'; quality: Token }
  | { kind: 'thing'; thing: Token; by: Token[] }
  | { kind: 'place'; preposition: string; by: Token[]; rest?: Token[] }
  | { kind: 'quality'; thing: string; quality: Token }
  | { kind: 'less'; words: Token[] };

/**
 * Qualities that exclude each other within a set: a new one replaces an earlier one of a set they share
 * ("long hair" then "make her hair short"); a quality sharing no set with the old one is added beside it.
 * Sets of the picture as a whole ("make it darker" is about the light) never go to its subject.
 */
const QUALITY_SETS: readonly { words: readonly string[]; of: 'thing' | 'picture' }[] = [
  { words: ['long', 'short'], of: 'thing' },
  { words: ['tall', 'short'], of: 'thing' },
  { words: ['big', 'small', 'large', 'tiny', 'huge', 'giant', 'little', 'massive', 'enormous'], of: 'thing' },
  { words: ['old', 'young', 'elderly', 'teenage', 'baby'], of: 'thing' },
  { words: ['ancient', 'modern', 'new', 'old', 'futuristic', 'medieval'], of: 'thing' },
  {
    words: ['happy', 'sad', 'angry', 'smiling', 'serious', 'cheerful', 'gloomy', 'crying', 'laughing', 'scared'],
    of: 'thing',
  },
  { words: ['curly', 'straight', 'wavy', 'braided'], of: 'thing' },
  { words: ['thick', 'thin', 'fat', 'skinny', 'slim', 'chubby', 'muscular'], of: 'thing' },
  { words: ['wet', 'dry'], of: 'thing' },
  { words: ['clean', 'dirty', 'messy', 'tidy'], of: 'thing' },
  { words: ['fast', 'slow'], of: 'thing' },
  { words: ['calm', 'stormy', 'rough', 'choppy', 'still', 'wild'], of: 'picture' },
  { words: ['bright', 'dark', 'dim', 'sunlit', 'shadowy'], of: 'picture' },
  { words: ['hot', 'cold', 'warm', 'cool', 'icy'], of: 'picture' },
  { words: ['full', 'empty', 'crowded', 'deserted'], of: 'picture' },
  { words: ['loud', 'quiet'], of: 'picture' },
];
const QUALITY_WORDS = new Set(QUALITY_SETS.flatMap((set) => set.words));
const THING_QUALITIES = new Set(QUALITY_SETS.filter((set) => set.of === 'thing').flatMap((set) => set.words));

/** The plain form of a quality said as a comparative ("older" -> "old", "bigger" -> "big"); null if none. */
export function plainQuality(word: string): string | null {
  if (QUALITY_WORDS.has(word)) return word;
  const candidates = [
    word.replace(/ier$/, 'y'),
    word.replace(/(.)\1er$/, '$1'),
    word.replace(/er$/, ''),
    word.replace(/r$/, ''),
  ];
  return candidates.find((c) => c !== word && QUALITY_WORDS.has(c)) ?? null;
}

/** True when `a` and `b` are qualities of one set (so b replaces a). */
export function sameQualitySet(a: string, b: string): boolean {
  return (
    (COLOURS.has(a) && COLOURS.has(b)) || QUALITY_SETS.some((set) => set.words.includes(a) && set.words.includes(b))
  );
}

/** Words that describe without naming a kind: they stay when the thing they describe is replaced. */
export function isGeneralQuality(word: string): boolean {
  return COLOURS.has(word) || QUALITY_WORDS.has(word) || NUMBER_WORDS.has(word) || /^\d+$/.test(word);
}

/** A word that counts things ("two", "several", "3"), as a number given to a thing is read. */
export const isCountWord = (word: string): boolean => NUMBER_WORDS.has(word) || /^\d{1,2}$/.test(word);

const NUMBER_WORDS = new Set([
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
  'ten',
  'several',
  'many',
  'single',
]);

/** Places a later turn moves the picture to ("on the moon instead"); "with" adds, it never moves. */
const PLACE_PREPOSITIONS = new Set([
  'on',
  'in',
  'at',
  'inside',
  'under',
  'underneath',
  'near',
  'beside',
  'by',
  'over',
  'above',
  'across',
  'through',
  'along',
  'among',
]);

export const isPlacePreposition = (word: string): boolean => PLACE_PREPOSITIONS.has(word);

/** Verbs that move the subject somewhere else ("put it on a racetrack", "move him to the beach"). */
const MOVE_VERBS = new Set(['put', 'move', 'place', 'set', 'take', 'bring', 'send', 'relocate']);
/** Where a move lands, as a place in the prompt: "to the beach" is "at beach", "into a cave" is "in cave". */
const MOVED_TO: Readonly<Record<string, string>> = { to: 'at', into: 'in', onto: 'on' };

/** Words that may come before the change ("ok, now make it a dog"). */
const LEAD_IN = new Set([
  'ok',
  'okay',
  'now',
  'actually',
  'no',
  'nope',
  'hmm',
  'so',
  'then',
  'and',
  'also',
  'just',
  'maybe',
  'please',
  'can',
  'could',
  'would',
  'you',
  'u',
  'lets',
  'hey',
  'well',
  'oh',
  'yes',
  'yeah',
  'wait',
  'rather',
  'better',
]);
/** Words that may end it ("… instead, please"). */
const LEAD_OUT = new Set(['instead', 'please', 'pls', 'now', 'then', 'again', 'rather', 'thanks', 'too', 'ok']);
/** Words that say the clause replaces rather than adds. */
const CHANGE_CUES = new Set(['instead', 'rather', 'now', 'actually']);
/** Words that say it adds ("actually, a hat too"), whatever else it says. */
const ADDING_CUES = new Set(['too', 'also']);

const ARTICLES = new Set(['a', 'an']);
const SUBJECT_PRONOUNS = new Set(['it', 'her', 'him', 'them']);
const DETERMINERS = new Set(['the', 'her', 'his', 'its', 'their', 'my', 'our', 'your']);

/** How much, before a quality: "make it a bit darker" is "make it darker", never a new subject "bit darker". */
const DEGREE_PHRASES = [
  ['a', 'bit'],
  ['a', 'little'],
  ['a', 'lot'],
  ['a', 'tad'],
  ['a', 'touch'],
  ['slightly'],
  ['somewhat'],
  ['much'],
  ['way'],
  ['even'],
];

export function withoutDegrees(tokens: readonly Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; ) {
    const degree = DEGREE_PHRASES.find((d) => d.every((w, k) => tokens[i + k]?.norm === w));
    // Only before another word: "a little" alone ends nothing, "a little boat" is a boat.
    const next = degree ? tokens[i + degree.length] : undefined;
    if (degree && next && /(er|ier)$/.test(next.norm)) {
      i += degree.length;
      continue;
    }
    out.push(tokens[i]!);
    i++;
  }
  return out;
}

/** The turn's own words, without lead-in and lead-out; and whether a change cue was among those cut. */
function core(tokens: readonly Token[]): { words: Token[]; cued: boolean } {
  let start = 0;
  let end = tokens.length;
  let cued = false;
  let adds = false;
  const read = (word: string) => {
    cued ||= CHANGE_CUES.has(word);
    adds ||= ADDING_CUES.has(word);
  };
  while (start < end && LEAD_IN.has(tokens[start]!.norm)) read(tokens[start++]!.norm);
  while (end > start && LEAD_OUT.has(tokens[end - 1]!.norm)) read(tokens[--end]!.norm);
  return { words: tokens.slice(start, end), cued: cued && !adds };
}

const norms = (tokens: readonly Token[]) => tokens.map((t) => t.norm);

function startsWithWords(words: readonly string[], prefix: readonly string[]): boolean {
  return prefix.every((w, i) => words[i] === w);
}

/** A noun phrase after an article: "a dog" -> [dog]; null when it holds no naming word. */
function articled(tokens: readonly Token[]): Token[] | null {
  if (tokens.length < 2 || !ARTICLES.has(tokens[0]!.norm)) return null;
  const rest = tokens.slice(1);
  if (rest.some((t) => t.norm === '' || t.norm === 'one' || t.norm === 'ones')) return null;
  if (rest.every((t) => COLOURS.has(t.norm))) return null;
  return rest.length <= 4 ? rest : null;
}

/**
 * Reads one clause of a later turn as a change, or null. `handledByGroups` tells words the exclusive
 * groups (time of day, weather, season, medium) already handle: "make it a night scene" is theirs.
 */
export function readClauseChange(
  tokens: readonly Token[],
  handledByGroups: (words: readonly Token[], use: 'subject' | 'place') => boolean,
): ClauseChange | null {
  const { words, cued } = core(withoutDegrees(tokens));
  const n = norms(words);
  // "on a racetrack", "to the beach": a place change, unless the groups (time, weather …) handle it. What
  // follows a second preposition ("to a rooftop at dusk") is said beside the place, as a phrase of its own.
  const placeOf = (phrase: readonly Token[]): ClauseChange | null => {
    const said = phrase[0]?.norm ?? '';
    const preposition = MOVED_TO[said] ?? (PLACE_PREPOSITIONS.has(said) ? said : null);
    const second = phrase.findIndex((t, i) => i > 1 && (PLACE_PREPOSITIONS.has(t.norm) || t.norm === 'during'));
    const head = second > 0 ? phrase.slice(0, second) : phrase;
    const by = head.slice(1).filter((t) => !ARTICLES.has(t.norm) && t.norm !== 'the');
    if (!preposition || by.length === 0 || by.length > 4 || handledByGroups(by, 'place')) return null;
    return second > 0
      ? { kind: 'place', preposition, by, rest: phrase.slice(second) }
      : { kind: 'place', preposition, by };
  };
  // "make it a dog", "turn it into an owl", "change it to a fox", "it should be a fox", "make it into a fox"
  const subjectFrames = [
    ['make', 'it', 'into'],
    ['make', 'it'],
    ['turn', 'it', 'into'],
    ['change', 'it', 'to'],
    ['change', 'it', 'into'],
    // A person turned into something else; "make her a dress" would give her one, so no "make her".
    ['turn', 'him', 'into'],
    ['turn', 'her', 'into'],
    ['turn', 'them', 'into'],
    ['change', 'him', 'into'],
    ['change', 'her', 'into'],
    ['it', 'should', 'be'],
    ['have', 'it', 'be'],
    ['let', 'it', 'be'],
  ];
  for (const frame of subjectFrames) {
    if (!startsWithWords(n, frame)) continue;
    const by = articled(words.slice(frame.length));
    if (by) return handledByGroups(by, 'subject') ? null : { kind: 'subject', by };
  }
  // "put it on a racetrack", "move him to the beach": a verb that moves the subject needs no cue.
  const moveTo = MOVE_VERBS.has(n[0] ?? '') && SUBJECT_PRONOUNS.has(n[1] ?? '') ? placeOf(words.slice(2)) : null;
  if (moveTo) return moveTo;
  // "a dog instead": only with a cue, else "a dog" would replace the subject of every added phrase.
  if (cued) {
    const by = articled(words);
    if (by && !handledByGroups(by, 'subject') && by.length <= 2) return { kind: 'subject', by };
    const place = PLACE_PREPOSITIONS.has(n[0] ?? '') ? placeOf(words) : null;
    if (place) return place;
  }
  if (n[0] === 'make') {
    // "make her older", "make him tall": a quality of the main subject.
    const plain = words.length === 3 && SUBJECT_PRONOUNS.has(n[1]!) ? plainQuality(n[2]!) : null;
    if (plain && THING_QUALITIES.has(plain)) return { kind: 'subject quality', quality: wordToken(plain) };
    let i = 1;
    if (DETERMINERS.has(n[i] ?? '')) i++;
    if (n[i] === 'it' || n[i] === 'them' || SUBJECT_PRONOUNS.has(n[i] ?? '')) return null;
    // "make the book a newspaper"
    const by = articled(words.slice(i + 1));
    if (i === 2 && words.length > i + 1 && by) return { kind: 'thing', thing: words[i]!, by };
    // "make her hair short", "make the sea calm"
    if (words.length === i + 2 && !COLOURS.has(n[i + 1]!)) {
      const plain = plainQuality(n[i + 1]!);
      return {
        kind: 'quality',
        thing: stemWord(n[i]!),
        quality: plain && plain !== n[i + 1] ? wordToken(plain) : words[i + 1]!,
      };
    }
  }
  // "less realistic", "less of the neon"
  if (n[0] === 'less' && words.length >= 2) {
    const rest = words.slice(n[1] === 'of' ? 2 : 1).filter((t) => t.norm !== 'the');
    if (rest.length > 0 && rest.length <= 3) return { kind: 'less', words: rest };
  }
  return null;
}

/** Words that end a subject ("a cat on a sofa", "a golden retriever sleeping …", "a man with a beard"). */
const SUBJECT_END = new Set([
  ...PLACE_PREPOSITIONS,
  // Adjectives that follow the thing they describe ("a hedgehog asleep in a teacup").
  'asleep',
  'awake',
  'alone',
  'afloat',
  'aglow',
  'ablaze',
  'adrift',
  'alive',
  'aloft',
  'with',
  'and',
  'who',
  'that',
  'which',
  'wearing',
  'holding',
  'of',
  'from',
  'for',
  'to',
  'during',
  'against',
]);
/** Framing words before "of" ("portrait of a woman"): the subject comes after them. */
const FRAMES = new Set([
  'portrait',
  'photo',
  'photograph',
  'picture',
  'painting',
  'drawing',
  'sketch',
  'illustration',
  'render',
  'shot',
  'closeup',
  'close-up',
  'image',
  'still',
  'scene',
  'view',
]);

/** Parts of a scene, never its subject: "change the sky to …" with no sky said before adds a sky. */
export const SCENE_PARTS = new Set([
  'background',
  'foreground',
  'backdrop',
  'sky',
  'ground',
  'floor',
  'wall',
  'walls',
  'lighting',
  'light',
  'lights',
  'setting',
  'scene',
  'weather',
  'time',
  'season',
  'colors',
  'colours',
  'color',
  'colour',
  'palette',
  'style',
  'mood',
  'atmosphere',
  'outfit',
  'clothes',
  'hair',
  'eyes',
  'face',
  'expression',
  'pose',
  'angle',
  'camera',
  'view',
  'frame',
  'composition',
  'text',
  'sign',
]);

/**
 * The main subject of a phrase: from the start (after "portrait of"), up to the first word that
 * leads elsewhere; [start, end) or null when there is none of one to four words.
 */
export function subjectSpan(tokens: readonly Token[]): { start: number; end: number } | null {
  // "portrait of …", "a close-up photo of …": the frame ends at its "of".
  const of = tokens.findIndex((t, i) => i <= 3 && t.norm === 'of' && i > 0 && FRAMES.has(tokens[i - 1]!.norm));
  let start = of >= 0 && of < 4 ? of + 1 : 0;
  while (start < tokens.length && (ARTICLES.has(tokens[start]!.norm) || tokens[start]!.norm === 'the')) start++;
  let end = start;
  while (
    end < tokens.length &&
    tokens[end]!.norm !== '' &&
    !SUBJECT_END.has(tokens[end]!.norm) &&
    // "a golden retriever sleeping …", "a cat dressed as …": a participle after the thing ends it.
    !(end > start && tokens[end]!.norm.length > 4 && /(ing|ed)$/.test(tokens[end]!.norm))
  )
    end++;
  const length = end - start;
  if (length < 1 || length > 4) return null;
  if (SCENE_PARTS.has(tokens[end - 1]!.norm)) return null;
  return { start, end };
}

/** Of a replaced span, the words that describe without naming a kind ("small white" of "small white cat"). */
export function keptQualities(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => isGeneralQuality(t.norm));
}
