/**
 * Safe mode for a public station (and for anyone who turns it on): a term blocklist checked on the
 * request and on the written prompt, community models excluded when their tags or names lean NSFW or
 * portray a real person, a safe negative prompt, and an optional allowlist of models.
 *
 * The catalog data has no NSFW flag, so exclusion is derived from what the catalogs do carry: tags
 * such as "nsfw", "sexy", "hentai", "celebrity", "real person", "actress" (counted in the 8,049-model
 * civitai-2023 catalog) and the same words in model names. Every exclusion says which tag or word
 * caused it, so an operator can see what was left out and why.
 */

export interface SafetyPolicy {
  /** Terms refused in a request or a prompt: single words (plurals match too) or short phrases. */
  blockedTerms: readonly string[];
  /** Appended to every plan's negative prompt. */
  safeNegativePrompt: string;
  /** When set, only these catalog models (ids, or names compared case-insensitively) may be chosen. */
  allowedModels: readonly (number | string)[] | null;
}

export const DEFAULT_BLOCKED_TERMS: readonly string[] = [
  'nsfw',
  'nude',
  'nudity',
  'naked',
  'topless',
  'bottomless',
  'undressed',
  'porn',
  'porno',
  'pornographic',
  'pornstar',
  'sex',
  'sexual',
  'sexy',
  'hentai',
  'ecchi',
  'erotic',
  'erotica',
  'lewd',
  'explicit',
  'nipple',
  'genital',
  'genitals',
  'penis',
  'vagina',
  'pussy',
  'breast',
  'boob',
  'lingerie',
  'fetish',
  'bdsm',
  'orgasm',
  'stripper',
  'gore',
  'gory',
  'dismembered',
  'decapitated',
  'beheaded',
  'mutilated',
  'torture',
  'suicide',
  'self harm',
  'self-harm',
  'corpse',
];

export const DEFAULT_SAFE_NEGATIVE_PROMPT =
  'nsfw, nude, naked, nipples, sexual content, explicit, gore, blood, violence';

export const DEFAULT_SAFETY_POLICY: SafetyPolicy = {
  blockedTerms: DEFAULT_BLOCKED_TERMS,
  safeNegativePrompt: DEFAULT_SAFE_NEGATIVE_PROMPT,
  allowedModels: null,
};

/** Catalog tags (lower case) that mark a model as NSFW-leaning. */
const NSFW_TAGS = new Set([
  'nsfw',
  'sexy',
  'sex',
  'hentai',
  'porn',
  'pornstar',
  'nude',
  'nudes',
  'nudity',
  'naked',
  'breasts',
  'boobs',
  'erotic',
  'erotic pose',
  'lewd',
  'lingerie',
  'fetish',
  'bdsm',
  'ecchi',
  'topless',
  'nipples',
  'underwear',
  'seductive',
  'onlyfans',
]);
/** Catalog tags that mark a model as a real person's likeness. */
const LIKENESS_TAGS = new Set([
  'celebrity',
  'celeb',
  'celebrities',
  'real person',
  'real people',
  'actress',
  'actor',
  'singer',
  'politician',
  'political',
  'kpop idol',
  'k-pop idol',
  'kpop girl',
  'japanese idol',
  'instagram',
  'instagram model',
  'influencer',
  'youtuber',
  'famous',
  'famous people',
  'athlete',
  'public figure',
  'president',
  'streamer',
  'tiktok',
]);
/** Words in a model's name that mark it NSFW-leaning. */
const NSFW_NAME_WORDS = new Set([
  'nsfw',
  'hentai',
  'porn',
  'porno',
  'nude',
  'nudes',
  'naked',
  'sex',
  'sexy',
  'lewd',
  'erotic',
  'ecchi',
  'lingerie',
  'topless',
  'fetish',
]);

export type ExclusionReason = 'nsfw' | 'likeness' | 'not-allowlisted';

export interface SafetyModel {
  id: number;
  name: string;
  tags: readonly string[];
}

export interface ModelExclusion {
  id: number;
  name: string;
  reason: ExclusionReason;
  /** What caused it, for the operator: e.g. 'tag "celebrity"' or 'name word "nsfw"'. */
  evidence: string;
}

export interface SafetyScreen {
  /** The catalog ids that may be chosen (what stage 2's `allowedModelIds` takes). */
  allowedIds: number[];
  excluded: ModelExclusion[];
  /** Allowlist entries that name no catalog model (so the operator can fix a typo). */
  unknownAllowlistEntries: string[];
}

const LEET: Record<string, string> = { '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '@': 'a', $: 's' };

/**
 * Lower case, accents removed, common digit-for-letter spellings undone ("s3xy", "nud3"), and every
 * run of other characters made one space, so words can be matched whole.
 */
export function normaliseForSafety(text: string): string {
  return ` ${text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[013457@$]/g, (c, offset: number, whole: string) => {
      // Only inside a word: "1girl" and "4k" stay numbers, "s3xy" becomes "sexy".
      const before = whole[offset - 1] ?? ' ';
      const after = whole[offset + 1] ?? ' ';
      return /[a-z]/.test(before) && /[a-z]/.test(after) ? LEET[c]! : c;
    })
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()} `;
}

/** The blocked terms found in `text` (each once, in the policy's order). A word also matches its plural. */
export function findBlockedTerms(text: string, policy: Pick<SafetyPolicy, 'blockedTerms'>): string[] {
  const haystack = normaliseForSafety(text);
  const found: string[] = [];
  for (const term of policy.blockedTerms) {
    const needle = normaliseForSafety(term).trim();
    if (!needle) continue;
    if (haystack.includes(` ${needle} `) || haystack.includes(` ${needle}s `) || haystack.includes(` ${needle}es `))
      found.push(term);
  }
  return found;
}

/** A friendly refusal that says what to change. */
export function refusalMessage(found: readonly string[], where: 'request' | 'prompt'): string {
  const list = found.map((t) => `"${t}"`).join(', ');
  const subject = where === 'request' ? 'your request asks for' : 'the prompt contains';
  return `Sorry, this station keeps images suitable for everyone, and ${subject} something it cannot make (${list}). Try describing a different scene.`;
}

/** Why a model is excluded, or null when it may be chosen. */
export function exclusionOf(model: SafetyModel): Omit<ModelExclusion, 'id' | 'name'> | null {
  const tags = model.tags.map((t) => t.trim().toLowerCase());
  const nsfwTag = tags.find((t) => NSFW_TAGS.has(t));
  if (nsfwTag) return { reason: 'nsfw', evidence: `tag "${nsfwTag}"` };
  const nameWords = normaliseForSafety(model.name).trim().split(' ');
  const nsfwWord = nameWords.find((w) => NSFW_NAME_WORDS.has(w));
  if (nsfwWord) return { reason: 'nsfw', evidence: `name word "${nsfwWord}"` };
  const likenessTag = tags.find((t) => LIKENESS_TAGS.has(t));
  if (likenessTag) return { reason: 'likeness', evidence: `tag "${likenessTag}"` };
  return null;
}

/** Which catalog models may be chosen under the policy, and what was excluded and why. */
export function screenModels(
  models: readonly SafetyModel[],
  policy: Pick<SafetyPolicy, 'allowedModels'>,
): SafetyScreen {
  const allowIds = new Set<number>();
  const allowNames = new Set<string>();
  for (const entry of policy.allowedModels ?? []) {
    if (typeof entry === 'number') allowIds.add(entry);
    else allowNames.add(entry.trim().toLowerCase());
  }
  const allowlisted = (m: SafetyModel) => allowIds.has(m.id) || allowNames.has(m.name.trim().toLowerCase());
  const allowedIds: number[] = [];
  const excluded: ModelExclusion[] = [];
  const seenEntries = new Set<string>();
  for (const m of models) {
    if (allowIds.has(m.id)) seenEntries.add(String(m.id));
    if (allowNames.has(m.name.trim().toLowerCase())) seenEntries.add(m.name.trim().toLowerCase());
    const why = exclusionOf(m);
    if (why) excluded.push({ id: m.id, name: m.name, ...why });
    else if (policy.allowedModels && !allowlisted(m))
      excluded.push({ id: m.id, name: m.name, reason: 'not-allowlisted', evidence: 'not in the allowlist' });
    else allowedIds.push(m.id);
  }
  const unknownAllowlistEntries = (policy.allowedModels ?? [])
    .map((e) => (typeof e === 'number' ? String(e) : e.trim().toLowerCase()))
    .filter((e) => !seenEntries.has(e));
  return { allowedIds, excluded, unknownAllowlistEntries };
}

/**
 * Removes from a written prompt the comma-separated parts that hold a blocked term (an engine may
 * borrow such terms from neighbouring demonstrations even for a harmless request).
 */
export function scrubPrompt(
  prompt: string,
  policy: Pick<SafetyPolicy, 'blockedTerms'>,
): { prompt: string; removed: string[] } {
  const removed: string[] = [];
  const kept = prompt.split(',').filter((part) => {
    const found = findBlockedTerms(part, policy);
    removed.push(...found.filter((t) => !removed.includes(t)));
    return found.length === 0;
  });
  return {
    prompt: kept
      .map((p) => p.trim())
      .filter(Boolean)
      .join(', '),
    removed,
  };
}

/** The negative prompt with the policy's safe terms appended (those it does not already hold). */
export function withSafeNegative(negative: string, policy: Pick<SafetyPolicy, 'safeNegativePrompt'>): string {
  const have = new Set(
    negative
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
  const add = policy.safeNegativePrompt
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t && !have.has(t.toLowerCase()));
  return [negative.trim(), ...add].filter(Boolean).join(', ');
}

/** Operator settings from kiosk.json merged with the defaults: extra blocked terms add to the built-in list. */
export function policyFrom(options: {
  blockedTerms?: readonly string[];
  allowedModels?: readonly (number | string)[] | null;
  safeNegativePrompt?: string;
}): SafetyPolicy {
  return {
    blockedTerms: [
      ...DEFAULT_BLOCKED_TERMS,
      ...(options.blockedTerms ?? []).filter((t) => !DEFAULT_BLOCKED_TERMS.includes(t)),
    ],
    safeNegativePrompt: options.safeNegativePrompt ?? DEFAULT_SAFE_NEGATIVE_PROMPT,
    allowedModels: options.allowedModels && options.allowedModels.length > 0 ? options.allowedModels : null,
  };
}
