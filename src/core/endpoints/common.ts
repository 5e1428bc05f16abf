/** Pieces every client shares: run tracking for cancel(), plan checks, and model resolution. */
import { validateArguments, type GenerationPlan } from '../plan.ts';
import { EndpointError } from './errors.ts';
import { badReply, type Reply, type RequestContext } from './http.ts';
import { PngFormatError, checkPngData } from '../png.ts';
import { findInstalled, fileStem } from './installed.ts';
import {
  ENDPOINT_KIND_LABELS,
  type ClientDeps,
  type EndpointConfig,
  type EndpointKind,
  type GeneratedPng,
  type GenerationOutput,
  type InstalledModel,
} from './types.ts';

export function makeContext(config: EndpointConfig, deps: ClientDeps): RequestContext {
  const f = deps.fetch ?? (globalThis.fetch as typeof fetch | undefined);
  if (!f) throw new EndpointError('config', 'No fetch available in this environment.', { kind: config.kind });
  return { config, fetch: f.bind(globalThis) };
}

/** Every generate call gets its own AbortController so that cancel() stops them all. */
export class RunTracker {
  private readonly running = new Set<AbortController>();

  /** A signal that fires when the caller's signal does or cancelAll() is called; call done() after. */
  start(callerSignal?: AbortSignal): { signal: AbortSignal; done: () => void } {
    const controller = new AbortController();
    this.running.add(controller);
    const onAbort = () => controller.abort();
    if (callerSignal?.aborted) controller.abort();
    callerSignal?.addEventListener('abort', onAbort, { once: true });
    return {
      signal: controller.signal,
      done: () => {
        callerSignal?.removeEventListener('abort', onAbort);
        this.running.delete(controller);
      },
    };
  }

  get size(): number {
    return this.running.size;
  }

  cancelAll(): void {
    for (const c of this.running) c.abort();
  }

  /** Runs `work` under a signal from start(); once that signal has fired, a failure is a 'cancelled' error. */
  async run<T>(
    callerSignal: AbortSignal | undefined,
    kind: EndpointKind,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const run = this.start(callerSignal);
    try {
      return await work(run.signal);
    } catch (e) {
      if (run.signal.aborted) throw cancelledError(e, kind);
      throw e;
    } finally {
      run.done();
    }
  }
}

export function checkPlan(plan: GenerationPlan, config: EndpointConfig): void {
  const problems = validateArguments(plan.arguments);
  if (problems.length) {
    throw new EndpointError('invalid-plan', `The plan cannot be sent: ${problems.map((p) => p.message).join('; ')}.`, {
      kind: config.kind,
    });
  }
  if (!plan.prompt.trim())
    throw new EndpointError('invalid-plan', 'The plan cannot be sent: the prompt is empty.', { kind: config.kind });
  checkPromptLength(plan, config);
}

/**
 * Longest prompt (and negative prompt) sent to each kind of server, in characters: OpenAI documents
 * 4,000 for dall-e-3; A1111 and ComfyUI take any length but encode it in 75-token chunks, so past a
 * few thousand characters a prompt is a pasted document, not a description.
 */
export const PROMPT_LENGTH_LIMITS: Readonly<Record<EndpointKind, number>> = {
  a1111: 10_000,
  comfyui: 10_000,
  openai: 4_000,
  'hf-inference': 4_000,
};

function checkPromptLength(plan: GenerationPlan, config: EndpointConfig): void {
  const limit = PROMPT_LENGTH_LIMITS[config.kind];
  const n = (x: number) => x.toLocaleString('en');
  for (const [what, text] of [
    ['prompt', plan.prompt],
    ['negative prompt', plan.negative_prompt],
  ] as const) {
    if (text.length > limit) {
      throw new EndpointError(
        'invalid-plan',
        `The plan cannot be sent: the ${what} is ${n(text.length)} characters long; ${ENDPOINT_KIND_LABELS[config.kind]} takes at most ${n(limit)} here. Edit the plan to shorten it.`,
        { kind: config.kind },
      );
    }
  }
}

export function checkBatchSize(batchSize: number, config: EndpointConfig): number {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 16) {
    throw new EndpointError('invalid-plan', `Batch size must be a whole number from 1 to 16, got ${batchSize}.`, {
      kind: config.kind,
    });
  }
  return batchSize;
}

function listSome(models: readonly InstalledModel[], kind: InstalledModel['kind']): string {
  const names = models.filter((m) => m.kind === kind).map((m) => m.file);
  if (!names.length) return `it has no ${kind === 'lora' ? 'LoRAs' : 'checkpoints'} at all`;
  return `it has ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/** The installed model the plan names, or a 'missing-model' error saying what the server has instead. */
export function requireInstalled(
  plan: GenerationPlan,
  installed: readonly InstalledModel[],
  config: EndpointConfig,
): InstalledModel {
  const hit = findInstalled(plan.model, installed);
  if (hit) return hit;
  const kind = plan.model.type === 'LORA' ? 'lora' : 'checkpoint';
  throw new EndpointError(
    'missing-model',
    `${config.baseUrl} does not have the ${kind === 'lora' ? 'LoRA' : 'checkpoint'} "${plan.model.name}" (${plan.model.file}${plan.model.hash ? `, hash ${plan.model.hash}` : ''}): ${listSome(installed, kind)}. Install it on the server, or turn on "Only models on my server".`,
    { kind: config.kind },
  );
}

/**
 * The installed model the plan names, from the cached list when there is one. The list may be stale (a
 * model installed since), so a miss lists the server's models once more before giving up.
 */
export async function resolveInstalled(
  plan: GenerationPlan,
  cached: readonly InstalledModel[] | null,
  listInstalled: () => Promise<readonly InstalledModel[]>,
  config: EndpointConfig,
): Promise<{ model: InstalledModel; installed: readonly InstalledModel[] }> {
  const first = cached ?? (await listInstalled());
  try {
    return { model: requireInstalled(plan, first, config), installed: first };
  } catch {
    const fresh = await listInstalled();
    return { model: requireInstalled(plan, fresh, config), installed: fresh };
  }
}

/** The base checkpoint named in the settings for LoRA plans, if any, resolved against what is installed. */
export function loraBaseCheckpoint(
  installed: readonly InstalledModel[],
  config: EndpointConfig,
): InstalledModel | null {
  const wanted = config.loraBaseCheckpoint?.trim();
  if (!wanted) return null;
  const hit = installed.find(
    (m) => m.kind === 'checkpoint' && (m.name === wanted || fileStem(m.file) === fileStem(wanted)),
  );
  if (!hit) {
    throw new EndpointError(
      'missing-model',
      `The base checkpoint for LoRAs set in the endpoint settings ("${wanted}") is not installed on ${config.baseUrl}: ${listSome(installed, 'checkpoint')}.`,
      {
        kind: config.kind,
      },
    );
  }
  return hit;
}

/**
 * The checkpoint a LoRA plan runs on: the one named in the endpoint settings (the operator's choice
 * wins), else the plan's own base checkpoint (stage 3) when this server has it installed, else null
 * (the server's current or first checkpoint).
 */
export function loraBaseFor(
  plan: GenerationPlan,
  installed: readonly InstalledModel[],
  config: EndpointConfig,
): InstalledModel | null {
  return (
    loraBaseCheckpoint(installed, config) ??
    (plan.base_checkpoint ? findInstalled(plan.base_checkpoint, installed) : null)
  );
}

/** What a cancelled run throws: its own 'cancelled' error, or one wrapping whatever the abort caused. */
export function cancelledError(e: unknown, kind: EndpointKind): EndpointError {
  return e instanceof EndpointError && e.reason === 'cancelled'
    ? e
    : new EndpointError('cancelled', 'Cancelled.', { kind, cause: e });
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Checks each image's header against its pixel data; `what(i)` names image i in the message. */
export async function checkImageData(
  ctx: RequestContext,
  images: readonly GeneratedPng[],
  what: (i: number) => string,
): Promise<void> {
  for (const [i, image] of images.entries()) {
    try {
      await checkPngData(image.png);
    } catch (e) {
      if (e instanceof PngFormatError) throw badReply(ctx, `${what(i)} ${e.message}.`);
      throw e;
    }
  }
}

/** The output as coming from the server that answered `reply`: an unkeyed request may have been redirected. */
export function servedBy(output: GenerationOutput, reply: Reply, config: EndpointConfig): GenerationOutput {
  if (reply.servedBy === config.baseUrl) return output;
  return {
    ...output,
    endpoint: { ...output.endpoint, url: reply.servedBy },
    server: { ...output.server, redirected_from: config.baseUrl },
  };
}
