/**
 * What kind of model each catalog entry is, read from its type, tags, name and popularity, and when a
 * request asks for it. Stage 2 chooses only among the models a request asks for, plus the well-regarded
 * general checkpoints that fit its style:
 *
 * - A real person's likeness (celebrity, real person, actress, idol, ... tags) only when the request names
 *   that person.
 * - A character or other niche model (any LoRA, a checkpoint outside the general set) only when the request
 *   names it, uses one of its trigger words, or its distinctive concept: a phrase of two or more words from
 *   its tags or triggers, or a word no everyday English text uses ("gzhel", "midna"). One common English
 *   word that happens to be a name ("quiet", "amber") is not enough on its own.
 * - A general checkpoint (among the most downloaded, well rated, not NSFW-leaning, not a person) always.
 */
import type { CatalogModel } from '../../catalog/types.ts';
import type { AskedBy } from '../engine.ts';
import { isCommonWord } from '../../request/common-words.ts';
import { GENRE_WORDS, MEDIUM_FAMILY, STYLE_WORDS } from '../../request/vocabulary.ts';
import { retrievalTerms, stem } from '../../retrieval/terms.ts';
import { words } from '../../text.ts';

export type StyleClass = 'photo' | 'anime' | 'art' | '3d';
export type BaseFamily = 'sdxl' | 'sd2-768' | 'sd2' | 'sd1' | 'other';

export interface ModelTraits {
  person: boolean;
  character: boolean;
  nsfw: boolean;
  /** A well-regarded general checkpoint: may serve any request of its style. */
  general: boolean;
  styles: StyleClass[];
  family: BaseFamily;
}

const PERSON_TAGS = new Set([
  'celebrity',
  'celeb',
  'celebrities',
  'real person',
  'real people',
  'actress',
  'actor',
  'kpop idol',
  'k-pop idol',
  'kpop',
  'k-pop',
  'idol',
  'japanese idol',
  'korean idol',
  'singer',
  'pop singer',
  'politician',
  'political',
  'cosplayer',
  'youtuber',
  'streamer',
  'tiktok',
  'instagram',
  'instagram model',
  'influencer',
  'pornstar',
  'athlete',
  'famous',
  'famous people',
  'public figure',
  'korean model',
  'adult model',
  'tv host',
  'presenter',
]);
/** On a LoRA (not on a checkpoint, where it describes what the model is good at), "person" means a likeness. */
const LORA_PERSON_TAGS = new Set(['person', 'people', 'real', 'realperson']);

const CHARACTER_TAGS = new Set([
  'character',
  'characters',
  'game character',
  'anime character',
  'video game character',
  'vtuber',
  'virtual youtuber',
  'vtuber character',
  'characterpack',
  'cartoon character',
  'comic character',
  'series character',
  'visual novel character',
  'consistent character',
  'multi-character',
  'waifu',
  'oc',
  'original character',
]);

const NSFW_TAGS = new Set([
  'nsfw',
  'hentai',
  'naked',
  'nude',
  'nudes',
  'nudity',
  'porn',
  'porno',
  'pornstar',
  'ecchi',
  'erotic',
  'lewd',
  'sex',
  'adult',
  'bimbo',
  'lingerie',
  'breasts',
  'boobs',
  'ass',
  'sexy',
  'fetish',
  'bdsm',
  'underwear',
  'bikini',
  'topless',
]);

const STYLE_TAGS: Readonly<Record<StyleClass, readonly string[]>> = {
  photo: [
    'photorealistic',
    'realistic',
    'photorealism',
    'photography',
    'photo',
    'realism',
    'photoreal',
    'analog',
    'raw photo',
    'hyperrealistic',
    'real',
  ],
  anime: ['anime', 'manga', '2d', 'cartoon', 'toon', 'comics', 'comic', 'chibi', 'anime style', 'cel shading'],
  art: [
    'art style',
    'illustration',
    'painting',
    'paintings',
    'digital art',
    'digital illustration',
    'concept art',
    'fantasy',
    'artistic',
    'oil painting',
    'watercolor',
    'art',
    'artstyle',
    'ink',
    'sketch',
    'painterly',
    'fantasy art',
    'semi-realistic',
    '2.5d',
  ],
  '3d': ['3d', 'render', 'cgi', '3d render', 'pixar', 'disney', '2.5d', 'octane'],
};

/** The style a request's words ask for (any number of classes), by the same vocabulary as the models'. */
const REQUEST_STYLE_WORDS: Readonly<Record<StyleClass, readonly string[]>> = {
  photo: [
    'photo',
    'photograph',
    'photography',
    'photorealistic',
    'realistic',
    'realism',
    'hyperrealistic',
    'dslr',
    'raw',
    'camera',
    'lens',
    'film',
    'polaroid',
    'portra',
    'kodak',
    'fujifilm',
    'mm',
    'candid',
    'selfie',
    'snapshot',
    'documentary',
    'editorial',
    'cinematic',
    'photoreal',
    'lifelike',
  ],
  anime: [
    'anime',
    'manga',
    'ghibli',
    'cartoon',
    'chibi',
    'waifu',
    'cel',
    'toon',
    'comic',
    'shonen',
    'shojo',
    'kawaii',
    'vtuber',
  ],
  art: [
    'painting',
    'painted',
    'oil',
    'watercolor',
    'watercolour',
    'acrylic',
    'gouache',
    'impressionist',
    'impressionism',
    'illustration',
    'sketch',
    'drawing',
    'ink',
    'charcoal',
    'pastel',
    'canvas',
    'art',
    'artwork',
    'storybook',
    'fantasy',
    'concept',
    'renaissance',
    'baroque',
    'surreal',
    'surrealist',
    'expressionist',
    'nouveau',
    'deco',
    'ukiyo',
    'woodblock',
    'fresco',
    'mural',
  ],
  '3d': [
    '3d',
    'render',
    'rendered',
    'cgi',
    'pixar',
    'blender',
    'octane',
    'unreal',
    'clay',
    'claymation',
    'isometric',
    'low',
    'poly',
    'voxel',
    'figurine',
    'toy',
  ],
};

export function baseFamily(baseModel: string): BaseFamily {
  const b = baseModel.toLowerCase();
  if (/xl|pony|illustrious|noobai|playground|sd ?3|flux/.test(b)) return 'sdxl';
  if (/2\.\d.*768/.test(b)) return 'sd2-768';
  if (/sd ?2/.test(b)) return 'sd2';
  if (/sd ?1/.test(b)) return 'sd1';
  return 'other';
}

/** Whether two base families can share a LoRA and its checkpoint ("Other" is unknown: it matches anything). */
export function sameFamily(a: BaseFamily, b: BaseFamily): boolean {
  if (a === 'other' || b === 'other') return true;
  if (a === b) return true;
  return a.startsWith('sd2') && b.startsWith('sd2');
}

function tagSet(m: CatalogModel): Set<string> {
  return new Set(m.tags.map((t) => t.toLowerCase().trim()));
}

/** Words in a model's name that say its style as surely as a tag ("Realistic Vision", "Anime Pastel Dream"). */
const STYLE_NAME_WORDS: Readonly<Record<StyleClass, readonly string[]>> = {
  photo: ['realistic', 'photorealistic', 'photoreal', 'realism', 'photo'],
  anime: ['anime', 'manga', 'cartoon', 'toon'],
  art: ['painting', 'art', 'artistic', 'illustration'],
  '3d': ['3d', 'pixar'],
};

function stylesOf(m: CatalogModel, tags: ReadonlySet<string>): StyleClass[] {
  const nameWords = new Set(m.name.toLowerCase().split(/[^a-z0-9.]+/));
  return (Object.keys(STYLE_TAGS) as StyleClass[]).filter(
    (s) => STYLE_TAGS[s].some((t) => tags.has(t)) || STYLE_NAME_WORDS[s].some((w) => nameWords.has(w)),
  );
}

/** Traits of every model; `general` needs the whole catalog (popularity is relative). */
export function modelTraits(models: readonly CatalogModel[]): ModelTraits[] {
  const traits = models.map((m): ModelTraits => {
    const tags = tagSet(m);
    const lora = m.type !== 'Checkpoint';
    const person = [...tags].some((t) => PERSON_TAGS.has(t) || (lora && LORA_PERSON_TAGS.has(t)));
    return {
      person,
      character: lora && !person && [...tags].some((t) => CHARACTER_TAGS.has(t)),
      nsfw: [...tags].some((t) => NSFW_TAGS.has(t)),
      general: false,
      styles: stylesOf(m, tags),
      family: baseFamily(m.base_model),
    };
  });
  // The general set: the most downloaded well-rated checkpoints (the top 1.5%, at least 12), minus people and NSFW.
  const checkpoints = models
    .map((m, row) => ({ m, row }))
    .filter(
      ({ m, row }) =>
        m.type === 'Checkpoint' && !traits[row]!.person && !traits[row]!.nsfw && (m.rating === 0 || m.rating >= 4),
    );
  checkpoints.sort((a, b) => b.m.downloads - a.m.downloads || a.row - b.row);
  const take = Math.max(12, Math.ceil(0.015 * models.filter((m) => m.type === 'Checkpoint').length));
  for (const { row } of checkpoints.slice(0, take)) traits[row]!.general = true;
  return traits;
}

/** The style classes a request's terms ask for. */
export function requestStyles(terms: ReadonlySet<string>): StyleClass[] {
  return (Object.keys(REQUEST_STYLE_WORDS) as StyleClass[]).filter((s) =>
    REQUEST_STYLE_WORDS[s].some((w) => terms.has(w)),
  );
}

/** Words in model names that say what kind of file it is, not what it depicts. */
export const GENERIC_NAME_WORDS: ReadonlySet<string> = new Set([
  'lora',
  'locon',
  'lycoris',
  'loha',
  'model',
  'checkpoint',
  'mix',
  'merge',
  'version',
  'ver',
  'fp16',
  'pruned',
  'safetensors',
  'ckpt',
  'final',
  'beta',
  'alpha',
  'test',
  'sd',
  'xl',
  'sdxl',
  'vae',
  'inpainting',
]);

/** Beyond the file kinds: words in names and tags that say a genre or style, not what a model is about. */
const GENERIC_MODEL_WORDS = new Set([
  ...GENERIC_NAME_WORDS,
  'lokr',
  'fp32',
  'style',
  'anime',
  'art',
  'realistic',
  'real',
  'photo',
  'photorealistic',
  'character',
  'girl',
  'boy',
  'woman',
  'man',
  'concept',
  'detail',
  'slider',
  'pack',
  'edition',
  'illustration',
  'painting',
  'artstyle',
  'cute',
  'beautiful',
  'sexy',
  'female',
  'male',
  'base',
  'new',
  'old',
  'better',
  'best',
  'high',
  'quality',
  'embedding',
  'ti',
  'hypernetwork',
  'offset',
  'noise',
  'clothing',
  'outfit',
  'costume',
  'pose',
  'background',
  'helper',
  'tweaker',
  'enhancer',
  'add',
  'more',
]);

/** A version or number in a name ("v3", "1.5", "2d"). */
const VERSION_TERM = /^(v?\d+[a-z]?|\d+d|\d+(\.\d+)?[a-z]*)$/;

/** A term that names something: not generic, not a number or version, at least 3 letters. */
function isNamingTerm(term: string): boolean {
  return term.length >= 3 && !GENERIC_MODEL_WORDS.has(term) && !VERSION_TERM.test(term);
}

/** Splits a name into its parts: "Detail Tweaker LoRA (细节调整LoRA)" -> "Detail Tweaker LoRA ", "细节调整LoRA". */
const namePartsOf = (name: string) => name.split(/[|()[\]/{}【】:：,，\-–—]+/);

const ARTICLES = new Set(['the', 'a', 'an', 'my']);

/**
 * The words of a name the person typed as a model's name ("use the Detail Tweaker LoRA"): the file kind and
 * version left out, everyday words kept, since there they name ("Detail Tweaker", "Realistic Vision").
 */
export function exactNameWords(text: string): string[] {
  // Not retrieval terms: their stop words drop "add" and "more", and "Add Detail" would be "More Details".
  const named = words(text)
    .filter((w) => !ARTICLES.has(w))
    .map(stem)
    .filter((t) => !GENERIC_NAME_WORDS.has(t) && !VERSION_TERM.test(t));
  return [...new Set(named)];
}

/**
 * True when `words` (a model-naming clause's `exactNameWords`) are exactly the model's name, the first part
 * of it, or its file's name ("add_detail.safetensors" for "the Add Detail LoRA", as prompts call it). A
 * character's or person's first part is often its franchise ("Ghibli - Kiki's Delivery Service - Kiki"),
 * so for those `firstPart` is false and only the whole name or the file counts.
 */
export function namedExactly(model: CatalogModel, words: readonly string[], firstPart: boolean): boolean {
  if (words.length === 0) return false;
  const same = (other: readonly string[]) => other.length === words.length && other.every((w) => words.includes(w));
  const first = firstPart
    ? namePartsOf(model.name)
        .map(exactNameWords)
        .find((w) => w.length > 0)
    : undefined;
  return (
    same(exactNameWords(model.name)) ||
    (first !== undefined && same(first)) ||
    same(exactNameWords(model.file.replace(/\.[a-z0-9]+$/i, '')))
  );
}

/** What a request can name a model by, as term sequences; built once per catalog. */
export interface ModelPhrases {
  /** Naming terms of the model's name. */
  nameTerms: string[];
  /** The first part of the name (before "|", "(", "/", "-" ...): a person's or character's own name. */
  primaryName: string[];
  /**
   * Naming terms inside a long title (a name part of four naming terms or more), after its first: "koi" in
   * "Chuunibyou demo Koi ga Shitai". One of them alone is a word of the title, not the model's name (for
   * models other than characters and people, whose parts hold their given and family names).
   */
  titleTerms: string[];
  /** Trigger word phrases (each comma-separated part of each trigger). */
  triggers: string[][];
  /** Tag phrases, genre tags ("anime", "woman") left out. */
  tags: string[][];
  /** Tags of three or more words ("my little pony", "legend of zelda"): names of things, not descriptions. */
  namedTags: string[][];
}

/** Term sequences of a comma-separated trigger list or tag, "_" read as a space. */
function termPhrases(texts: readonly string[], maxTerms: number): string[][] {
  return texts
    .flatMap((w) => w.split(','))
    .map((part) => retrievalTerms(part.replace(/_/g, ' ')).filter((t) => !/^\d+$/.test(t)))
    .filter((terms) => terms.length > 0 && terms.length <= maxTerms);
}

/** A name's naming terms; a handle with digits also gives its letters ("jerma985" -> "jerma"). */
function namingTermsOf(text: string): string[] {
  return retrievalTerms(text)
    .flatMap((t) => {
      const letters = /^([a-z]{3,})\d+$/.exec(t)?.[1];
      return letters ? [t, letters] : [t];
    })
    .filter(isNamingTerm);
}

export function modelPhrases(m: CatalogModel, commonTags: ReadonlySet<string>): ModelPhrases {
  const nameTerms = [...new Set(namingTermsOf(m.name))];
  const primaryName =
    namePartsOf(m.name)
      .map(namingTermsOf)
      .find((t) => t.length > 0) ?? [];
  const parts = namePartsOf(m.name).map(namingTermsOf);
  const leading = new Set(parts.flatMap((part) => (part.length < 4 ? part : part.slice(0, 1))));
  const titleTerms = [...new Set(parts.flatMap((part) => (part.length >= 4 ? part.slice(1) : [])))].filter(
    (t) => !leading.has(t),
  );
  return {
    nameTerms,
    primaryName,
    titleTerms,
    triggers: termPhrases(m.trained_words, 6),
    tags: termPhrases(
      m.tags.filter((t) => !commonTags.has(t.toLowerCase().trim())),
      5,
    ),
    namedTags: termPhrases(
      m.tags.filter((t) => t.trim().split(/\s+/).length >= 3 && !commonTags.has(t.toLowerCase().trim())),
      5,
    ).filter((terms) => terms.length >= 2),
  };
}

/** Tags on more than 1% of the catalog's models (at least 5): genres, not concepts ("anime", "woman"). */
export function commonTagsOf(models: readonly CatalogModel[]): Set<string> {
  const counts = new Map<string, number>();
  for (const m of models)
    for (const t of new Set(m.tags.map((x) => x.toLowerCase().trim()))) counts.set(t, (counts.get(t) ?? 0) + 1);
  const limit = Math.max(5, 0.01 * models.length);
  return new Set([...counts].filter(([, c]) => c > limit).map(([t]) => t));
}

/**
 * Trigger phrases many models share ("long hair", "1girl", "school uniform"): booru vocabulary describing
 * a picture, not naming a model. A phrase of common words counts as shared from 3 models on; one with a
 * rarer word from 0.2% of the catalog.
 */
export function sharedTriggersOf(all: readonly ModelPhrases[]): Set<string> {
  const counts = new Map<string, number>();
  for (const p of all)
    for (const key of new Set(p.triggers.map((t) => t.join(' ')))) counts.set(key, (counts.get(key) ?? 0) + 1);
  const rareLimit = Math.max(3, 0.002 * all.length);
  return new Set(
    [...counts]
      .filter(([key, c]) => c >= (key.split(' ').every((w) => isCommonWord(w)) ? 3 : rareLimit))
      .map(([key]) => key),
  );
}

function containsSequence(haystack: readonly string[], needle: readonly string[]): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let k = 0; k < needle.length; k++) if (haystack[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

/** A request as stage 2's eligibility sees it: each phrase's terms, and all terms (joined names included). */
export interface RequestTerms {
  phrases: string[][];
  all: ReadonlySet<string>;
}

/**
 * Medium and style words ("watercolor", "photorealistic", "anime") are everyday words of this domain: a
 * general checkpoint of that style serves them, so they never name a niche model on their own. Pixel art
 * and graphic techniques (papercut, stained glass) are not among them: general checkpoints do not draw them.
 */
const DOMAIN_WORDS: ReadonlySet<string> = new Set([
  ...STYLE_WORDS,
  ...GENRE_WORDS,
  ...Object.entries(MEDIUM_FAMILY)
    .filter(([, family]) => family !== 'pixel' && family !== 'graphic')
    .flatMap(([term]) => term.split(' ')),
]);

const rare = (t: string) => isNamingTerm(t) && !isCommonWord(t) && !DOMAIN_WORDS.has(t);

/** Techniques of their own (pixel art, papercut, stained glass, vector art), as retrieval term sequences. */
const TECHNIQUES: readonly string[][] = Object.entries(MEDIUM_FAMILY)
  .filter(([, family]) => family === 'pixel' || family === 'graphic')
  .map(([term]) => retrievalTerms(term))
  .filter((seq) => seq.length > 0)
  .sort((a, b) => b.length - a.length);

/**
 * Trigger phrases that the catalog's demonstrations use across several models ("cherry blossoms", "red
 * dress"): a request using them describes a picture, it does not name a model. A phrase counts when its
 * first two words stand together in the prompts of at least `minModels` models. A phrase with a rarer word
 * ("teddy bear") counts from twice as many models, and only when it is not the model's own name: "hatsune
 * miku" stays the name of a Miku LoRA however many prompts draw her.
 */
export function everydayTriggersOf(
  all: readonly ModelPhrases[],
  demoTerms: readonly (readonly string[])[],
  demoModelRow: Int32Array,
  minModels = 4,
): Set<string> {
  const candidates = new Map<string, string[]>();
  const rareBigrams = new Set<string>();
  for (const p of all) {
    for (const t of p.triggers) {
      if (t.length < 2) continue;
      const everyday = t.every((w) => isCommonWord(w) || DOMAIN_WORDS.has(w));
      if (!everyday && t.some((w) => p.nameTerms.includes(w))) continue;
      const bigram = `${t[0]} ${t[1]}`;
      if (!everyday) rareBigrams.add(bigram);
      const list = candidates.get(bigram);
      if (list) list.push(t.join(' '));
      else candidates.set(bigram, [t.join(' ')]);
    }
  }
  const models = new Map<string, Set<number>>();
  demoTerms.forEach((terms, doc) => {
    const row = demoModelRow[doc]!;
    for (let i = 0; i + 1 < terms.length; i++) {
      const bigram = `${terms[i]} ${terms[i + 1]}`;
      if (!candidates.has(bigram)) continue;
      let set = models.get(bigram);
      if (!set) models.set(bigram, (set = new Set()));
      set.add(row);
    }
  });
  const everyday = new Set<string>();
  for (const [bigram, rows] of models)
    if (rows.size >= (rareBigrams.has(bigram) ? 2 * minModels : minModels))
      for (const phrase of candidates.get(bigram)!) everyday.add(phrase);
  return everyday;
}

/** What the whole catalog says about names: shared triggers, and how many models' names use each term. */
export interface CatalogNaming {
  sharedTriggers: ReadonlySet<string>;
  /**
   * Name terms that some model other than a character or person uses in its name: franchise and style
   * words ("ghibli", "genshin"), which do not name a character.
   */
  nonCharacterNameTerms: ReadonlySet<string>;
}

/** How a request asks for a niche model: by its name, a trigger, a technique or a concept of its tags. */
export interface AskedFor {
  by: AskedBy;
  /** The request's words that did it. */
  terms: readonly string[];
  /** The reason, in words. */
  reason: string;
}

/** Why a request asks for a niche model; null when it does not. */
export function askedFor(
  phrases: ModelPhrases,
  traits: ModelTraits,
  request: RequestTerms,
  naming: CatalogNaming,
): AskedFor | null {
  const sharedTriggers = naming.sharedTriggers;
  const has = (t: string) => request.all.has(t);
  const inOnePhrase = (seq: readonly string[]) => request.phrases.some((p) => containsSequence(p, seq));
  // A trigger names the model when it is its own (not shared booru vocabulary) and holds an uncommon word
  // or is three words or more: two everyday words ("scared expression", "broken glass") describe, as a
  // name of everyday words does.
  // A character's triggers beyond its name describe its look ("red bow", "long hair"): only a rare word or its
  // name makes one of them name the character.
  const trigger = phrases.triggers.find(
    (p) =>
      !sharedTriggers.has(p.join(' ')) &&
      (p.length >= 3 || p.some(rare)) &&
      (!traits.character || p.some((t) => rare(t) || phrases.nameTerms.includes(t))) &&
      inOnePhrase(p),
  );
  if (traits.person) {
    // A likeness needs its person's whole name, or a trigger that carries the name.
    const name = phrases.primaryName;
    if (name.length > 0 && name.every(has) && (name.length >= 2 || rare(name[0]!)))
      return { by: 'name', terms: name, reason: `the request names ${name.join(' ')}` };
    return trigger?.some((t) => phrases.nameTerms.includes(t))
      ? { by: 'trigger', terms: trigger, reason: `the request uses its trigger "${trigger.join(' ')}"` }
      : null;
  }
  // A technique a general checkpoint cannot draw ("pixel art", "stained glass") asks for the models made for it.
  const technique = TECHNIQUES.find(
    (seq) =>
      inOnePhrase(seq) && [...phrases.nameTerms, ...phrases.tags.flat(), ...phrases.triggers.flat()].includes(seq[0]!),
  );
  if (technique && !traits.character)
    return { by: 'technique', terms: technique, reason: `the request asks for its technique "${technique.join(' ')}"` };
  // A character is named by its own name, not its franchise's ("ghibli" names a style, not Kiki).
  const rareName = phrases.nameTerms.find(
    (t) =>
      has(t) &&
      rare(t) &&
      // A character's part holds its names ("Miyamizu Mitsuha Your Name"): any of them names it.
      (traits.character || traits.person || !phrases.titleTerms.includes(t)) &&
      (!traits.character || !naming.nonCharacterNameTerms.has(t)),
  );
  if (rareName) return { by: 'name', terms: [rareName], reason: `the request names it ("${rareName}")` };
  if (trigger) return { by: 'trigger', terms: trigger, reason: `the request uses its trigger "${trigger.join(' ')}"` };
  // A name of everyday words counts only when long ("legend of the galactic heroes"), not "Full Body" or "Crop Top".
  if (phrases.nameTerms.length >= 3 && phrases.nameTerms.every(has))
    return { by: 'name', terms: phrases.nameTerms, reason: `the request names it ("${phrases.nameTerms.join(' ')}")` };
  // A character is named, not described: its franchise or look alone ("genshin impact", "dog ears") is not
  // enough. Another model may be asked for by a distinctive concept from its tags ("gzhel porcelain").
  if (!traits.character) {
    const tag = [...phrases.tags.filter((p) => p.some(rare)), ...phrases.namedTags].find(inOnePhrase);
    if (tag) return { by: 'concept', terms: tag, reason: `the request asks for its concept "${tag.join(' ')}"` };
  }
  // A common word that is its name counts with a second naming piece ("Jam" and "guilty gear"; "Quiet"
  // and "metal gear"), never with one more common word ("a quiet lake with a metal bench").
  const commonName = phrases.nameTerms.find(has);
  if (commonName) {
    const otherNameTerms = phrases.nameTerms.filter((t) => t !== commonName && has(t));
    const secondPhrase = [...phrases.tags, ...phrases.triggers].find(
      (p) => !p.includes(commonName) && p.length >= 2 && inOnePhrase(p),
    );
    const second =
      otherNameTerms.find(rare) ?? (otherNameTerms.length >= 2 ? otherNameTerms.join(' ') : secondPhrase?.join(' '));
    if (second)
      return {
        by: 'name',
        terms: [commonName, ...second.split(' ')],
        reason: `the request names it ("${commonName}" with "${second}")`,
      };
  }
  return null;
}

/**
 * The terms through which a request can make this model eligible (see `askedFor`): its name terms, and the
 * rare or leading terms of its triggers and tags. Indexing only these keeps the per-request check small.
 */
export function namingTermsForIndex(p: ModelPhrases): Set<string> {
  const terms = new Set(p.nameTerms);
  for (const phrase of [...p.triggers, ...p.tags, ...p.namedTags]) {
    if (phrase.length >= 2) terms.add(phrase[0]!);
    for (const t of phrase) if (rare(t)) terms.add(t);
  }
  return terms;
}
