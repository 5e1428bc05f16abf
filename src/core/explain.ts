/**
 * Plain-language explanations of a plan, written from the stages' evidence for people who have never
 * used Stable Diffusion (a class, a projector). Every sentence is built here from the evidence the
 * engines return; no internal names (argument origins, reranker features) reach the text. The numbers
 * stay in the evidence itself, which the UI keeps under "details".
 */
import type {
  ArgumentName,
  ArgumentOrigin,
  ArgumentSource,
  ArgumentsResult,
  ModelCandidate,
  ModelResult,
  PromptResult,
} from './engines/engine.ts';
import type { GenerationPlan, PlannedModel } from './plan.ts';

/** The parts of a plan result an explanation reads (a PlanResult has them all). */
export interface ExplainInput {
  plan: GenerationPlan;
  prompt: PromptResult;
  model: ModelResult;
  arguments: ArgumentsResult;
}

export interface CandidateExplanation {
  model_id: number;
  name: string;
  /** "helped" reasons first, then what counted against it; each a short phrase. */
  reasons: string[];
}

export interface PlanExplanation {
  /** One or two sentences per stage. */
  prompt: string;
  model: string;
  arguments: string;
  /** Each argument's source in words. */
  sources: Record<ArgumentName, string>;
  candidates: CandidateExplanation[];
  /** Engine notes worth saying up front (e.g. a reference image that was not used), in the engine's words. */
  notices: string[];
}

/** Stage 2's method when a person chose the model in Edit plan (what-if). */
export const HAND_PICKED = 'picked by hand';

export const ARGUMENT_LABELS: Record<ArgumentName, string> = {
  sampler: 'Sampler',
  steps: 'Steps',
  cfg_scale: 'CFG scale',
  width: 'Width',
  height: 'Height',
  seed: 'Seed',
};

const quoteList = (items: readonly string[], max = 4): string => {
  const quoted = items.slice(0, max).map((t) => `“${t}”`);
  const more = items.length > max ? ` and ${items.length - max} more` : '';
  if (quoted.length <= 1) return (quoted[0] ?? '') + more;
  return more ? `${quoted.join(', ')}${more}` : `${quoted.slice(0, -1).join(', ')} and ${quoted.at(-1)}`;
};

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "a" or "an" as the base model's name is said aloud ("an SD 1.5", "an SDXL", "a Pony"). */
const article = (word: string) => (/^(?:[aeiou]|SD|S\b|F\b|[FHLMNRSX](?:[\s\d.-]|$))/i.test(word) ? 'an' : 'a');

const typeInWords = (type: PlannedModel['type'], base: string) =>
  type === 'LORA'
    ? `a LoRA (a small add-on that teaches ${article(base)} ${base} checkpoint one style or subject)`
    : `${article(base)} ${base} checkpoint (a complete image model)`;

/** Where an added prompt term came from, in words, from the engine's `from` text. */
function addedTermSource(from: string): 'neighbours' | 'generic' | 'model' | 'trigger' | 'other' {
  if (/neighbour/i.test(from)) return 'neighbours';
  if (/quality/i.test(from)) return 'generic';
  if (/trigger/i.test(from)) return 'trigger';
  if (/^model$/i.test(from.trim())) return 'model';
  return 'other';
}

export function explainPrompt(prompt: PromptResult): string {
  const { kept_terms: kept, added_terms: added, neighbours, request } = prompt.evidence;
  const sentences: string[] = [];
  if (request && request.phrases.length > 0)
    sentences.push(`The prompt keeps your phrases ${quoteList(request.phrases, 6)}.`);
  else {
    sentences.push(
      kept.length > 0
        ? `The prompt keeps your words ${quoteList(kept, 6)}.`
        : 'None of your words could be kept as they were, so the prompt was written from scratch.',
    );
  }
  if (request?.models?.length)
    sentences.push(`${quoteList(request.models)} says which model to use, so it picks the model, not the picture.`);
  if (request?.formats?.length)
    sentences.push(`${quoteList(request.formats)} sets the picture’s size, so it is not in the prompt.`);
  if (request && request.negatives.length > 0)
    sentences.push(
      `You asked to leave out ${quoteList(request.negatives)}, so ${request.negatives.length === 1 ? 'it goes' : 'they go'} in the negative prompt.`,
    );
  for (const r of request?.replacements ?? []) {
    // The words taken out say the change more plainly than the whole phrases they were in.
    const removed = quoteList(r.terms.length > 0 ? r.terms : r.removed);
    // A quality or colour that replaced none ("make the cabin bigger") was added, not swapped in.
    const added = r.terms.length === 0 && /^(quality|colour) of /.test(r.rule);
    sentences.push(
      !r.by
        ? `Message ${r.turn + 1} removed ${removed}.`
        : added
          ? `Message ${r.turn + 1} added “${r.by}” (${replacementRule(r.rule)}).`
          : `Message ${r.turn + 1} replaced ${removed} with “${r.by}” (${replacementRule(r.rule)}).`,
    );
  }
  const groups = new Map<string, string[]>();
  for (const a of added) groups.set(addedTermSource(a.from), [...(groups.get(addedTermSource(a.from)) ?? []), a.term]);
  const parts: string[] = [];
  const fromNeighbours = groups.get('neighbours');
  if (fromNeighbours) {
    const voters = Math.max(
      neighbours.length,
      ...added.map((a) => Number(/of (\d+) neighbours/.exec(a.from)?.[1] ?? 0)),
    );
    parts.push(
      `${quoteList(fromNeighbours)} because many of the ${plural(voters, 'example prompt')} most like your request use ${fromNeighbours.length === 1 ? 'it' : 'them'}`,
    );
  }
  const generic = groups.get('generic');
  if (generic) parts.push(`the common quality words ${quoteList(generic)}`);
  const trigger = groups.get('trigger');
  if (trigger) parts.push(`${quoteList(trigger)}, the trigger words the chosen model needs to show its style`);
  const byModel = groups.get('model');
  if (byModel) parts.push(`${quoteList(byModel)}, which the language model wrote`);
  const other = groups.get('other');
  if (other) parts.push(quoteList(other));
  sentences.push(parts.length > 0 ? `It adds ${parts.join('; ')}.` : 'Nothing was added to your words.');
  return sentences.join(' ');
}

/** Why a later turn replaced something: a picture has one time of day, one colour per thing…, or the person said so. */
function replacementRule(rule: string): string {
  const said = /^(number|quality|colour) of (?:the )?(.+)$/.exec(rule);
  if (said && (said[1] !== 'colour' || said[2] === 'main subject')) return `you gave the ${said[2]} a new ${said[1]}`;
  if (/^(time of day|weather|season|medium)$/.test(rule) || rule.startsWith('colour of '))
    return `a picture has one ${rule}`;
  if (rule === 'main subject') return 'you named a new main subject';
  if (rule === 'place') return 'you named a new place';
  if (rule === 'asked for again') return 'you asked for it again';
  return `you said “${rule}”`;
}

/** What a candidate's reason (the engine's own phrase) means, and whether it helped. */
interface ReasonMeaning {
  phrase: string;
  /** Used instead of `phrase` when the reason counted against the model. */
  against?: string;
}

/** The default engine's ranking signals, keyed by the label its reasons start with. */
const RANKING_SIGNALS: Record<string, ReasonMeaning> = {
  'catalog entry match': { phrase: 'its catalog entry (name, tags, description) shares words with your request' },
  'best demonstration match': { phrase: 'one of its example prompts is very like your request' },
  'two best demonstrations': { phrase: 'two of its example prompts are like your request' },
  'name / trigger words mentioned': { phrase: 'you named it or used its trigger words' },
  popularity: { phrase: 'many people download it', against: 'it is less downloaded' },
  'is a LoRA': {
    phrase: 'it is a LoRA, made for one style or subject',
    against: 'it is a LoRA, which only suits a specific request',
  },
  'number of demonstrations': {
    phrase: 'it has many example prompts',
    against: 'having many example prompts does not by itself make it a better fit',
  },
  'share of the request the entry covers': { phrase: 'its entry covers much of what you asked for' },
  'name match': { phrase: 'its name matches your words' },
  'tag match': { phrase: 'its tags match your words' },
  'trigger word match': { phrase: 'its trigger words match your words' },
  'description match': { phrase: 'its description matches your words' },
  'share of the nearest demonstrations': { phrase: 'many of the example prompts nearest your request belong to it' },
  'SD 1.5 base': { phrase: 'it is built on SD 1.5', against: 'it is built on SD 1.5, an older base' },
  'a LoRA whose name / trigger words are mentioned': { phrase: 'you named this LoRA or its trigger words' },
  'a LoRA whose tags match': {
    phrase: 'this LoRA’s tags match your words',
    against: 'a LoRA that only matches by tags is often too specific',
  },
  'a checkpoint whose entry matches': {
    phrase: 'it is a general checkpoint that matches your request',
    against: 'general checkpoints are slightly held back so specific ones can win',
  },
};

const RANKING_REASON = /^(.+?) (-?\d+(?:\.\d+)?) \(([+-]?\d+(?:\.\d+)?)\)$/;

/** One candidate reason, in words. Null when the engine said something this module does not know. */
export function explainReason(reason: string): { text: string; helped: boolean } | null {
  const ranking = RANKING_REASON.exec(reason.trim());
  if (ranking) {
    const meaning = RANKING_SIGNALS[ranking[1]!];
    if (!meaning) return null;
    const helped = Number(ranking[3]) >= 0;
    return {
      text: helped ? meaning.phrase : (meaning.against ?? `${meaning.phrase}, but this counted against it`),
      helped,
    };
  }
  const downloads = /^([\d,]+) downloads$/.exec(reason.trim());
  if (downloads) return { text: `it is the most downloaded checkpoint (${downloads[1]} downloads)`, helped: true };
  const token = /^P\(model token\) = ([\d.e-]+)/.exec(reason.trim());
  if (token)
    return { text: `the language model gave it ${Math.round(100 * Number(token[1]))}% of its vote`, helped: true };
  if (/^logit /.test(reason.trim())) return null;
  if (/nothing in the request matched/i.test(reason))
    return { text: 'nothing in your request matched it', helped: false };
  if (reason === HAND_PICKED) return { text: 'you picked it', helped: true };
  return null;
}

export function explainCandidate(candidate: ModelCandidate): CandidateExplanation {
  const meanings = candidate.reasons
    .map(explainReason)
    .filter((m): m is { text: string; helped: boolean } => m !== null);
  const helped = meanings.filter((m) => m.helped).map((m) => m.text);
  const against = meanings.filter((m) => !m.helped).map((m) => `against it: ${m.text}`);
  return { model_id: candidate.model_id, name: candidate.name, reasons: [...new Set([...helped, ...against])] };
}

const words = (text: string) =>
  new Set(
    text
      .toLowerCase()
      .split(/[^\p{L}\p{N}]+/u)
      .filter(Boolean),
  );

/** Which of the kept request words the model's name, trigger words and cited example prompts hold. */
function matchedTerms(input: ExplainInput): { inName: string[]; examples: number; inExamples: string[] } {
  const model = input.plan.model;
  const nameWords = words(`${model.name} ${model.trained_words.join(' ')}`);
  const kept = input.prompt.evidence.kept_terms;
  const examples = new Map<number, string>();
  for (const n of input.prompt.evidence.neighbours) if (n.model_id === model.id) examples.set(n.image_id, n.prompt);
  for (const d of input.arguments.evidence.demonstrations)
    if (d.model_id === model.id) examples.set(d.image_id, d.prompt);
  const exampleWords = [...examples.values()].map(words);
  const inExamples = kept.filter((t) => exampleWords.some((w) => w.has(t.toLowerCase())));
  const matching = exampleWords.filter((w) => kept.some((t) => w.has(t.toLowerCase()))).length;
  return { inName: kept.filter((t) => nameWords.has(t.toLowerCase())), examples: matching, inExamples };
}

/** Why the request asked for the chosen model, in words ("you named it (“dreamshaper”)"). */
function askedInWords(asked: NonNullable<ModelResult['evidence']['asked']>): string {
  const terms = `“${asked.terms.join(' ')}”`;
  switch (asked.by) {
    case 'name':
      return `you named it (${terms})`;
    case 'trigger':
      return `your request uses its trigger words ${terms}`;
    case 'technique':
      return `it is made for the technique you asked for (${terms})`;
    case 'concept':
      return `it is made for what you asked for (${terms})`;
  }
}

export function explainModel(input: ExplainInput): string {
  const { candidates, competing } = input.model.evidence;
  const model = input.plan.model;
  const sentences: string[] = [];
  const chosen = candidates.find((c) => c.model_id === model.id);
  const opening = `${model.name} is ${typeInWords(model.type, model.base_model)}, chosen${competing > 1 ? ` from ${plural(competing, 'model')}` : ''}`;
  const { inName, examples, inExamples } = matchedTerms(input);
  const because: string[] = [];
  const asked = input.model.evidence.asked;
  if (asked) because.push(askedInWords(asked));
  else if (inName.length > 0) because.push(`its name or trigger words hold ${quoteList(inName)}`);
  if (examples > 0 && inExamples.length > 0) {
    because.push(
      `${examples === 1 ? 'one of its example prompts matches' : `${examples} of its example prompts match`} ${quoteList(inExamples)}`,
    );
  }
  if (because.length === 0 && chosen) {
    // Only what spoke for it: "against it" reasons do not explain a choice.
    const first = explainCandidate(chosen).reasons.find((r) => !r.startsWith('against it'));
    if (first) because.push(first);
    else if (input.model.evidence.notes.some((n) => n.includes('general checkpoint')))
      because.push('no LoRA or niche model was asked for, and it is a well-regarded general checkpoint');
  }
  if (input.model.evidence.method === HAND_PICKED) {
    const share = chosen
      ? `the engine had given it ${Math.round(100 * chosen.score)}% of the vote`
      : `it was not among the engine's best ${candidates.length}`;
    const triggers = stage3Triggers(input);
    return [
      `You picked ${model.name}, ${typeInWords(model.type, model.base_model)}; ${share}.`,
      input.plan.base_checkpoint ? `The LoRA runs on the checkpoint ${input.plan.base_checkpoint.name}.` : '',
      triggers.length > 0 ? `Its trigger words ${quoteList(triggers)} were added to the prompt.` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }
  for (const name of input.model.evidence.unnamed ?? [])
    sentences.push(
      `You asked for “${name}”, but no model in the catalog is called that, so the engine chose one itself.`,
    );
  if (!chosen) sentences.push(`${opening}.`);
  else
    sentences.push(
      because.length > 0 ? `${opening}${competing > 1 ? ',' : ''} because ${because.join(' and ')}.` : `${opening}.`,
    );
  const runnerUp = candidates.find((c) => c.model_id !== model.id);
  if (chosen && runnerUp) {
    const share = (x: number) => (x < 0.005 ? 'under 1%' : `${Math.round(100 * x)}%`);
    // What the runner-up had that the chosen model lacked, if anything: the reasons they share say little.
    const chosenReasons = new Set(explainCandidate(chosen).reasons);
    const upReason = explainCandidate(runnerUp).reasons.find((r) => !chosenReasons.has(r) && !r.startsWith('against'));
    sentences.push(
      share(runnerUp.score) === share(chosen.score)
        ? `The next best, ${runnerUp.name}, got about the same share of the vote (${share(chosen.score)})${upReason ? ` (${upReason})` : ''}.`
        : `The next best, ${runnerUp.name}, got ${share(runnerUp.score)} of the vote against ${share(chosen.score)}${upReason ? ` (${upReason})` : ''}.`,
    );
  }
  if (input.plan.base_checkpoint) sentences.push(`The LoRA runs on the checkpoint ${input.plan.base_checkpoint.name}.`);
  const triggers = stage3Triggers(input);
  if (triggers.length > 0)
    sentences.push(
      `Its trigger ${triggers.length === 1 ? 'word' : 'words'} ${quoteList(triggers)} ${triggers.length === 1 ? 'was' : 'were'} added to the prompt to switch its style on.`,
    );
  return sentences.join(' ');
}

/** The chosen model's trigger words that the plan's prompt holds and stage 1's prompt did not. */
export function stage3Triggers(input: Pick<ExplainInput, 'plan' | 'prompt'>): string[] {
  const before = input.prompt.prompt.toLowerCase();
  const now = input.plan.prompt.toLowerCase();
  return input.plan.model.trained_words.filter(
    (w) => w.trim() && now.includes(w.toLowerCase()) && !before.includes(w.toLowerCase()),
  );
}

const ORIGIN_WORDS: Record<ArgumentOrigin, string> = {
  'model-habit': 'what the chosen model’s own example pictures mostly use',
  'nearest-demonstration': 'the chosen model’s example most like your request',
  'base-model-prior': 'the usual value for models of this base across the catalog',
  'request-shape': 'the shape your request asks for, at a size the model is made for',
  default: 'a safe standard value, as nothing better was known',
  seed: 'worked out from your chat text, so the same chat gives the same picture',
  'model-output': 'chosen by the language model after reading the model’s examples',
};

/** One argument's source in words (the engine's detail, which may hold counts, is added when it is plain prose). */
export function explainSource(source: ArgumentSource): string {
  const base = ORIGIN_WORDS[source.origin];
  const habit = /used in (\d+) of the model's (\d+) demonstrations/.exec(source.detail);
  if (source.origin === 'model-habit' && habit) return `${base} (${habit[1]} of its ${habit[2]} examples)`;
  const prior = /\((\d+)% of their demonstrations\)/.exec(source.detail);
  if (source.origin === 'base-model-prior' && prior) return `${base} (${prior[1]}% of them)`;
  // The engine's own sentence about the shape is plain prose ("“tall” asks for a portrait picture: 832×1216, …").
  if (source.origin === 'request-shape' && source.detail.trim()) return source.detail.replace(/"([^"]+)"/g, '“$1”');
  const nearest = /\((\d+)% of their vote\)/.exec(source.detail);
  if (nearest)
    return `what the example prompts nearest your request use, from any model (${nearest[1]}% of them), as the chosen model’s own examples gave no clear answer`;
  return base;
}

export function explainArguments(input: ExplainInput): string {
  const a = input.plan.arguments;
  const sources = input.arguments.evidence.sources;
  const byOrigin = new Map<ArgumentOrigin, string[]>();
  for (const name of ['sampler', 'steps', 'cfg_scale', 'width', 'height'] as const) {
    const origin = sources[name].origin;
    byOrigin.set(origin, [...(byOrigin.get(origin) ?? []), ARGUMENT_LABELS[name].toLowerCase()]);
  }
  const groups = [...byOrigin.entries()].sort((x, y) => y[1].length - x[1].length);
  const settings = `${a.sampler} sampler, ${a.steps} steps, CFG scale ${a.cfg_scale}, ${a.width}×${a.height} pixels`;
  const origins = groups.map(
    ([origin, names]) => `${names.length === 5 ? 'all of them' : names.join(', ')}: ${ORIGIN_WORDS[origin]}`,
  );
  return `The picture will be made with the ${settings}. Where these come from: ${origins.join('; ')}.`;
}

export function explainPlan(input: ExplainInput): PlanExplanation {
  const sources = Object.fromEntries(
    (Object.keys(ARGUMENT_LABELS) as ArgumentName[]).map((name) => [
      name,
      explainSource(input.arguments.evidence.sources[name]),
    ]),
  ) as Record<ArgumentName, string>;
  const notices = input.prompt.evidence.notes.filter((n) => /image/i.test(n));
  return {
    prompt: explainPrompt(input.prompt),
    model: explainModel(input),
    arguments: explainArguments(input),
    sources,
    candidates: input.model.evidence.candidates.map(explainCandidate),
    notices,
  };
}

/** Short definitions for the glossary (one tap away in the app, and in the Markdown handout). */
export const GLOSSARY: readonly { term: string; definition: string }[] = [
  {
    term: 'Prompt',
    definition: 'The text that describes the picture. The image model draws what these words describe.',
  },
  {
    term: 'Negative prompt',
    definition: 'Things the picture should not have (for example “blurry” or “extra fingers”).',
  },
  {
    term: 'Checkpoint',
    definition:
      'A complete image model, such as SD 1.5 or SDXL, or one fine-tuned from them for a look (photos, anime…).',
  },
  {
    term: 'LoRA',
    definition:
      'A small add-on file that teaches a checkpoint one style, character or object. It runs on top of a checkpoint of the same base.',
  },
  {
    term: 'Trigger word',
    definition:
      'A word a LoRA or fine-tuned model was trained with; putting it in the prompt switches its style or subject on.',
  },
  {
    term: 'Sampler',
    definition:
      'The method that turns random noise into a picture step by step. Different samplers give slightly different looks and speeds.',
  },
  {
    term: 'Steps',
    definition:
      'How many times the sampler refines the picture. More steps take longer; after about 20–40 little changes.',
  },
  {
    term: 'CFG scale',
    definition:
      'How strictly the picture follows the prompt. Low values are freer, high values follow the words closely but can look harsh (7 is common).',
  },
  {
    term: 'Size',
    definition:
      'Width × height in pixels. Each base model works best at the size it was trained on: 512 for SD 1.5, 1024 for SDXL.',
  },
  {
    term: 'Seed',
    definition: 'The number that starts the random noise. The same seed and settings give the same picture again.',
  },
  {
    term: 'Example prompt',
    definition:
      'A real prompt someone made a picture with, stored with the model and its settings. The app learns from these.',
  },
];

export interface PromptSegment {
  text: string;
  /** 'yours': a word of the person's request; 'added': a term the engine added; 'plain': neither (spaces, commas, small words). */
  kind: 'yours' | 'added' | 'plain';
}

/**
 * The prompt cut into the person's words and the added terms, for showing them apart. Added terms are
 * found as whole phrases first (they may hold several words); the rest is marked word by word.
 */
export function markPrompt(
  prompt: string,
  evidence: Pick<PromptResult['evidence'], 'kept_terms' | 'added_terms' | 'request'>,
  alsoAdded: readonly string[] = [],
): PromptSegment[] {
  // The person's phrases (when the engine parsed the request) count word by word, like kept terms.
  const kept = new Set(
    [...evidence.kept_terms, ...(evidence.request?.phrases ?? []).flatMap((p) => p.split(/[^\p{L}\p{N}'’-]+/u))]
      .map((t) => t.toLowerCase())
      .filter(Boolean),
  );
  const kinds: PromptSegment['kind'][] = Array.from(prompt, () => 'plain');
  const lower = prompt.toLowerCase();
  const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c);
  const phrases = [
    ...new Set([...evidence.added_terms.map((a) => a.term), ...alsoAdded].map((t) => t.toLowerCase()).filter(Boolean)),
  ].sort((a, b) => b.length - a.length);
  for (const phrase of phrases) {
    for (let at = lower.indexOf(phrase); at >= 0; at = lower.indexOf(phrase, at + phrase.length)) {
      const whole = !isWordChar(lower[at - 1]) && !isWordChar(lower[at + phrase.length]);
      const free = kinds.slice(at, at + phrase.length).every((k) => k === 'plain');
      if (whole && free) kinds.fill('added', at, at + phrase.length);
    }
  }
  // The person's phrases are marked whole where the prompt holds them; the rest of their words one by one.
  const own = [...new Set((evidence.request?.phrases ?? []).map((p) => p.toLowerCase()).filter(Boolean))].sort(
    (a, b) => b.length - a.length,
  );
  for (const phrase of own) {
    for (let at = lower.indexOf(phrase); at >= 0; at = lower.indexOf(phrase, at + phrase.length)) {
      const whole = !isWordChar(lower[at - 1]) && !isWordChar(lower[at + phrase.length]);
      if (whole && kinds.slice(at, at + phrase.length).every((k) => k === 'plain'))
        kinds.fill('yours', at, at + phrase.length);
    }
  }
  for (const m of prompt.matchAll(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu)) {
    const at = m.index;
    if (kinds[at] === 'plain' && kept.has(m[0].toLowerCase())) kinds.fill('yours', at, at + m[0].length);
  }
  const segments: PromptSegment[] = [];
  for (let i = 0; i < prompt.length; i++) {
    const last = segments.at(-1);
    if (last && last.kind === kinds[i]) last.text += prompt[i];
    else segments.push({ text: prompt[i]!, kind: kinds[i]! });
  }
  return segments;
}
