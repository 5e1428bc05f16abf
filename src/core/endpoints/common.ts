/** Pieces every client shares: run tracking for cancel(), plan checks, and model resolution. */
import { validateArguments, type GenerationPlan } from '../plan.ts';
import { EndpointError } from './errors.ts';
import type { RequestContext } from './http.ts';
import { findInstalled, fileStem } from './installed.ts';
import type { ClientDeps, EndpointConfig, EndpointKind, InstalledModel } from './types.ts';

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
  async run<T>(callerSignal: AbortSignal | undefined, kind: EndpointKind, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
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
    throw new EndpointError('invalid-plan', `The plan cannot be sent: ${problems.map((p) => p.message).join('; ')}.`, { kind: config.kind });
  }
  if (!plan.prompt.trim()) throw new EndpointError('invalid-plan', 'The plan cannot be sent: the prompt is empty.', { kind: config.kind });
}

export function checkBatchSize(batchSize: number, config: EndpointConfig): number {
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 16) {
    throw new EndpointError('invalid-plan', `Batch size must be a whole number from 1 to 16, got ${batchSize}.`, { kind: config.kind });
  }
  return batchSize;
}

function listSome(models: readonly InstalledModel[], kind: InstalledModel['kind']): string {
  const names = models.filter((m) => m.kind === kind).map((m) => m.file);
  if (!names.length) return `it has no ${kind === 'lora' ? 'LoRAs' : 'checkpoints'} at all`;
  return `it has ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`;
}

/** The installed model the plan names, or a 'missing-model' error saying what the server has instead. */
export function requireInstalled(plan: GenerationPlan, installed: readonly InstalledModel[], config: EndpointConfig): InstalledModel {
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
export function loraBaseCheckpoint(installed: readonly InstalledModel[], config: EndpointConfig): InstalledModel | null {
  const wanted = config.loraBaseCheckpoint?.trim();
  if (!wanted) return null;
  const hit = installed.find((m) => m.kind === 'checkpoint' && (m.name === wanted || fileStem(m.file) === fileStem(wanted)));
  if (!hit) {
    throw new EndpointError('missing-model', `The base checkpoint for LoRAs set in the endpoint settings ("${wanted}") is not installed on ${config.baseUrl}: ${listSome(installed, 'checkpoint')}.`, {
      kind: config.kind,
    });
  }
  return hit;
}

/**
 * The checkpoint a LoRA plan runs on: the one named in the endpoint settings (the operator's choice
 * wins), else the plan's own base checkpoint (stage 3) when this server has it installed, else null
 * (the server's current or first checkpoint).
 */
export function loraBaseFor(plan: GenerationPlan, installed: readonly InstalledModel[], config: EndpointConfig): InstalledModel | null {
  return loraBaseCheckpoint(installed, config) ?? (plan.base_checkpoint ? findInstalled(plan.base_checkpoint, installed) : null);
}

/** What a cancelled run throws: its own 'cancelled' error, or one wrapping whatever the abort caused. */
export function cancelledError(e: unknown, kind: EndpointKind): EndpointError {
  return e instanceof EndpointError && e.reason === 'cancelled' ? e : new EndpointError('cancelled', 'Cancelled.', { kind, cause: e });
}

export const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());
