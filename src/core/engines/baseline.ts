/**
 * The paper's "Baseline": the user's own words, lightly cleaned, with a few generic quality words; one
 * fixed model (the catalog's most downloaded Checkpoint); fixed default arguments. It reads nothing of
 * the request to choose a model or arguments, which is what makes it the floor the other engines are
 * measured against.
 */
import { plannedModelOf, type Catalog, type CatalogModel } from '../catalog/types.ts';
import { contentWords } from '../text.ts';
import type {
  ArgumentName,
  ArgumentsResult,
  Engine,
  ModelCandidate,
  ModelResult,
  PromptResult,
  SelectOptions,
  StageRequest,
} from './engine.ts';

export const BASELINE_QUALITY_TERMS = ['masterpiece', 'best quality', 'highly detailed'] as const;
export const BASELINE_NEGATIVE_PROMPT =
  'lowres, bad anatomy, bad hands, worst quality, low quality, blurry, watermark, text';
export const BASELINE_ARGUMENTS = { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 } as const;

/** Openings with which people ask for a picture; they say nothing about the picture itself. */
const POLITE_LEAD =
  /^(?:(?:hey|hi|hello|ok(?:ay)?|so|yo)[,!.]?\s+)?(?:(?:can|could|would|will)\s+(?:you|u)\s+(?:please\s+|pls\s+)?|please\s+|pls\s+|i(?:\s+want|\s+need|\s+wanna|\s+would\s+like|'d\s+like)\s+(?:you\s+to\s+)?|i'm\s+looking\s+for\s+)/i;
const REQUEST_VERB = /^(?:make|draw|create|generate|render|give|show|do)\s+(?<me>me\s+)?/i;
// Only the words that name "a picture" in general: "photo", "illustration", "drawing" are styles and stay.
const PICTURE_OF = /^(?:an?\s+)?(?:pic|picture|image)\s+of\s+/i;
const TRAILING_POLITENESS = /[\s,.!]*(?:please|pls|plz|thanks|thank you|thx|lol)?[\s.!?]*$/i;

/**
 * Light cleanup of one turn: request phrasing ("can u make me a pic of") and trailing politeness
 * removed, spacing normalised. A bare verb stays ("make it dark", "make her a DJ" are content).
 */
export function cleanTurn(turn: string): string {
  let text = turn.replace(/\s+/g, ' ').trim();
  const lead = POLITE_LEAD.exec(text);
  if (lead) text = text.slice(lead[0].length);
  const verb = REQUEST_VERB.exec(text);
  const afterVerb = verb ? text.slice(verb[0].length) : text;
  const pictureOf = PICTURE_OF.exec(afterVerb);
  if (verb && (lead || verb.groups?.['me'] || pictureOf)) text = afterVerb;
  if (pictureOf && (verb || lead || text === afterVerb)) text = text.slice(pictureOf[0].length);
  const cleaned = text.replace(TRAILING_POLITENESS, '').trim();
  return cleaned.length > 0 ? cleaned : turn.trim();
}

/** Most downloaded first; the id breaks ties so that the choice is stable. */
const byDownloads = (a: CatalogModel, b: CatalogModel) => b.downloads - a.downloads || a.id - b.id;

export function createBaselineEngine(catalog: Catalog): Engine {
  const checkpoints = catalog.models.filter((m) => m.type === 'Checkpoint').sort(byDownloads);
  const everything = [...catalog.models].sort(byDownloads);

  return {
    name: 'baseline',
    version: '1',

    async writePrompt(request: StageRequest): Promise<PromptResult> {
      const turns = request.merged.turns.map((t) => cleanTurn(t.text)).filter((t) => t.length > 0);
      const userText = turns.join(', ');
      return {
        prompt: [userText, ...BASELINE_QUALITY_TERMS].filter((t) => t.length > 0).join(', '),
        negative_prompt: BASELINE_NEGATIVE_PROMPT,
        evidence: {
          neighbours: [],
          kept_terms: [...new Set(contentWords(userText))],
          added_terms: BASELINE_QUALITY_TERMS.map((term) => ({ term, from: 'baseline quality words' })),
          notes: [
            'Baseline: the request itself with request phrases removed and turns joined; no demonstrations used.',
          ],
        },
      };
    },

    async selectModel(_request: StageRequest, _prompt: PromptResult, options: SelectOptions): Promise<ModelResult> {
      const allowed = options.allowedModelIds;
      const pool = (list: CatalogModel[]) => (allowed ? list.filter((m) => allowed.has(m.id)) : list);
      // The fixed choice is the most downloaded Checkpoint; a LORA only when no Checkpoint may compete.
      let ranked = pool(checkpoints);
      if (ranked.length === 0) ranked = pool(everything);
      const chosen = ranked[0];
      if (!chosen) throw new Error('baseline: no catalog model is allowed to compete');
      const top = ranked.slice(0, 5);
      const total = top.reduce((s, m) => s + Math.max(m.downloads, 0), 0);
      const candidates: ModelCandidate[] = top.map((m) => ({
        model_id: m.id,
        name: m.name,
        type: m.type,
        base_model: m.base_model,
        // Downloads are the only thing the baseline ranks by, so they are the scores it can honestly show.
        score: total > 0 ? Math.max(m.downloads, 0) / total : 1 / top.length,
        reasons: [`${m.downloads.toLocaleString('en-US')} downloads`],
      }));
      return {
        model: plannedModelOf(chosen),
        evidence: {
          method: 'fixed default: the most downloaded Checkpoint, whatever the request',
          candidates,
          competing: ranked.length,
          notes: [],
        },
      };
    },

    async configureArguments(
      _request: StageRequest,
      _prompt: PromptResult,
      _model: ModelResult,
      seed: number,
    ): Promise<ArgumentsResult> {
      const fixed = (detail: string) => ({ origin: 'default' as const, detail });
      const sources: Record<ArgumentName, { origin: 'default' | 'seed'; detail: string }> = {
        sampler: fixed(`baseline default ${BASELINE_ARGUMENTS.sampler}`),
        steps: fixed(`baseline default ${BASELINE_ARGUMENTS.steps}`),
        cfg_scale: fixed(`baseline default ${BASELINE_ARGUMENTS.cfg_scale}`),
        width: fixed(`baseline default ${BASELINE_ARGUMENTS.width}`),
        height: fixed(`baseline default ${BASELINE_ARGUMENTS.height}`),
        seed: { origin: 'seed', detail: 'derived from the request' },
      };
      return {
        arguments: { ...BASELINE_ARGUMENTS, seed },
        evidence: { sources, demonstrations: [], notes: ['Baseline: the same arguments for every request and model.'] },
      };
    },
  };
}
