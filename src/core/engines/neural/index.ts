/**
 * The neural engine (ChatGen-Evo's three stages on one decoder):
 * 1. the model writes the prompt and negative prompt from the chat, with retrieved demonstrations in
 *    context, streaming its text;
 * 2. one forward pass over (chat, prompt) gives h; the model logits W_m·h join the vocabulary logits
 *    in one softmax and the best allowed model wins (ModelToken);
 * 3. the arguments come from in-context learning on the chosen model's demonstrations D(m), decoded
 *    under constraints so they are always a valid JSON object (see constrained.ts).
 * The LLM session is handed in: Node passes one on onnxruntime-node, the browser worker one on WebGPU/WASM.
 */
import { plannedModelOf, type Catalog, type Demonstration } from '../../catalog/types.ts';
import {
  headFingerprint,
  logSumExp,
  scoreModels,
  type HiddenStateEncoder,
  type ModelTokenHead,
} from '../../modeltoken.ts';
import { Bm25Index, termCounts, type ScoredDoc } from '../../retrieval/bm25.ts';
import { retrievalTerms } from '../../retrieval/terms.ts';
import { contentWords } from '../../text.ts';
import type {
  ArgumentName,
  ArgumentsResult,
  DemonstrationRef,
  Engine,
  ModelCandidate,
  ModelResult,
  SelectOptions,
  StageRequest,
} from '../engine.ts';
import { createArgumentDecoder, decodeArguments, type ArgumentDecoder } from './constrained.ts';
import type { PackManifest } from './manifest.ts';
import { generateGreedy, throwIfAborted, type ChatMessage, type LlmSession, type StepOutput } from './session.ts';
import { readsImages } from './vision-session.ts';

export type NeuralPackSettings = Pick<
  PackManifest,
  'name' | 'instructions' | 'model_token_prefix' | 'demonstrations' | 'max_new_tokens' | 'architecture'
>;

export interface NeuralEngineOptions {
  session: LlmSession;
  catalog: Catalog;
  /** Null for a pack without a head: stages 1 and 3 run, stage 2 refuses (hybrid planning runs it elsewhere). */
  head: ModelTokenHead | null;
  pack: NeuralPackSettings;
  /** Receives stage 1's text as it is written (the whole text so far). */
  onPromptText?: (text: string) => void;
}

export class NeuralEngineError extends Error {
  override name = 'NeuralEngineError';
}

/** Tokens kept free at the end of the context for what a stage decodes. */
const DECODE_RESERVE = 48;

function chatText(request: StageRequest): string {
  return request.merged.turns.map((t) => t.text).join('\n');
}

/** Splits "Prompt: ...\nNegative prompt: ..." (the reply format of stage 1). */
export function parsePromptReply(reply: string): { prompt: string; negative: string } {
  const text = reply.replace(/^\s*Prompt:\s*/i, '');
  const cut = /\n\s*Negative prompt:\s*/i.exec(text);
  const prompt = (cut ? text.slice(0, cut.index) : text).split(/\n\s*Arguments:/i)[0]!.trim();
  const negative = cut
    ? text
        .slice(cut.index + cut[0].length)
        .split(/\n/)[0]!
        .trim()
    : '';
  return { prompt, negative };
}

/** The text at whose end the model token is read: the chat, then the assistant's prompt and the model prefix. */
export function modelTokenContext(
  session: LlmSession,
  pack: Pick<PackManifest, 'instructions' | 'model_token_prefix'>,
  chat: string,
  prompt: string,
  negative: string,
): string {
  const messages: ChatMessage[] = [
    { role: 'system', content: pack.instructions.prompt },
    { role: 'user', content: chat },
  ];
  return (
    session.applyChatTemplate(messages, true) +
    `Prompt: ${prompt}\nNegative prompt: ${negative}\n${pack.model_token_prefix}`
  );
}

async function forwardLast(session: LlmSession, ids: readonly number[], signal?: AbortSignal): Promise<StepOutput> {
  const state = session.begin();
  try {
    return await state.feed(ids, signal);
  } finally {
    state.dispose();
  }
}

/** The frozen LLM as a ModelToken encoder: h and the vocabulary's log-sum-exp at the end of a context. */
export function llmHiddenStateEncoder(session: LlmSession): HiddenStateEncoder {
  return {
    dim: session.hiddenSize,
    async encode(text, signal) {
      const step = await forwardLast(
        session,
        session.encode(text).slice(-(session.maxContextTokens - DECODE_RESERVE)),
        signal,
      );
      if (!step.hidden)
        throw new NeuralEngineError(
          'the model does not expose its hidden state; load the pack with the hidden-state graph edit',
        );
      return { h: step.hidden, vocabLogSumExp: logSumExp(step.logits) };
    },
  };
}

export interface NeuralEngine extends Engine {
  readonly session: LlmSession;
  readonly head: ModelTokenHead | null;
}

export function createNeuralEngine(options: NeuralEngineOptions): NeuralEngine {
  const { session, catalog, head, pack } = options;
  if (head && head.dim !== session.hiddenSize) {
    throw new NeuralEngineError(
      `the head has width ${head.dim} but the model's hidden size is ${session.hiddenSize}: the head belongs to another base model`,
    );
  }
  const modelsById = new Map(catalog.models.map((m) => [m.id, m]));
  const demonstrations = catalog.demonstrations;
  const index = new Bm25Index(demonstrations.map((d) => retrievalTerms(d.prompt)));
  const byModel = new Map<number, number[]>();
  demonstrations.forEach((d, i) => {
    const list = byModel.get(d.model_id) ?? [];
    list.push(i);
    byModel.set(d.model_id, list);
  });
  let argumentDecoder: ArgumentDecoder | null = null;
  const budget = session.maxContextTokens - DECODE_RESERVE;

  const ref = (doc: ScoredDoc, best: number): DemonstrationRef => {
    const d = demonstrations[doc.doc]!;
    return {
      model_id: d.model_id,
      model_name: modelsById.get(d.model_id)?.name ?? String(d.model_id),
      image_id: d.image_id,
      prompt: d.prompt,
      similarity: best > 0 ? doc.score / best : 0,
    };
  };

  /**
   * Adds lines while the rendered context stays within the budget. Lines are counted one by one (plus
   * a separator token each) instead of re-encoding the whole context per line.
   */
  const fitLines = (
    lines: string[],
    render: (chosen: string[]) => string,
    encode = (text: string) => session.encode(text),
  ): string[] => {
    let used = encode(render([])).length;
    const chosen: string[] = [];
    for (const line of lines) {
      const cost = session.encode(line).length + 2;
      if (used + cost > budget) break;
      used += cost;
      chosen.push(line);
    }
    return chosen;
  };

  const systemNote = (request: StageRequest): string[] => {
    const notes = [`ran on ${session.device} (${session.dtype}), pack "${pack.name}"`];
    if (request.input.images.length > 0 && !readsImages(session)) {
      notes.push(
        pack.architecture === 'text'
          ? "the reference image was not used: this pack's model reads text only"
          : 'the reference image was not used: the model was loaded without its vision encoder',
      );
    }
    return notes;
  };

  const engine: NeuralEngine = {
    name: 'neural',
    version: `2/${pack.name}/${session.dtype}/${head ? headFingerprint(head) : 'no-head'}`,
    session,
    head,

    async writePrompt(request, signal) {
      throwIfAborted(signal);
      const request_text = chatText(request);
      const hits = index.search(termCounts(retrievalTerms(request.merged.text)), pack.demonstrations.prompt);
      const best = hits[0]?.score ?? 0;
      const neighbours = hits.map((h) => ref(h, best));
      const examples = hits.map((h) => {
        const d = demonstrations[h.doc]!;
        return `Prompt: ${d.prompt}\nNegative prompt: ${d.negative_prompt}`;
      });
      // A vision-language pack reads the first reference image: the vision encoder runs here and its
      // features take the place of the image token written into the user's message.
      const image = request.input.images[0];
      const withImage = image && readsImages(session) ? await session.withImage(image, signal) : null;
      const stage1 = withImage ?? session;
      const imageMark = withImage ? `${withImage.imageToken}\n` : '';
      const render = (chosen: string[]) =>
        stage1.applyChatTemplate(
          [
            { role: 'system', content: [pack.instructions.prompt, ...chosen].join('\n\n') },
            { role: 'user', content: imageMark + request_text },
          ],
          true,
        ) + 'Prompt:';
      const context = render(fitLines(examples, render, (text) => stage1.encode(text)));
      const reply = await generateGreedy(stage1, stage1.encode(context), {
        maxNewTokens: pack.max_new_tokens,
        stopStrings: ['\nArguments:'],
        onText: (text) => options.onPromptText?.('Prompt:' + text),
        signal,
      });
      const parsed = parsePromptReply('Prompt:' + reply.text);
      const notes = systemNote(request);
      if (imageMark !== '') {
        notes.push(
          `the reference image went through the vision encoder${request.input.images.length > 1 ? ' (the first of the reference images only)' : ''}`,
        );
      }
      let prompt = parsed.prompt;
      if (prompt === '') {
        prompt = request.merged.text.replace(/\s+/g, ' ').trim();
        notes.push('the model wrote an empty prompt; the request itself is used as the prompt');
      }
      if (reply.stoppedBy === 'length') notes.push(`the reply was cut at ${pack.max_new_tokens} tokens`);
      const requested = new Set(contentWords(request.merged.text));
      const written = [...new Set(contentWords(prompt + ' ' + parsed.negative))];
      return {
        prompt,
        negative_prompt: parsed.negative,
        evidence: {
          neighbours,
          kept_terms: written.filter((w) => requested.has(w)),
          added_terms: written
            .filter((w) => !requested.has(w) && contentWords(prompt).includes(w))
            .map((term) => ({ term, from: 'model' })),
          notes,
        },
      };
    },

    async selectModel(request, prompt, selectOptions: SelectOptions, signal) {
      throwIfAborted(signal);
      if (!head)
        throw new NeuralEngineError(
          `pack "${pack.name}" has no ModelToken head: train one in Settings -> Engine, or plan in hybrid mode`,
        );
      const competing = head.modelIds.map(
        (id) => modelsById.has(id) && (!selectOptions.allowedModelIds || selectOptions.allowedModelIds.has(id)),
      );
      const count = competing.filter(Boolean).length;
      if (count === 0) {
        throw new NeuralEngineError(
          selectOptions.allowedModelIds
            ? "none of the allowed models has a row in this pack's ModelToken head"
            : "none of the head's models is in the catalog",
        );
      }
      const context = modelTokenContext(session, pack, chatText(request), prompt.prompt, prompt.negative_prompt);
      const step = await forwardLast(session, session.encode(context).slice(-budget), signal);
      if (!step.hidden)
        throw new NeuralEngineError(
          'the model does not expose its hidden state; load the pack with the hidden-state graph edit',
        );
      const vocabLse = logSumExp(step.logits);
      const scores = scoreModels(head, step.hidden, vocabLse, competing);
      const rows = head.modelIds.map((_, r) => r).filter((r) => competing[r]);
      rows.sort((a, b) => scores.probabilities[b]! - scores.probabilities[a]! || head.modelIds[a]! - head.modelIds[b]!);
      const top = rows.slice(0, 5);
      const topMass = top.reduce((s, r) => s + scores.probabilities[r]!, 0);
      let bestVocab = 0;
      for (let i = 1; i < step.logits.length; i++) if (step.logits[i]! > step.logits[bestVocab]!) bestVocab = i;
      const candidates: ModelCandidate[] = top.map((r) => {
        const m = modelsById.get(head.modelIds[r]!)!;
        const p = scores.probabilities[r]!;
        return {
          model_id: m.id,
          name: m.name,
          type: m.type,
          base_model: m.base_model,
          score: topMass > 0 ? p / topMass : 1 / top.length,
          reasons: [
            `P(model token) = ${p.toPrecision(3)} in the joint softmax`,
            `logit W_m·h = ${scores.logits[r]!.toFixed(3)}`,
          ],
        };
      });
      const winner = modelsById.get(head.modelIds[top[0]!]!)!;
      const notes = [
        `the model tokens took ${(scores.modelMass * 100).toFixed(1)}% of the next-token probability`,
        ...systemNote(request),
      ];
      if (step.logits[bestVocab]! > scores.logits[top[0]!]!) {
        notes.push(
          `a vocabulary token ("${session.decode([bestVocab])}") outscored every model token; the best model token is used`,
        );
      }
      return {
        model: plannedModelOf(winner),
        evidence: {
          method: 'ModelToken: W_m·h joined to the vocabulary logits in one softmax',
          candidates,
          competing: count,
          notes,
        },
      };
    },

    async configureArguments(request, prompt, model: ModelResult, seed, signal): Promise<ArgumentsResult> {
      throwIfAborted(signal);
      argumentDecoder ??= createArgumentDecoder(session);
      const own = byModel.get(model.model.id) ?? [];
      // D(m), most similar to the prompt first.
      const scores = new Float32Array(demonstrations.length);
      index.accumulate(termCounts(retrievalTerms(prompt.prompt)), scores);
      const ranked = [...own].sort((a, b) => scores[b]! - scores[a]! || a - b).slice(0, pack.demonstrations.arguments);
      const best = ranked.length > 0 ? Math.max(...ranked.map((i) => scores[i]!)) : 0;
      const line = (d: Demonstration) => `Prompt: ${d.prompt}\nArguments: ${JSON.stringify(d.arguments)}`;
      const render = (chosen: string[]) =>
        session.applyChatTemplate(
          [
            { role: 'system', content: [pack.instructions.arguments, ...chosen].join('\n\n') },
            { role: 'user', content: chatText(request) },
          ],
          true,
        ) + `Prompt: ${prompt.prompt}\nArguments: `;
      const chosen = fitLines(
        ranked.map((i) => line(demonstrations[i]!)),
        render,
      );
      const decoded = await decodeArguments(session, argumentDecoder, session.encode(render(chosen)), signal);
      const used = ranked.slice(0, chosen.length);
      const detail = `constrained decoding after ${used.length} demonstration${used.length === 1 ? '' : 's'} of ${model.model.name}`;
      const fields: ArgumentName[] = ['sampler', 'steps', 'cfg_scale', 'width', 'height'];
      const sources = Object.fromEntries(
        fields.map((f) => [f, { origin: 'model-output' as const, detail }]),
      ) as ArgumentsResult['evidence']['sources'];
      sources.seed = { origin: 'seed', detail: 'derived from the request' };
      const notes = systemNote(request);
      if (own.length === 0)
        notes.push(`${model.model.name} has no demonstrations: the arguments come from the model alone`);
      return {
        arguments: { ...decoded.arguments, seed },
        evidence: {
          sources,
          demonstrations: used.map((i) => ref({ doc: i, score: scores[i]! }, best)),
          notes,
        },
      };
    },
  };
  return engine;
}
