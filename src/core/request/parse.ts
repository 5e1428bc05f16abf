/**
 * The person's request as prompt phrases: what they asked for, in their words and order, with what they
 * asked to leave out and what later turns replaced. This is the contract every engine's stage 1 keeps:
 *
 * - Only chat filler goes ("can you", "please", "I want", "make me", greetings, hedges); articles and
 *   possessives may go; every other word stays inside its phrase, so "still life", "look like" and quoted
 *   text survive whole.
 * - Negation ("no X", "without X", "don't include X", "nobody", "not X", "remove X") takes X out of the
 *   prompt and puts it in the negative prompt.
 * - A later turn replaces what it contradicts: a time of day, weather, season or medium replaces the
 *   earlier ones of that group, a colour given to a thing replaces its earlier colour, and "X instead of Y",
 *   "change Y to X", "replace Y with X" replace Y. What was replaced is gone, and the result says so.
 */
import { isCommonWord } from './common-words.ts';
import {
  COLOURS,
  EXCLUSIVE_GROUPS,
  MEDIUM_FAMILY,
  NOT_PLACE_ENDINGS,
  NOT_PLACE_WORDS,
  type ExclusiveGroup,
} from './vocabulary.ts';
import {
  type ClauseChange,
  isPlacePreposition,
  keptQualities,
  isCountWord,
  readClauseChange,
  SCENE_PARTS,
  sameQualitySet,
  subjectSpan,
  withoutDegrees,
} from './refine.ts';
import {
  findWords,
  phraseWords,
  QUOTED_OR_WEIGHTED,
  stemWord,
  tokenize,
  tokensText,
  type Token,
  wordToken,
} from './tokens.ts';

export interface Replacement {
  /** 0-based turn that made the change. */
  turn: number;
  /** Phrases taken out of the earlier turns. */
  removed: string[];
  /** The words taken out ("noon", "sunny"), so another engine's prompt can be held to the same change. */
  terms: string[];
  /** What replaced them (empty for a plain removal). */
  by: string;
  /** Why: the rule, in words ("time of day", "colour of dress", "instead of", "removed"). */
  rule: string;
}

export interface ParsedRequest {
  /** The person's phrases as they go into the prompt, in order. */
  phrases: string[];
  /** What the person asked to leave out, for the negative prompt. */
  negatives: string[];
  /** What later turns (or "X instead of Y") replaced. */
  replacements: Replacement[];
  /**
   * The models the person asked to use, by name ("DreamShaper checkpoint"): for choosing the model, not
   * for the prompt. Absent in plans cached before it was read.
   */
  models?: string[];
  /** Clauses only about the picture's format ("16:9", "tall format"): for its size, not for the prompt. */
  formats?: string[];
}

/** Leading chat filler, longest first within a clause start; matched on normalised words. */
const LEADING_FILLER: readonly string[][] = [
  'can you please',
  'could you please',
  'would you please',
  'can you',
  'could you',
  'would you',
  'will you',
  'can u',
  'could u',
  'can i get',
  'can i have',
  'could i get',
  'could i have',
  'may i have',
  'i would like to see',
  'i would like',
  'id like to see',
  'id like',
  'i would love',
  'id love',
  'i want to see',
  'i wanna see',
  'i want',
  'i wanted',
  'i wanna',
  'i need',
  'we need',
  'i am looking for',
  'im looking for',
  'looking for',
  'i am thinking',
  'im thinking',
  'i was thinking',
  'i was wondering if you could',
  'lets see',
  'let me see',
  'lets have',
  'lets get',
  'lets make',
  'lets do',
  'how about',
  'what about',
  'give me',
  'give him',
  'give her',
  'give them',
  'give it',
  'gimme',
  'get me',
  'show me',
  'make me',
  'draw me',
  'paint me',
  'render me',
  'create me',
  'generate me',
  'make it',
  'make them',
  'make everything',
  'make this',
  'make that',
  'it should be',
  'should be',
  'it should have',
  'have it be',
  'have it',
  'let it be',
  'set it',
  'turn it into',
  'turn it',
  'it is',
  'its',
  'there should be',
  'put in',
  'throw in',
  'add in',
  'also add',
  'add',
  'include',
  'put',
  'plus',
  'make',
  'create',
  'generate',
  'draw',
  'render',
  'imagine',
  'picture this',
  'design',
  'produce',
  'need',
  'want',
  'wanna',
  'please',
  'pls',
  'plz',
  'hey',
  'hi',
  'hello',
  'yo',
  'ok',
  'okay',
  'so',
  'um',
  'uh',
  'oh',
  'well',
  'also',
  'and',
  'but',
  'now',
  'then',
  'actually',
  'instead',
  'just',
  'maybe',
  'perhaps',
  'alright',
  'cool',
  'great',
  'nice',
  'awesome',
  'thanks',
  'thank you',
  'yes',
  'yeah',
  'yep',
  'hmm',
  'nothing but',
  'nothing else but',
  'do me',
  'do',
  'keep everything else',
  'keep everything',
  'keep the rest',
  'keep it the same',
  'same as before',
  'same thing',
  'same but',
  'like i said',
  'i said',
  'i told you',
  'something like',
  'something with',
  'something',
  'a picture of',
  'picture of',
  'an image of',
  'image of',
  'a pic of',
  'pic of',
  'a picture with',
  'picture with',
  'one of',
  'one with',
  'this time',
  'again',
  'too',
  'id love to see',
  'i would love to see',
  'id love',
  'to see',
  'to have',
  'to get',
  'lemme see',
  'lemme',
  'let me have',
  'switch to',
  'change to',
  'change it to',
  'go with',
  'go for',
  'try it in',
  'try',
  'do it in',
  'do it as',
  'render it as',
  'make it into',
  'make it look',
  'make them look',
].map((p) => p.split(' '));

const TRAILING_FILLER: readonly string[][] = [
  'please',
  'pls',
  'plz',
  'thanks',
  'thank you',
  'thx',
  'lol',
  'lmao',
  'haha',
  'if you can',
  'if possible',
  'instead',
  'too',
  'as well',
  'again',
  'ok',
  'okay',
  'though',
  'for me',
  'this time',
  'nothing else',
  'now',
  'rn',
  'xd',
  'ty',
].map((p) => p.split(' '));

/** Hedges that can go anywhere without changing what is asked ("kind of dark" is "dark"). */
const HEDGES: readonly string[][] = [['kind', 'of'], ['sort', 'of'], ['kinda'], ['sorta']];

/** Words that may go from inside a phrase: articles and possessives. */
const DROPPABLE = new Set(['a', 'an', 'the', 'my', 'our', 'your', 'ur', 'some', 'any']);

/** Words that end the scope of a negation ("no people in it", "without a hat and with a scarf"). */
const SCOPE_END = new Set([
  'off',
  'in',
  'on',
  'at',
  'with',
  'around',
  'near',
  'by',
  'anywhere',
  'visible',
  'please',
  'and',
  'but',
  'while',
  'just',
  'only',
  'allowed',
  'present',
  'showing',
  'shown',
  'whatsoever',
  'there',
  'here',
  'inside',
  'behind',
  'from',
  'because',
  'so',
  'to',
  'for',
  'that',
  'which',
  'who',
  'is',
  'are',
  'be',
  'should',
  'it',
  'this',
]);

/** Words that continue a negated list ("no people or cars"). */
const LIST_JOINERS = new Set(['or', 'nor']);

/** Words dropped at the start of a negated thing ("without any text" -> "text"). */
const NEGATED_LEAD = new Set([
  // "no cars and no trash": the second cue starts its own item.
  'no',
  'without',
  'any',
  'a',
  'an',
  'the',
  'more',
  'too',
  'so',
  'overly',
  'very',
  'really',
  'much',
  'of',
  'my',
  'her',
  'his',
  'their',
  'its',
]);

/** Cue words, normalised, that negate what follows. */
const NEGATION_CUES: readonly string[][] = [
  ['dont', 'include'],
  ['dont', 'add'],
  ['dont', 'show'],
  ['dont', 'put'],
  ['dont', 'want'],
  ['dont', 'draw'],
  ['dont', 'give'],
  ['dont', 'use'],
  ['dont', 'need'],
  ['dont', 'make', 'it'],
  ['do', 'not', 'include'],
  ['do', 'not', 'add'],
  ['do', 'not', 'show'],
  ['do', 'not', 'put'],
  ['do', 'not', 'want'],
  ['do', 'not', 'draw'],
  ['do', 'not', 'use'],
  ['do', 'not', 'make', 'it'],
  ['i', 'dont', 'want'],
  ['we', 'dont', 'want'],
  ['get', 'rid', 'of'],
  ['take', 'out'],
  ['take', 'off'],
  ['take', 'away'],
  ['shave', 'off'],
  ['shave'],
  ['leave', 'out'],
  ['remove'],
  ['delete'],
  ['erase'],
  ['lose'],
  ['drop'],
  ['without'],
  ['w/o'],
  ['minus'],
  ['sans'],
  ['no'],
  ['not'],
  ['never'],
  ['nothing'],
  ['free', 'of'],
  ['avoid'],
  ['exclude'],
  ['excluding'],
  ['except'],
  ['zero'],
  ['not', 'a', 'single'],
  ['not', 'one'],
  ['not', 'any'],
  ['minus'],
].sort((a, b) => b.length - a.length);

/** Cues that mean "no people" on their own. */
const NOBODY: readonly string[][] = [
  ['nobody'],
  ['no', 'one'],
  ['noone'],
  ['no', 'humans'],
  ['no', 'human'],
  ['no', 'person'],
  ['no', 'people'],
  ['empty', 'of', 'people'],
  ['devoid', 'of', 'people'],
  ['unpopulated'],
];

/** After "not": words that do not start a negated thing ("not sure", "not only"). */
const NOT_FOLLOWERS_TO_IGNORE = new Set(['sure', 'only', 'just', 'that', 'quite', 'exactly', 'really', 'bad', 'too']);

/** Phrases that start like a negation and are none ("no more than two", "without a doubt"). */
const NOT_NEGATIONS: readonly string[][] = [
  ['no', 'more', 'than'],
  ['no', 'less', 'than'],
  ['no', 'fewer', 'than'],
  ['no', 'bigger', 'than'],
  ['no', 'smaller', 'than'],
  ['no', 'longer', 'than'],
  ['nothing', 'but'],
  ['nothing', 'else', 'but'],
  ['no', 'doubt'],
  ['without', 'a', 'doubt'],
  ['no', 'matter'],
  ['no', 'wonder'],
  ['no', 'problem'],
  ['no', 'rush'],
  ['no', 'worries'],
  ['never', 'mind'],
  ['not', 'only'],
  ['not', 'sure'],
  ['not', 'just'],
];

const GROUP_NAMES = Object.keys(EXCLUSIVE_GROUPS) as ExclusiveGroup[];
const GROUP_MEMBERS: Record<ExclusiveGroup, string[][]> = Object.fromEntries(
  GROUP_NAMES.map((g) => [g, [...EXCLUSIVE_GROUPS[g]].map(phraseWords).sort((a, b) => b.length - a.length)]),
) as Record<ExclusiveGroup, string[][]>;

interface Clause {
  tokens: Token[];
}

interface TurnParse {
  clauses: Clause[];
  negatives: Token[][];
  /** Things this turn explicitly replaces or removes in earlier turns, with what replaces them. */
  explicit: { removed: Token[]; by: Token[]; rule: string }[];
  /** What this turn's clauses ask to change, read before filler is stripped (refine.ts). */
  changes: PhraseChange[];
  /** The models this turn asks to use ("the DreamShaper checkpoint"). */
  models: Token[][];
  /** Its clauses only about the format ("16:9"). */
  formats: Token[][];
}

/** The changes applied to phrases; "make the book a newspaper" goes with the explicit replacements. */
type PhraseChange = Exclude<ClauseChange, { kind: 'thing' }>;

/** Openers of a clause about the person's purpose, not the picture ("I'm making a card for my mom"). */
const CONTEXT_OPENERS: readonly string[][] = [
  'im making',
  'i am making',
  'were making',
  'im working on',
  'i am working on',
  'im designing',
  'its for',
  'it is for',
  'this is for',
  'this will be for',
  'i need it for',
  'i need this for',
  'i want to use it',
  'i want to use this',
  'ill use it',
].map((p) => p.split(' '));

/** A clause of only these is a reply to the last plan ("no, make it a man"), not something to draw. */
const INTERJECTIONS = new Set(['no', 'nope', 'nah', 'not', 'wait', 'hmm', 'actually']);

/**
 * True when the exclusive groups' own rules handle these words: any group for a new subject ("make it
 * a watercolor"); for a new place all but the weather ("in the snow instead" is a place, "in winter" a season).
 */
function handledByGroups(tokens: readonly Token[], use: 'subject' | 'place'): boolean {
  return GROUP_NAMES.some((g) => (use === 'subject' || g !== 'weather') && groupMembersIn(tokens, g).length > 0);
}

function startsWith(tokens: readonly Token[], at: number, words: readonly string[]): boolean {
  if (at + words.length > tokens.length) return false;
  for (let k = 0; k < words.length; k++) if (tokens[at + k]!.norm !== words[k]) return false;
  return true;
}

function stripLeading(tokens: Token[]): Token[] {
  let start = 0;
  let changed = true;
  while (changed && start < tokens.length) {
    changed = false;
    for (const filler of LEADING_FILLER) {
      if (startsWith(tokens, start, filler)) {
        start += filler.length;
        changed = true;
        break;
      }
    }
    // A lone article or possessive before more filler ("a picture of") is dropped with it.
    if (
      !changed &&
      DROPPABLE.has(tokens[start]?.norm ?? '') &&
      LEADING_FILLER.some((f) => startsWith(tokens, start + 1, f) && f[0] !== 'and')
    ) {
      start++;
      changed = true;
    }
  }
  return tokens.slice(start);
}

function stripTrailing(tokens: Token[]): Token[] {
  let end = tokens.length;
  let changed = true;
  while (changed && end > 0) {
    changed = false;
    for (const filler of TRAILING_FILLER) {
      const at = end - filler.length;
      if (at >= 0 && startsWith(tokens, at, filler)) {
        end = at;
        changed = true;
        break;
      }
    }
  }
  return tokens.slice(0, end);
}

function removeHedges(tokens: Token[]): Token[] {
  const out: Token[] = [];
  for (let i = 0; i < tokens.length; ) {
    const hedge = HEDGES.find((h) => startsWith(tokens, i, h));
    if (hedge) {
      i += hedge.length;
      continue;
    }
    out.push(tokens[i]!);
    i++;
  }
  return out;
}

/** Function words that may not open or close a phrase. */
const EDGE_WORDS = new Set([
  'a',
  'an',
  'the',
  'my',
  'our',
  'your',
  'ur',
  'some',
  'any',
  'and',
  'or',
  'but',
  'with',
  'of',
  'in',
  'on',
  'at',
  'to',
  'for',
  'from',
  'by',
  'is',
  'are',
  'be',
  'it',
  'its',
  'that',
  'this',
  'so',
  'her',
  'him',
  'them',
  'his',
  'their',
  'she',
  'he',
  'they',
  'we',
  'i',
  'me',
  'style',
  'look',
  'vibe',
  'vibes',
  'feel',
  'like',
  'as',
  'also',
  'too',
  'then',
  'than',
  'into',
  'over',
  'under',
]);
/** Of the edge words, those that may end a phrase when the phrase has more in it ("a dragon flying over"). */
const KEEP_AT_END = new Set(['style', 'look', 'vibe', 'vibes', 'feel', 'over', 'under']);

function trimEdges(tokens: Token[]): Token[] {
  let start = 0;
  let end = tokens.length;
  while (start < end && EDGE_WORDS.has(tokens[start]!.norm) && tokens[start]!.norm !== '') start++;
  while (
    end > start &&
    EDGE_WORDS.has(tokens[end - 1]!.norm) &&
    !(KEEP_AT_END.has(tokens[end - 1]!.norm) && end - start > 1)
  )
    end--;
  return tokens.slice(start, end);
}

/** The thing a negation at `from` covers: up to the scope's end, split on "or"; lead words dropped. */
function negatedItems(tokens: readonly Token[], from: number): { items: Token[][]; end: number } {
  const items: Token[][] = [];
  let current: Token[] = [];
  let i = from;
  for (; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (LIST_JOINERS.has(t.norm)) {
      if (current.length > 0) items.push(current);
      current = [];
      continue;
    }
    if (t.norm === 'no' && current.length > 0) break;
    // "without text and logos": a bare noun closing the clause after "and" is negated too ("and a red door" is not).
    if (t.norm === 'and' && current.length > 0) {
      const after = tokens.slice(i + 1);
      if (
        after.length > 0 &&
        after.length <= 2 &&
        after.every((x) => x.norm !== '' && !SCOPE_END.has(x.norm) && !DROPPABLE.has(x.norm))
      ) {
        items.push(current);
        current = [];
        continue;
      }
    }
    if (SCOPE_END.has(t.norm) && current.length > 0) break;
    if (current.length === 0 && NEGATED_LEAD.has(t.norm)) continue;
    if (current.length >= 4) break;
    current.push(t);
  }
  if (current.length > 0) items.push(current);
  return { items: items.filter((item) => item.some((t) => t.norm !== '' && !EDGE_WORDS.has(t.norm))), end: i };
}

/** Trailing words of a negation that only say where ("no people in it", "no text anywhere"). */
const NEGATION_TAILS: readonly string[][] = [
  ['in', 'it'],
  ['in', 'there'],
  ['in', 'the', 'picture'],
  ['in', 'the', 'image'],
  ['in', 'the', 'scene'],
  ['in', 'the', 'shot'],
  ['in', 'the', 'background'],
  ['in', 'sight'],
  ['at', 'all'],
  ['anywhere'],
  ['visible'],
  ['around'],
  ['please'],
  ['whatsoever'],
  ['allowed'],
  ['present'],
  ['on', 'it'],
  ['on', 'them'],
  ['inside'],
  ['outside'],
  ['nearby'],
  ['off'],
  ['here'],
  ['there'],
].sort((a, b) => b.length - a.length);

/**
 * Takes the negations out of a clause: returns what is left and the negated things. "a forest with no
 * people in it" -> "a forest", ["people"].
 */
function extractNegations(tokens: Token[]): { rest: Token[]; negatives: Token[][] } {
  const negatives: Token[][] = [];
  const rest: Token[] = [];
  for (let i = 0; i < tokens.length; ) {
    const nobody = NOBODY.find((cue) => startsWith(tokens, i, cue));
    if (
      nobody &&
      !(
        nobody[0] === 'no' &&
        nobody.length === 2 &&
        tokens[i + 2] &&
        !SCOPE_END.has(tokens[i + 2]!.norm) &&
        nobody[1] === 'one'
      )
    ) {
      negatives.push([wordToken('people')]);
      i += nobody.length;
      // "no people or lamps": the list goes on.
      if (LIST_JOINERS.has(tokens[i]?.norm ?? '')) {
        const more = negatedItems(tokens, i + 1);
        negatives.push(...more.items);
        i = more.end;
      }
      i = skipTail(tokens, i);
      dropDanglingJoiner(rest);
      continue;
    }
    const idiom = NOT_NEGATIONS.find((c) => startsWith(tokens, i, c));
    if (idiom) {
      for (let k = 0; k < idiom.length; k++) rest.push(tokens[i + k]!);
      i += idiom.length;
      continue;
    }
    const cue = NEGATION_CUES.find((c) => startsWith(tokens, i, c));
    if (
      cue &&
      !(cue[0] === 'not' && NOT_FOLLOWERS_TO_IGNORE.has(tokens[i + 1]?.norm ?? '') && tokens[i + 1]?.norm !== 'too')
    ) {
      let from = i + cue.length;
      // "not in her witch outfit", "a castle not on a hill": the thing negated is the outfit, the hill.
      if (cue[0] === 'not' && isPlacePreposition(tokens[from]?.norm ?? '')) from++;
      const { items, end } = negatedItems(tokens, from);
      if (items.length > 0) {
        negatives.push(...items);
        i = skipTail(tokens, end);
        // "sunflowers and not a single cloud in the sky": in a part of its own, the place says where the
        // left-out thing is not; it is not where what came before is ("sunflowers in sky").
        if (CONJUNCTIONS.has(rest.at(-1)?.norm ?? '') && isPlacePreposition(tokens[i]?.norm ?? '')) {
          do i++;
          while (i < tokens.length && !CONJUNCTIONS.has(tokens[i]!.norm) && tokens[i]!.norm !== 'with');
        }
        dropDanglingJoiner(rest);
        continue;
      }
      // "a desk with nothing on it": nothing to leave out, and nothing to draw.
      if (cue.length === 1 && cue[0] === 'nothing') {
        i = skipTail(tokens, i + 1);
        dropDanglingJoiner(rest);
        continue;
      }
    }
    rest.push(tokens[i]!);
    i++;
  }
  return { rest, negatives };
}

const CONJUNCTIONS = new Set(['and', 'but']);

function skipTail(tokens: readonly Token[], at: number): number {
  let i = at;
  let moved = true;
  while (moved) {
    moved = false;
    const tail = NEGATION_TAILS.find((t) => startsWith(tokens, i, t));
    if (tail) {
      i += tail.length;
      moved = true;
    }
  }
  return i;
}

/** "a forest with no people": the "with" that introduced the negation goes with it. */
function dropDanglingJoiner(rest: Token[]): void {
  while (rest.length > 0 && ['with', 'and', 'but', 'or', 'has', 'have', 'having'].includes(rest.at(-1)!.norm))
    rest.pop();
}

/** Explicit replacement frames inside one clause. */
function extractExplicit(tokens: Token[]): { rest: Token[]; explicit: TurnParse['explicit'] } {
  const explicit: TurnParse['explicit'] = [];
  const norms = tokens.map((t) => t.norm);
  const at = (words: string[]) => {
    for (let i = 0; i < tokens.length; i++) if (startsWith(tokens, i, words)) return i;
    return -1;
  };
  // "X instead of Y" / "X rather than Y" / "instead of Y, X"
  for (const frame of [
    ['instead', 'of'],
    ['rather', 'than'],
  ]) {
    const i = at(frame);
    if (i < 0) continue;
    const after = negatedItems(tokens, i + frame.length);
    const removed = after.items[0];
    if (!removed) continue;
    const before = trimEdges(stripLeading(tokens.slice(0, i)));
    explicit.push({ removed, by: before, rule: `${frame.join(' ')}` });
    return { rest: tokens.slice(after.end), explicit };
  }
  // "change / switch / turn Y to / into X", "replace / swap Y with / for X"
  const verbs: [string, string[]][] = [
    ['change', ['to', 'into']],
    ['switch', ['to', 'into', 'for']],
    ['turn', ['into', 'to']],
    ['replace', ['with', 'by']],
    ['swap', ['for', 'with', 'out', 'to']],
  ];
  for (const [verb, joins] of verbs) {
    const v = norms.indexOf(verb);
    if (v < 0) continue;
    const j = norms.findIndex((n, k) => k > v + 1 && joins.includes(n));
    if (j < 0) continue;
    const removed = trimEdges(tokens.slice(v + 1, j));
    const by = trimEdges(tokens.slice(j + 1));
    if (removed.length === 0 || by.length === 0) continue;
    // "change it to night": no thing named, the groups and colours decide what "it" was.
    if (removed.every((t) => ['it', 'that', 'this', 'them', 'everything'].includes(t.norm))) {
      return { rest: [...tokens.slice(0, v), ...by], explicit };
    }
    // "swap the blue lights for red ones": "ones" is the thing replaced.
    const last = by.at(-1);
    if (last && (last.norm === 'ones' || last.norm === 'one') && removed.length >= 2)
      by.splice(by.length - 1, 1, removed.at(-1)!);
    explicit.push({ removed, by, rule: `${verb} … ${tokens[j]!.norm}` });
    return { rest: tokens.slice(0, v), explicit };
  }
  return { rest: tokens, explicit };
}

/** Splits a turn into clauses at sentence ends, commas, semicolons, slashes and dashes. */
function clausesOf(text: string): string[] {
  const quoted: string[] = [];
  // Protect quoted text from the clause split.
  const masked = text.replace(QUOTED_OR_WEIGHTED, (m) => {
    quoted.push(m);
    return `\u0000${quoted.length - 1}\u0000`;
  });
  return (
    masked
      .replace(/\bw\/(?=\s)/gi, 'with')
      // "my dog (a black lab)": an aside in parentheses reads on.
      .replace(/(?<=^|\s)\(([^():\n]{1,80})\)/g, ' $1 ')
      // "nothing but sunflowers" is one thing, not two clauses.
      .split(/[\n!?;]+|(?<!\d)[.,]|[.,](?!\d)|\s+[-–—/]\s+|(?<!\bnothing(?:\s+else)?\s+)\bbut\b/i)
      .map((c) => c.replace(/\u0000(\d+)\u0000/g, (_, n: string) => quoted[Number(n)]!).trim())
      .filter((c) => c.length > 0)
  );
}

/**
 * "a room with no furniture except a chair": what the exception names is asked for, so it becomes its own
 * clause; only after a negation ("everything blue except the sky" stays one clause).
 */
function splitAtException(clause: string): string[] {
  const match = /\b(?:except(?: for)?|apart from|other than|besides|save for)\b/i.exec(clause);
  if (!match) return [clause];
  const before = clause.slice(0, match.index);
  const negated = /\b(?:no|without|nothing|nobody|not|none)\b/i.test(before);
  return negated ? [before, clause.slice(match.index + match[0].length)].filter((c) => c.trim() !== '') : [clause];
}

/**
 * A clause only about the picture's format ("16:9", "tall format", "in landscape orientation", "aspect
 * ratio 3:2"): it sets the size (ParsedRequest.format, read by shape.ts) and is nothing to draw.
 */
const FORMAT_ONLY_WORDS = new Set([
  'format',
  'orientation',
  'aspect',
  'ratio',
  'landscape',
  'portrait',
  'vertical',
  'horizontal',
  'tall',
  'wide',
  'widescreen',
  'square',
  'in',
  'as',
  'with',
  'an',
  'of',
]);
function isFormatOnly(tokens: readonly Token[]): boolean {
  const isRatio = (t: Token) => /^\d{1,2}:\d{1,2}$/.test(t.text);
  const says = tokens.some((t) => isRatio(t) || ['format', 'orientation', 'ratio'].includes(t.norm));
  return says && tokens.every((t) => isRatio(t) || FORMAT_ONLY_WORDS.has(t.norm));
}

/** Words that name a kind of model file: "the DreamShaper checkpoint", "the Moebius LoRA". */
const MODEL_FILE_WORDS = new Set(['checkpoint', 'checkpoints', 'lora', 'loras', 'lycoris', 'locon', 'model', 'models']);
/** Of those, the ones no picture shows ("a fashion model" is a person). */
const UNAMBIGUOUS_FILE_WORDS = new Set(['checkpoint', 'checkpoints', 'lora', 'loras', 'lycoris', 'locon']);

/**
 * Takes out which model to use ("use the DreamShaper checkpoint for …", "… with the Moebius LoRA"): no
 * part of the picture, so not of the prompt; stage 2 reads it from `ParsedRequest.models`.
 */
function withoutModelChoice(tokens: Token[]): { rest: Token[]; model: Token[] | null } {
  const named = (from: number, file: number) => trimEdges(tokens.slice(from, file + 1));
  const lead = tokens[0]?.norm;
  if (lead === 'use' || lead === 'using') {
    const file = tokens.findIndex((t, i) => i > 0 && i <= 6 && MODEL_FILE_WORDS.has(t.norm));
    if (file > 0) {
      let end = file + 1;
      if (tokens[end]?.norm === 'for') end++;
      else if (tokens[end]?.norm === 'to' && ['make', 'draw', 'create', 'render'].includes(tokens[end + 1]?.norm ?? ''))
        end += 2;
      return { rest: tokens.slice(end), model: named(1, file) };
    }
  }
  // "with the epiCRealism model" names a model file; "with the fashion model" is a person in the picture.
  const isFileWord = (i: number) =>
    UNAMBIGUOUS_FILE_WORDS.has(tokens[i]!.norm) ||
    (MODEL_FILE_WORDS.has(tokens[i]!.norm) && i > 0 && !isCommonWord(tokens[i - 1]!.norm));
  const withAt = tokens.findIndex(
    (t, i) =>
      (t.norm === 'with' || t.norm === 'using') && tokens.slice(i + 1, i + 6).some((_, k) => isFileWord(i + 1 + k)),
  );
  if (withAt >= 0) {
    const file = tokens.findIndex((_, i) => i > withAt && isFileWord(i));
    return { rest: [...tokens.slice(0, withAt), ...tokens.slice(file + 1)], model: named(withAt + 1, file) };
  }
  return { rest: tokens, model: null };
}

/**
 * "the cat should be black", "her hair is short", "the sea needs to be calm": in a later turn, a thing said
 * to be one word is "make the cat black", which the change rules read.
 */
const STATED_QUALITY =
  /^(?:(?:ok|okay|and|also|now|actually|but),?\s+)?(?:the|his|her|its|their)?\s*([\p{L}-]+)\s+(?:should be|must be|needs to be|has to be|is|are|can be)\s+([\p{L}-]+)[.!]*$/iu;
const STATED_PRONOUNS: Readonly<Record<string, string>> = { it: 'it', he: 'him', she: 'her', they: 'them' };
function asMakeClause(clause: string): string {
  const stated = STATED_QUALITY.exec(clause.trim());
  if (!stated) return clause;
  const pronoun = STATED_PRONOUNS[stated[1]!.toLowerCase()];
  return pronoun ? `make ${pronoun} ${stated[2]}` : `make the ${stated[1]} ${stated[2]}`;
}

function parseTurn(text: string, later: boolean): TurnParse {
  const clauses: Clause[] = [];
  const negatives: Token[][] = [];
  const explicit: TurnParse['explicit'] = [];
  const changes: PhraseChange[] = [];
  const models: Token[][] = [];
  const formats: Token[][] = [];
  // "no, a bear": a clause of only "no" says the next one replaces.
  let replyCue = false;
  const clauseQueue = clausesOf(text).flatMap(splitAtException);
  for (let q = 0; q < clauseQueue.length; q++) {
    const raw = later ? asMakeClause(clauseQueue[q]!) : clauseQueue[q]!;
    const rawTokens = tokenize(raw);
    const cue: Token[] = replyCue ? [wordToken('instead')] : [];
    replyCue = later && rawTokens.length > 0 && rawTokens.every((t) => INTERJECTIONS.has(t.norm));
    const change = later ? readClauseChange([...rawTokens, ...cue], handledByGroups) : null;
    if (change?.kind === 'thing') {
      // "make the book a newspaper" is "change the book to a newspaper".
      explicit.push({ removed: [change.thing], by: change.by, rule: 'make … a' });
      continue;
    }
    if (change) {
      changes.push(change);
      continue;
    }
    // "make it a bit darker" in a later turn asks for "darker"; a first turn's "slightly bigger moon" stays.
    const opened = stripLeading(later ? withoutDegrees(tokenize(raw)) : tokenize(raw));
    const aboutPurpose = (tokens: readonly Token[]) => CONTEXT_OPENERS.some((o) => startsWith(tokens, 0, o));
    if (aboutPurpose(tokenize(raw)) || aboutPurpose(opened)) {
      // "I'm making a game: a pixel art forest tileset": what follows the colon is the picture.
      const colon = raw.indexOf(': ');
      if (colon > 0) clauseQueue.push(raw.slice(colon + 2));
      continue;
    }
    // "use the DreamShaper checkpoint with the Ghibli LoRA" names two.
    let choice = withoutModelChoice(opened);
    while (choice.model) {
      models.push(choice.model);
      choice = withoutModelChoice(choice.rest);
    }
    let tokens = removeHedges(stripTrailing(choice.rest));
    const ex = extractExplicit(tokens);
    explicit.push(...ex.explicit);
    const neg = extractNegations(ex.rest);
    negatives.push(...neg.negatives);
    tokens = trimEdges(
      stripTrailing(stripLeading(neg.rest)).filter((t, i, all) => !(DROPPABLE.has(t.norm) && i < all.length - 1)),
    );
    // "a city skyline in landscape orientation": the format at the end goes, the skyline stays.
    const formatAt = tokens.findIndex((_, i) => isFormatOnly(tokens.slice(i)));
    if (formatAt >= 0) {
      formats.push(tokens.slice(formatAt));
      tokens = trimEdges(tokens.slice(0, formatAt));
    }
    if (tokens.length > 0 && !tokens.every((t) => INTERJECTIONS.has(t.norm))) clauses.push({ tokens });
  }
  return { clauses, negatives, explicit, changes, models, formats };
}

interface LivePhrase {
  tokens: Token[];
  turn: number;
}

/** True when the words found at `at` are singular where `words` are plural and go on to a noun ("apple tree"). */
function isCompoundModifier(tokens: readonly Token[], at: number, words: readonly string[]): boolean {
  const last = at + words.length - 1;
  const next = tokens[last + 1];
  const plural = stemWord(words.at(-1)!) !== words.at(-1)!;
  const singular = stemWord(tokens[last]!.norm) === tokens[last]!.norm;
  return (
    plural &&
    singular &&
    next !== undefined &&
    next.norm !== '' &&
    !EDGE_WORDS.has(next.norm) &&
    !/(ing|ed)$/.test(next.norm)
  );
}

/**
 * Where the words describing the thing at `at` start: a run of at most two words after a function word
 * or the phrase's start ("with a bushy beard", "racing bike"); `at` itself when the run is longer, as
 * in a comma-less list ("cyberpunk city street neon lights"), where no word is known to describe.
 */
function modifiersStart(tokens: readonly Token[], at: number): number {
  let start = at;
  while (start > 0 && !EDGE_WORDS.has(tokens[start - 1]!.norm) && tokens[start - 1]!.norm !== '') {
    // "a robot reading a book": a participle after a word is a verb, and what it does is no description.
    const word = tokens[start - 1]!.norm;
    const before = tokens[start - 2];
    if (/(ing|ed)$/.test(word) && word.length > 4 && before && !EDGE_WORDS.has(before.norm)) break;
    start--;
  }
  return at - start <= 2 ? start : at;
}

/**
 * Removes `words` from a phrase with the preposition or intensifier that led to it; true when found.
 * A thing the person takes out (`thing`) goes with the words describing it ("with a bushy beard").
 */
function removeFrom(phrase: LivePhrase, words: readonly string[], medium: boolean, thing = false): boolean {
  let i = findWords(phrase.tokens, words);
  // "an apple tree, no apples": a singular word before a noun names a kind of that noun, not the thing left out.
  while (thing && i >= 0 && isCompoundModifier(phrase.tokens, i, words)) i = findWords(phrase.tokens, words, i + 1);
  if (i < 0) return false;
  let start = thing ? modifiersStart(phrase.tokens, i) : i;
  let end = i + words.length;
  while (
    start > 0 &&
    [
      'at',
      'in',
      'on',
      'during',
      'under',
      'by',
      'of',
      'very',
      'super',
      'really',
      'hyper',
      'ultra',
      'more',
      'slightly',
    ].includes(phrase.tokens[start - 1]!.norm)
  )
    start--;
  if (medium)
    while (
      end < phrase.tokens.length &&
      ['style', 'styled', 'look', 'vibe', 'vibes', 'art', 'aesthetic', 'drawing', 'painting'].includes(
        phrase.tokens[end]!.norm,
      ) &&
      !words.includes(phrase.tokens[end]!.norm)
    )
      end++;
  phrase.tokens = trimEdges([...phrase.tokens.slice(0, start), ...phrase.tokens.slice(end)]);
  return true;
}

function groupMembersIn(tokens: readonly Token[], group: ExclusiveGroup): string[][] {
  return GROUP_MEMBERS[group].filter((m) => findWords(tokens, m) >= 0);
}

/** What "in …" wears or how the picture is made, not a place (see NOT_PLACE_WORDS). */
function isNotPlaceWord(word: string): boolean {
  return (
    NOT_PLACE_WORDS.has(word) || NOT_PLACE_ENDINGS.some((e) => word.endsWith(e)) || MEDIUM_FAMILY[word] !== undefined
  );
}

/** Colour + thing pairs of a phrase ("red dress" and "dress ... blue"), by the thing's stem. */
function colourPairs(tokens: readonly Token[]): { colourAt: number; thing: string }[] {
  const pairs: { colourAt: number; thing: string }[] = [];
  tokens.forEach((t, i) => {
    if (!COLOURS.has(t.norm)) return;
    const next = tokens[i + 1];
    if (next && next.norm !== '' && !COLOURS.has(next.norm) && !EDGE_WORDS.has(next.norm))
      pairs.push({ colourAt: i, thing: stemWord(next.norm) });
    else if (
      i > 0 &&
      !COLOURS.has(tokens[i - 1]!.norm) &&
      !EDGE_WORDS.has(tokens[i - 1]!.norm) &&
      tokens[i - 1]!.norm !== ''
    )
      pairs.push({ colourAt: i, thing: stemWord(tokens[i - 1]!.norm) });
  });
  return pairs;
}

/** Number + thing pairs of a phrase ("two kids", "3 cats"), by the thing's stem. */
function countPairs(tokens: readonly Token[]): { countAt: number; thing: string }[] {
  const pairs: { countAt: number; thing: string }[] = [];
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (isCountWord(t.norm) && next && next.norm !== '' && !EDGE_WORDS.has(next.norm))
      pairs.push({ countAt: i, thing: stemWord(next.norm) });
  });
  return pairs;
}

/**
 * Puts `by` in place of the main subject of the earliest phrase that has one, keeping its colours and
 * sizes; returns the phrase as it was, or null when no earlier phrase has a subject.
 */
function replaceSubject(phrases: LivePhrase[], turn: number, by: Token[]): { before: string; subject: string } | null {
  for (const p of phrases) {
    if (p.turn >= turn) continue;
    const span = subjectSpan(p.tokens);
    if (!span) continue;
    const before = tokensText(p.tokens);
    const old = p.tokens.slice(span.start, span.end);
    const kept = keptQualities(old).filter((q) => !by.some((b) => b.norm === q.norm));
    p.tokens = trimEdges([...p.tokens.slice(0, span.start), ...kept, ...by, ...p.tokens.slice(span.end)]);
    return { before, subject: tokensText(old.filter((t) => !kept.includes(t))) };
  }
  return null;
}

/**
 * Gives the main subject of the earliest phrase that has one a quality ("make her older", "make it
 * orange"): it replaces a quality of the same set there, else goes before the subject's last word.
 */
function qualifySubject(
  phrases: LivePhrase[],
  turn: number,
  quality: Token,
): Omit<Replacement, 'turn' | 'rule'> | null {
  for (const p of phrases) {
    if (p.turn >= turn) continue;
    const span = subjectSpan(p.tokens);
    if (!span) continue;
    const before = tokensText(p.tokens);
    const same = p.tokens.slice(span.start, span.end).findIndex((t) => sameQualitySet(t.norm, quality.norm));
    const old = same >= 0 ? p.tokens[span.start + same]! : null;
    if (old) p.tokens[span.start + same] = quality;
    else p.tokens.splice(span.end - 1, 0, quality);
    return { removed: [before], terms: old ? [old.text] : [], by: quality.text };
  }
  return null;
}

/** Applies a later turn's change to the earlier phrases; what was replaced, or null when nothing fits. */
function applyChange(change: PhraseChange, phrases: LivePhrase[], turn: number): Omit<Replacement, 'turn'> | null {
  const earlier = phrases.filter((p) => p.turn < turn);
  switch (change.kind) {
    case 'subject': {
      const replaced = replaceSubject(phrases, turn, change.by);
      return replaced === null
        ? null
        : { removed: [replaced.before], terms: [replaced.subject], by: tokensText(change.by), rule: 'main subject' };
    }
    case 'subject quality': {
      const described = qualifySubject(phrases, turn, change.quality);
      return described === null ? null : { ...described, rule: 'quality of the main subject' };
    }
    case 'place': {
      // The last place said with this preposition (else with any: "in a park", then "at the beach instead"),
      // up to where the next part of the phrase starts. What "in …" wears or is styled as ("in a red dress",
      // "in the Arcane style") and a time or weather ("at noon") are no place: kept, and passed over.
      const isPlace = (span: readonly Token[]) =>
        !span.some((t) => isNotPlaceWord(stemWord(t.norm))) &&
        !GROUP_NAMES.some((g) => g !== 'medium' && groupMembersIn(span, g).length > 0);
      // Up to the next "with", "and" …, or to a part that is no place ("in a harbour | at noon").
      const spanEnd = (p: LivePhrase, at: number) => {
        let end = at + 1;
        for (; end < p.tokens.length; end++) {
          const word = p.tokens[end]!.norm;
          if (['with', 'and', 'while', 'during'].includes(word)) break;
          if (!isPlacePreposition(word)) continue;
          let next = end + 1;
          while (next < p.tokens.length && !isPlacePreposition(p.tokens[next]!.norm)) next++;
          if (!isPlace(p.tokens.slice(end + 1, next))) break;
        }
        return end;
      };
      const placeAt = (p: LivePhrase, preposition: (word: string) => boolean) => {
        for (let at = p.tokens.length - 1; at > 0; at--)
          if (preposition(p.tokens[at]!.norm) && isPlace(p.tokens.slice(at + 1, spanEnd(p, at)))) return at;
        return -1;
      };
      // The latest phrase with a place of this preposition, else the latest with any place.
      const latestPlace = (preposition: (word: string) => boolean) => {
        for (const p of [...earlier].reverse()) {
          const at = placeAt(p, preposition);
          if (at >= 0) return { p, at };
        }
        return null;
      };
      const found = latestPlace((w) => w === change.preposition) ?? latestPlace(isPlacePreposition);
      if (!found) return null;
      const { p, at } = found;
      const end = spanEnd(p, at);
      const before = tokensText(p.tokens);
      const terms = [tokensText(p.tokens.slice(at + 1, end))];
      p.tokens.splice(at, end - at, wordToken(change.preposition), ...change.by);
      return { removed: [before], terms, by: tokensText(change.by), rule: 'place' };
    }
    case 'quality': {
      for (const p of earlier) {
        const at = p.tokens.findIndex((t) => t.norm !== '' && stemWord(t.norm) === change.thing);
        if (at < 0) continue;
        const before = tokensText(p.tokens);
        const old = p.tokens[at - 1];
        const replaces = old !== undefined && sameQualitySet(old.norm, change.quality.norm);
        if (replaces) p.tokens[at - 1] = change.quality;
        else p.tokens.splice(at, 0, change.quality);
        return {
          removed: [before],
          terms: replaces ? [`${old!.text} ${p.tokens[at]!.text}`] : [],
          by: `${change.quality.text} ${p.tokens[replaces ? at : at + 1]!.text}`,
          rule: `quality of ${change.thing}`,
        };
      }
      return null;
    }
    case 'less': {
      const words = change.words.map((t) => t.norm);
      const removed = earlier.filter((p) => removeFrom(p, words, false));
      return removed.length === 0
        ? { removed: [], terms: [tokensText(change.words)], by: '', rule: 'less' }
        : {
            removed: removed.map((p) => tokensText(p.tokens)),
            terms: [tokensText(change.words)],
            by: '',
            rule: 'less',
          };
    }
  }
}

/** Medium families whose members name one look in several words ("anime", "manga"; "photo", "photograph"). */
const SYNONYM_FAMILIES = new Set(['anime', 'photo']);
/** Words naming a family as a whole ("painting" of "oil painting"). */
const FAMILY_WORDS = new Set(['painting', 'painted', 'drawing', 'drawn', '3d', 'photo', 'anime']);

/**
 * Whether a medium a later turn names leaves the earlier ones of its family: it does when they are
 * synonyms or it names the family as a whole; "oil painting" then "watercolor" is a switch.
 */
function keepsItsFamily(member: readonly string[]): boolean {
  const text = member.join(' ');
  return SYNONYM_FAMILIES.has(MEDIUM_FAMILY[text] ?? '') || FAMILY_WORDS.has(text);
}

/** Parses a chat (one message or several turns, oldest first) into the person's prompt phrases. */
export function parseRequest(messages: readonly string[]): ParsedRequest {
  const phrases: LivePhrase[] = [];
  const negatives: { tokens: Token[]; turn: number }[] = [];
  const models: string[] = [];
  const formats: string[] = [];
  const replacements: Replacement[] = [];
  const removeEverywhere = (words: string[], upTo: number): string[] => {
    const removed: string[] = [];
    for (const p of phrases) {
      if (p.turn >= upTo) continue;
      const before = tokensText(p.tokens);
      if (removeFrom(p, words, false, true)) removed.push(before);
    }
    return removed;
  };

  messages.forEach((message, turn) => {
    const parsed = parseTurn(message, turn > 0);
    models.push(...parsed.models.map(tokensText));
    formats.push(...parsed.formats.map(tokensText));
    // Explicit replacements and removals reach every earlier phrase and this turn's own.
    const own: LivePhrase[] = parsed.clauses.map((c) => ({ tokens: c.tokens, turn }));
    for (const ex of parsed.explicit) {
      // The replacement takes the replaced words' place ("change the dog to a cat": "cat in park").
      const words = ex.removed.map((t) => t.norm).filter((w) => w !== '');
      const replaced: string[] = [];
      for (const p of [...phrases, ...own]) {
        const i = findWords(p.tokens, words);
        if (i < 0) continue;
        replaced.push(tokensText(p.tokens));
        // Words naming a kind go with the thing ("tabby cat" -> "owl"); colours and sizes stay ("red car" -> "red bike").
        const modifiers = p.tokens.slice(modifiersStart(p.tokens, i), i);
        p.tokens = trimEdges([
          ...p.tokens.slice(0, i - modifiers.length),
          ...keptQualities(modifiers),
          ...ex.by,
          ...p.tokens.slice(i + words.length),
        ]);
      }
      // "a golden retriever …", then "change the dog to a cat": a thing never named is taken for the main
      // subject, unless it is a part of the scene ("change the sky to …" adds a sky).
      if (replaced.length === 0 && words.length === 1 && !SCENE_PARTS.has(words[0]!) && ex.by.length > 0) {
        const subject = replaceSubject(phrases, turn, ex.by);
        if (subject) replaced.push(subject.before);
      }
      replacements.push({
        turn,
        removed: replaced.length > 0 ? replaced : [tokensText(ex.removed)],
        terms: [tokensText(ex.removed)],
        by: tokensText(ex.by),
        rule: ex.rule,
      });
      if (replaced.length === 0 && ex.by.length > 0) own.push({ tokens: ex.by, turn });
    }
    for (const change of parsed.changes) {
      const made = applyChange(change, phrases, turn);
      if (made) replacements.push({ turn, ...made });
      else if (change.kind === 'subject') own.push({ tokens: change.by, turn });
      else if (change.kind === 'place') own.push({ tokens: [wordToken(change.preposition), ...change.by], turn });
      else if (change.kind === 'quality') own.push({ tokens: [change.quality, wordToken(change.thing)], turn });
      else if (change.kind === 'subject quality') own.push({ tokens: [change.quality], turn });
      if (change.kind === 'place' && change.rest) own.push({ tokens: change.rest, turn });
    }
    if (turn > 0) {
      // A time of day, weather, season or medium in a later turn replaces the earlier ones of its group.
      for (const group of GROUP_NAMES) {
        const named = own.flatMap((p) => groupMembersIn(p.tokens, group));
        if (named.length === 0) continue;
        const namedFamilies = new Set(named.filter(keepsItsFamily).map((m) => MEDIUM_FAMILY[m.join(' ')]));
        const removed = new Set<string>();
        const terms = new Set<string>();
        for (const p of phrases) {
          const before = tokensText(p.tokens);
          for (const member of GROUP_MEMBERS[group]) {
            // "anime" then "manga style", "oil painting" then "more of a painting": no contradiction.
            if (group === 'medium' && namedFamilies.has(MEDIUM_FAMILY[member.join(' ')])) continue;
            if (named.some((n) => n.join(' ') === member.join(' '))) continue;
            while (removeFrom(p, member, group === 'medium')) {
              removed.add(before);
              terms.add(member.join(' '));
            }
          }
        }
        if (removed.size > 0)
          replacements.push({
            turn,
            removed: [...removed],
            terms: [...terms],
            by: [...new Set(named.map((n) => n.join(' ')))].join(', '),
            rule: group,
          });
      }
      // A colour given to a thing replaces that thing's earlier colour, in place.
      for (const p of own) {
        for (const { colourAt, thing } of colourPairs(p.tokens)) {
          const earlier = phrases
            .filter((e) => e.turn < turn)
            .flatMap((e) =>
              colourPairs(e.tokens)
                .filter((c) => c.thing === thing)
                .map((c) => ({ e, c })),
            );
          const colour = p.tokens[colourAt]!;
          if (earlier.length === 0) {
            // "now make the horse white": the thing said before without a colour gets it in place.
            const holder = phrases.find(
              (e) => e.turn < turn && e.tokens.some((t) => t.norm !== '' && stemWord(t.norm) === thing),
            );
            if (!holder || p.tokens.length > 2) continue;
            const at = holder.tokens.findIndex((t) => t.norm !== '' && stemWord(t.norm) === thing);
            holder.tokens.splice(at, 0, colour);
            p.tokens = [];
            continue;
          }
          for (const { e, c } of earlier) {
            replacements.push({
              turn,
              removed: [tokensText(e.tokens)],
              terms: [`${e.tokens[c.colourAt]!.text} ${thing}`],
              by: `${colour.text} ${thing}`,
              rule: `colour of ${thing}`,
            });
            e.tokens[c.colourAt] = colour;
          }
          p.tokens = [];
        }
      }
      // "two kids …", then "one kid": a number given to a thing replaces its earlier number, in place.
      for (const p of own) {
        for (const { countAt, thing } of countPairs(p.tokens)) {
          for (const e of phrases) {
            if (e.turn >= turn) continue;
            for (const c of countPairs(e.tokens)) {
              if (c.thing !== thing) continue;
              replacements.push({
                turn,
                removed: [tokensText(e.tokens)],
                terms: [`${e.tokens[c.countAt]!.text} ${e.tokens[c.countAt + 1]!.text}`],
                by: `${p.tokens[countAt]!.text} ${p.tokens[countAt + 1]!.text}`,
                rule: `number of ${thing}`,
              });
              e.tokens.splice(c.countAt, 2, p.tokens[countAt]!, p.tokens[countAt + 1]!);
              p.tokens = [...p.tokens.slice(0, countAt), ...p.tokens.slice(countAt + 2)];
            }
          }
        }
        p.tokens = trimEdges(p.tokens);
      }
      // "a cat sleeping", then "make it two cats": a number for a thing said before without one counts it,
      // in place. Only a turn that is the number and the thing: "two cats on the floor" may be more cats.
      for (const p of own) {
        const pair = countPairs(p.tokens)[0];
        if (p.tokens.length !== 2 || pair?.countAt !== 0) continue;
        const holders = phrases.filter(
          (e) => e.turn < turn && countPairs(e.tokens).every((c) => c.thing !== pair.thing),
        );
        const at = (e: LivePhrase) => e.tokens.findIndex((t) => t.norm !== '' && stemWord(t.norm) === pair.thing);
        const holder = holders.find((e) => at(e) >= 0);
        if (!holder) continue;
        replacements.push({
          turn,
          removed: [tokensText(holder.tokens)],
          terms: [holder.tokens[at(holder)]!.text],
          by: tokensText(p.tokens),
          rule: `number of ${pair.thing}`,
        });
        holder.tokens.splice(at(holder), 1, ...p.tokens);
        p.tokens = [];
      }
      // "three apples …", then "make it five": a bare number counts the one counted thing said before.
      for (const p of own) {
        if (p.tokens.length !== 1 || !isCountWord(p.tokens[0]!.norm)) continue;
        const counted = phrases
          .filter((e) => e.turn < turn)
          .flatMap((e) => countPairs(e.tokens).map((c) => ({ e, c })));
        if (counted.length !== 1) continue;
        const { e, c } = counted[0]!;
        replacements.push({
          turn,
          removed: [tokensText(e.tokens)],
          terms: [`${e.tokens[c.countAt]!.text} ${e.tokens[c.countAt + 1]!.text}`],
          by: `${p.tokens[0]!.text} ${e.tokens[c.countAt + 1]!.text}`,
          rule: `number of ${c.thing}`,
        });
        e.tokens[c.countAt] = p.tokens[0]!;
        p.tokens = [];
      }
      // "make it blue": a bare colour recolours the one coloured thing said before.
      for (const p of own) {
        const bare = p.tokens.filter(
          (t) => !['color', 'colour', 'colored', 'coloured', 'all', 'instead', 'one', 'ones'].includes(t.norm),
        );
        if (bare.length !== 1 || !COLOURS.has(bare[0]!.norm)) continue;
        const earlier = phrases
          .filter((e) => e.turn < turn)
          .flatMap((e) => colourPairs(e.tokens).map((c) => ({ e, c })));
        if (earlier.length === 0) {
          // Nothing had a colour: the main subject gets it ("a cat …", then "make it orange").
          const described = qualifySubject(phrases, turn, bare[0]!);
          if (described) {
            replacements.push({ turn, ...described, rule: 'colour of the main subject' });
            p.tokens = [];
          }
          continue;
        }
        if (earlier.length !== 1) continue;
        const { e, c } = earlier[0]!;
        replacements.push({
          turn,
          removed: [tokensText(e.tokens)],
          terms: [`${e.tokens[c.colourAt]!.text} ${c.thing}`],
          by: bare[0]!.text,
          rule: `colour of ${c.thing}`,
        });
        e.tokens[c.colourAt] = bare[0]!;
        p.tokens = [];
      }
    }
    // "no helmet", then "give him a helmet": what a later turn asks for is no longer left out.
    for (let k = negatives.length - 1; k >= 0; k--) {
      const words = negatives[k]!.tokens.map((t) => t.norm).filter((w) => w !== '');
      if (!own.some((p) => findWords(p.tokens, words) >= 0)) continue;
      replacements.push({
        turn,
        removed: [`no ${tokensText(negatives[k]!.tokens)}`],
        terms: [],
        by: tokensText(negatives[k]!.tokens),
        rule: 'asked for again',
      });
      negatives.splice(k, 1);
    }
    // What this turn negates leaves every phrase so far, its own included.
    for (const negated of parsed.negatives) {
      const words = negated.map((t) => t.norm).filter((w) => w !== '');
      const removed = removeEverywhere(words, turn);
      for (const p of own) removeFrom(p, words, false, true);
      if (removed.length > 0)
        replacements.push({ turn, removed, terms: [tokensText(negated)], by: '', rule: 'removed' });
      negatives.push({ tokens: negated, turn });
    }
    for (const p of own) if (p.tokens.length > 0) phrases.push(p);
  });

  const seen = new Set<string>();
  const out: string[] = [];
  for (const p of phrases) {
    const text = tokensText(p.tokens);
    const key = text.toLowerCase();
    if (text.length === 0 || seen.has(key)) continue;
    seen.add(key);
    out.push(text);
  }
  const negativeTexts = [...new Set(negatives.map((n) => tokensText(n.tokens).toLowerCase()))];
  return {
    phrases: out,
    negatives: negativeTexts,
    replacements,
    ...(models.length > 0 ? { models } : {}),
    ...(formats.length > 0 ? { formats } : {}),
  };
}
