/**
 * ComfyUI client: builds an API-format graph from the plan, queues it on /prompt with a client id,
 * follows it over the /ws websocket (falling back to polling /history when the socket cannot open),
 * then fetches the images through /history/{id} and /view.
 */
import type { GenerationPlan } from '../plan.ts';
import {
  RunTracker,
  cancelledError,
  checkBatchSize,
  checkImageData,
  checkPlan,
  loraBaseFor,
  makeContext,
  now,
  resolveInstalled,
  servedBy,
} from './common.ts';
import { EndpointError, cleanServerText } from './errors.ts';
import { asRecord, badReply, parseJson, request, sleep, type RequestContext } from './http.ts';
import { promptWithTriggerWords } from './installed.ts';
import { PngFormatError, pngSize } from '../png.ts';
import { toComfySampler } from './samplers.ts';
import {
  DEFAULT_POLL_MS,
  type ClientDeps,
  type ConnectionReport,
  type EndpointClient,
  type EndpointConfig,
  type GenerateOptions,
  type GeneratedPng,
  type GenerationOutput,
  type GenerationProgress,
  type InstalledModel,
  type WebSocketFactory,
  type WebSocketLike,
} from './types.ts';

export type ComfyInput = string | number | boolean | [string, number];

export interface ComfyNode {
  class_type: string;
  inputs: Record<string, ComfyInput>;
}

/** ComfyUI's API ("prompt") format: node id -> node. */
export type ComfyGraph = Record<string, ComfyNode>;

export interface ComfyPromptRequest {
  prompt: ComfyGraph;
  client_id: string;
}

const LIST_TIMEOUT_MS = 20_000;
const SOCKET_OPEN_TIMEOUT_MS = 10_000;
const OUTPUT_NODE = '9';
const SAMPLER_NODE = '3';

export interface GraphChoice {
  checkpoint: string;
  lora: string | null;
}

/** The API-format graph for a plan (node ids follow ComfyUI's default workflow). */
export function buildComfyGraph(plan: GenerationPlan, choice: GraphChoice, batchSize: number): ComfyGraph {
  const a = plan.arguments;
  const sampler = toComfySampler(a.sampler);
  const graph: ComfyGraph = {
    '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: choice.checkpoint } },
  };
  let model: [string, number] = ['4', 0];
  let clip: [string, number] = ['4', 1];
  let prompt = plan.prompt;
  if (choice.lora !== null) {
    graph['10'] = {
      class_type: 'LoraLoader',
      inputs: { model, clip, lora_name: choice.lora, strength_model: 1, strength_clip: 1 },
    };
    model = ['10', 0];
    clip = ['10', 1];
    prompt = promptWithTriggerWords(plan.prompt, plan.model.trained_words);
  }
  graph['6'] = { class_type: 'CLIPTextEncode', inputs: { text: prompt, clip } };
  graph['7'] = { class_type: 'CLIPTextEncode', inputs: { text: plan.negative_prompt, clip } };
  graph['5'] = { class_type: 'EmptyLatentImage', inputs: { width: a.width, height: a.height, batch_size: batchSize } };
  graph[SAMPLER_NODE] = {
    class_type: 'KSampler',
    inputs: {
      seed: a.seed,
      steps: a.steps,
      cfg: a.cfg_scale,
      sampler_name: sampler.sampler_name,
      scheduler: sampler.scheduler,
      denoise: 1,
      model,
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
    },
  };
  graph['8'] = { class_type: 'VAEDecode', inputs: { samples: [SAMPLER_NODE, 0], vae: ['4', 2] } };
  graph[OUTPUT_NODE] = { class_type: 'SaveImage', inputs: { filename_prefix: 'chatgen', images: ['8', 0] } };
  return graph;
}

/** The choices of a combo input in /object_info: `[[...names], {...}]` (classic) or `["COMBO", {options}]` (newer). */
export function comboOptions(objectInfo: unknown, nodeClass: string, input: string): string[] {
  const spec = asRecord(asRecord(asRecord(asRecord(objectInfo)?.[nodeClass])?.input)?.required)?.[input];
  if (!Array.isArray(spec)) return [];
  if (Array.isArray(spec[0])) return spec[0].filter((x): x is string => typeof x === 'string');
  const options = asRecord(spec[1])?.options;
  return Array.isArray(options) ? options.filter((x): x is string => typeof x === 'string') : [];
}

function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return Array.from({ length: 32 }, () => Math.floor(Math.random() * 16).toString(16)).join('');
}

interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

function defaultWebSocket(): WebSocketFactory | null {
  const WS = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  return WS ? (url) => new WS(url) : null;
}

type WaitEvent = { type: 'done' } | { type: 'failed'; error: EndpointError } | { type: 'socket-lost' };

export class ComfyUIClient implements EndpointClient {
  readonly kind = 'comfyui' as const;
  readonly config: Readonly<EndpointConfig>;
  private readonly ctx: RequestContext;
  private readonly webSocket: WebSocketFactory | null;
  private readonly runs = new RunTracker();
  private readonly queued = new Set<string>();
  private installed: InstalledModel[] | null = null;

  constructor(config: EndpointConfig, deps: ClientDeps = {}) {
    this.config = config;
    this.ctx = makeContext(config, deps);
    this.webSocket = deps.webSocket ?? defaultWebSocket();
  }

  async listInstalledModels(signal?: AbortSignal): Promise<InstalledModel[]> {
    const opts = { signal, timeoutMs: Math.min(LIST_TIMEOUT_MS, this.config.timeoutMs) };
    const ckpt = parseJson(
      await request(this.ctx, '/object_info/CheckpointLoaderSimple', opts),
      this.ctx,
      'The checkpoint list',
    );
    const lora = parseJson(await request(this.ctx, '/object_info/LoraLoader', opts), this.ctx, 'The LoRA list');
    const toModel =
      (kind: InstalledModel['kind']) =>
      (name: string): InstalledModel => ({
        kind,
        name,
        file: name.split(/[\\/]/).pop() ?? name,
        hash: null,
      });
    const out = [
      ...comboOptions(ckpt, 'CheckpointLoaderSimple', 'ckpt_name').map(toModel('checkpoint')),
      ...comboOptions(lora, 'LoraLoader', 'lora_name').map(toModel('lora')),
    ];
    this.installed = out;
    return out;
  }

  async testConnection(signal?: AbortSignal): Promise<ConnectionReport> {
    const stats = asRecord(
      parseJson(
        await request(this.ctx, '/system_stats', {
          signal,
          timeoutMs: Math.min(LIST_TIMEOUT_MS, this.config.timeoutMs),
        }),
        this.ctx,
        'System stats',
      ),
    );
    const version = asRecord(stats?.system)?.comfyui_version;
    const models = await this.listInstalledModels(signal);
    const checkpoints = models.filter((m) => m.kind === 'checkpoint').length;
    const loras = models.length - checkpoints;
    const v = typeof version === 'string' ? ` ${cleanServerText(version, 40)}` : '';
    return {
      ok: true,
      summary: `ComfyUI${v} at ${this.config.baseUrl}: ${checkpoints} checkpoints, ${loras} LoRAs.`,
      checkpoints,
      loras,
    };
  }

  async cancel(): Promise<void> {
    const ids = [...this.queued];
    this.runs.cancelAll();
    await this.interrupt(ids);
  }

  /**
   * Drops the prompts from the queue and stops the running one. Both requests start at once and are
   * keepalive, so they still reach the server when this is called as the page closes.
   */
  private async interrupt(promptIds: string[]): Promise<void> {
    const sent: Promise<unknown>[] = [];
    if (promptIds.length)
      sent.push(request(this.ctx, '/queue', { json: { delete: promptIds }, timeoutMs: 5000, keepalive: true }));
    sent.push(
      request(this.ctx, '/interrupt', {
        method: 'POST',
        json: promptIds.length === 1 ? { prompt_id: promptIds[0] } : {},
        timeoutMs: 5000,
        keepalive: true,
      }),
    );
    // Best effort: the run is already abandoned on our side.
    await Promise.allSettled(sent);
  }

  /** The exact /prompt body for a plan (exported for tests and the closing note). */
  async buildRequest(
    plan: GenerationPlan,
    batchSize: number,
    clientId: string,
    signal: AbortSignal,
  ): Promise<ComfyPromptRequest> {
    checkPlan(plan, this.config);
    const { model, installed } = await resolveInstalled(
      plan,
      this.installed,
      () => this.listInstalledModels(signal),
      this.config,
    );
    let choice: GraphChoice = { checkpoint: model.name, lora: null };
    if (plan.model.type === 'LORA') {
      const base = loraBaseFor(plan, installed, this.config) ?? installed.find((m) => m.kind === 'checkpoint') ?? null;
      if (!base)
        throw new EndpointError(
          'missing-model',
          `${this.config.baseUrl} has no checkpoint to run the LoRA "${plan.model.name}" on.`,
          { kind: this.kind },
        );
      choice = { checkpoint: base.name, lora: model.name };
    }
    return { prompt: buildComfyGraph(plan, choice, batchSize), client_id: clientId };
  }

  async generate(plan: GenerationPlan, options: GenerateOptions = {}): Promise<GenerationOutput> {
    const batchSize = checkBatchSize(options.batchSize ?? 1, this.config);
    const run = this.runs.start(options.signal);
    const started = now();
    const clientId = randomId();
    let socket: WebSocketLike | null = null;
    let promptId: string | null = null;
    const timeout = AbortSignal.timeout(this.config.timeoutMs);
    const signal = AbortSignal.any([run.signal, timeout]);
    try {
      options.onProgress?.({ phase: 'connecting', fraction: 0 });
      const body = await this.buildRequest(plan, batchSize, clientId, signal);
      const events = new EventQueue<WaitEvent>();
      const promptIdOf = { current: null as string | null };
      socket = await this.openSocket(clientId, signal, events, promptIdOf, options.onProgress);
      const posted = await this.postPrompt(body, signal);
      const reply = asRecord(parseJson(posted, this.ctx, 'The /prompt reply'));
      if (typeof reply?.prompt_id !== 'string') throw badReply(this.ctx, 'the /prompt reply has no prompt_id.');
      promptId = reply.prompt_id;
      promptIdOf.current = promptId;
      this.queued.add(promptId);
      options.onProgress?.({ phase: 'queued', fraction: 0 });
      const requestMs = now() - started;
      const history = await this.waitForHistory(promptId, socket ? events : null, signal, timeout);
      const waitMs = now() - started - requestMs;
      options.onProgress?.({ phase: 'downloading', fraction: 1 });
      const t = now();
      const images = await this.downloadImages(history, plan, signal);
      await checkImageData(this.ctx, images, (i) => `output ${i + 1}`);
      const output: GenerationOutput = {
        images,
        endpoint: { kind: this.kind, url: this.config.baseUrl },
        server: {
          checkpoint: body.prompt['4']!.inputs.ckpt_name as string,
          sampler: `${body.prompt[SAMPLER_NODE]!.inputs.sampler_name} + ${body.prompt[SAMPLER_NODE]!.inputs.scheduler}`,
        },
        timings: { total: now() - started, request: requestMs, wait: waitMs, download: now() - t },
      };
      return servedBy(output, posted, this.config);
    } catch (e) {
      if (run.signal.aborted) {
        await this.interrupt(promptId ? [promptId] : []);
        throw cancelledError(e, this.kind);
      }
      if (timeout.aborted && !(e instanceof EndpointError && e.reason === 'timeout')) {
        await this.interrupt(promptId ? [promptId] : []);
        throw new EndpointError(
          'timeout',
          `${this.config.baseUrl} did not finish within ${Math.round(this.config.timeoutMs / 1000)} s. A server loading a model for the first time can be slow: raise the timeout in the endpoint settings if this keeps happening.`,
          { kind: this.kind, cause: e },
        );
      }
      throw e;
    } finally {
      if (promptId) this.queued.delete(promptId);
      socket?.close();
      run.done();
    }
  }

  private async postPrompt(body: ComfyPromptRequest, signal: AbortSignal) {
    try {
      return await request(this.ctx, '/prompt', { json: body, signal });
    } catch (e) {
      if (
        e instanceof EndpointError &&
        e.status === 400 &&
        e.serverMessage &&
        /(ckpt_name|lora_name)[\s\S]*not in/i.test(e.serverMessage)
      ) {
        throw new EndpointError('missing-model', `${this.config.baseUrl} refused the model: ${e.serverMessage}`, {
          kind: this.kind,
          status: 400,
          serverMessage: e.serverMessage,
        });
      }
      throw e;
    }
  }

  /** Opens /ws?clientId= and routes its messages; null when no socket can be had (then /history is polled). */
  private async openSocket(
    clientId: string,
    signal: AbortSignal,
    events: EventQueue<WaitEvent>,
    promptIdOf: { current: string | null },
    onProgress: ((p: GenerationProgress) => void) | undefined,
  ): Promise<WebSocketLike | null> {
    if (!this.webSocket) return null;
    const url =
      this.config.baseUrl.replace(/^http/i, 'ws').replace(/\/+$/, '') + `/ws?clientId=${encodeURIComponent(clientId)}`;
    let socket: WebSocketLike;
    try {
      socket = this.webSocket(url);
    } catch {
      return null;
    }
    const opened = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), SOCKET_OPEN_TIMEOUT_MS);
      const finish = (ok: boolean) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(ok);
      };
      const onAbort = () => finish(false);
      signal.addEventListener('abort', onAbort, { once: true });
      socket.onopen = () => finish(true);
      socket.onerror = () => finish(false);
      socket.onclose = () => finish(false);
    });
    if (!opened) {
      socket.close();
      return null;
    }
    // Messages for our prompt may arrive before /prompt answers; they are kept until its id is known.
    const early: Record<string, unknown>[] = [];
    const handle = (msg: Record<string, unknown>) => {
      const data = asRecord(msg.data);
      if (!data) return;
      if (data.prompt_id !== undefined && promptIdOf.current === null) {
        early.push(msg);
        return;
      }
      if (data.prompt_id !== undefined && data.prompt_id !== promptIdOf.current) return;
      switch (msg.type) {
        case 'execution_start':
          onProgress?.({ phase: 'queued', fraction: 0 });
          break;
        case 'progress': {
          const value = Number(data.value);
          const max = Number(data.max);
          if (max > 0 && Number.isFinite(value))
            onProgress?.({ phase: 'sampling', fraction: Math.min(1, value / max), step: value, steps: max });
          break;
        }
        case 'executing':
          if (data.node === null) events.push({ type: 'done' });
          else if (data.node === '8') onProgress?.({ phase: 'decoding', fraction: 1 });
          break;
        case 'execution_success':
          events.push({ type: 'done' });
          break;
        case 'execution_error': {
          const message = cleanServerText(
            `${String(data.exception_type ?? 'Error')}: ${String(data.exception_message ?? '')}`,
          );
          events.push({
            type: 'failed',
            error: new EndpointError(
              'generation-failed',
              `ComfyUI failed in node ${String(data.node_type ?? data.node_id ?? '?')}: ${message}`,
              { kind: this.kind, serverMessage: message },
            ),
          });
          break;
        }
        case 'execution_interrupted':
          events.push({
            type: 'failed',
            error: new EndpointError('cancelled', 'The run was interrupted on the server.', { kind: this.kind }),
          });
          break;
      }
    };
    socket.onmessage = (event) => {
      if (typeof event.data !== 'string') return; // binary preview frames
      let msg: unknown;
      try {
        msg = JSON.parse(event.data);
      } catch {
        return;
      }
      const m = asRecord(msg);
      if (!m) return;
      if (promptIdOf.current !== null && early.length) for (const e of early.splice(0)) handle(e);
      handle(m);
    };
    socket.onclose = () => events.push({ type: 'socket-lost' });
    socket.onerror = () => events.push({ type: 'socket-lost' });
    events.onDrain = () => {
      if (promptIdOf.current !== null && early.length) for (const e of early.splice(0)) handle(e);
    };
    return socket;
  }

  /** Waits for the run to finish (socket events, or polling /history), then returns its history entry. */
  private async waitForHistory(
    promptId: string,
    events: EventQueue<WaitEvent> | null,
    signal: AbortSignal,
    timeout: AbortSignal,
  ): Promise<Record<string, unknown>> {
    const pollMs = this.config.pollMs ?? DEFAULT_POLL_MS;
    let polling = events === null;
    for (;;) {
      if (!polling && events) {
        const event = await events.next(signal);
        if (event.type === 'failed') throw event.error;
        if (event.type === 'socket-lost') {
          polling = true;
          continue;
        }
      }
      const entry = await this.historyEntry(promptId, signal);
      if (entry) {
        const status = asRecord(entry.status);
        if (status?.status_str === 'error') {
          const messages = JSON.stringify(status.messages ?? '').slice(0, 2000);
          throw new EndpointError(
            'generation-failed',
            `ComfyUI reports the run failed: ${cleanServerText(messages, 300)}`,
            { kind: this.kind },
          );
        }
        if (status?.completed === true || asRecord(entry.outputs)?.[OUTPUT_NODE]) return entry;
      }
      // Some ComfyUI versions announce the end just before writing history: poll until it appears.
      polling = true;
      if (timeout.aborted) throw new EndpointError('timeout', 'Timed out.', { kind: this.kind });
      await sleep(pollMs, signal);
    }
  }

  private async historyEntry(promptId: string, signal: AbortSignal): Promise<Record<string, unknown> | null> {
    const history = asRecord(
      parseJson(
        await request(this.ctx, `/history/${encodeURIComponent(promptId)}`, { signal }),
        this.ctx,
        'The history',
      ),
    );
    return asRecord(history?.[promptId]);
  }

  private async downloadImages(
    entry: Record<string, unknown>,
    plan: GenerationPlan,
    signal: AbortSignal,
  ): Promise<GeneratedPng[]> {
    const outputs = asRecord(entry.outputs);
    const refs: ImageRef[] = [];
    for (const out of Object.values(outputs ?? {})) {
      const images = asRecord(out)?.images;
      if (!Array.isArray(images)) continue;
      for (const img of images) {
        const r = asRecord(img);
        if (r && typeof r.filename === 'string' && r.type === 'output') {
          refs.push({
            filename: r.filename,
            subfolder: typeof r.subfolder === 'string' ? r.subfolder : '',
            type: 'output',
          });
        }
      }
    }
    if (!refs.length) throw badReply(this.ctx, 'the finished run has no output images.');
    const images: GeneratedPng[] = [];
    for (const [i, ref] of refs.entries()) {
      const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
      const reply = await request(this.ctx, `/view?${query.toString()}`, { signal, accept: 'image/png' });
      try {
        const { width, height } = pngSize(reply.bytes);
        // ComfyUI runs a batch from one seed (each latent a different batch index).
        images.push({ png: reply.bytes, seed: plan.arguments.seed, width, height });
      } catch (e) {
        if (e instanceof PngFormatError)
          throw badReply(
            this.ctx,
            `output ${i + 1} (${cleanServerText(ref.filename, 80)}) is not a valid PNG: ${e.message}.`,
          );
        throw e;
      }
    }
    return images;
  }
}

/** A small async queue: socket callbacks push, the waiting loop pulls. */
class EventQueue<T> {
  private readonly items: T[] = [];
  private waiter: ((item: T) => void) | null = null;
  onDrain: (() => void) | null = null;

  push(item: T): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(item);
    } else this.items.push(item);
  }

  next(signal: AbortSignal): Promise<T> {
    this.onDrain?.();
    const first = this.items.shift();
    if (first !== undefined) return Promise.resolve(first);
    return new Promise<T>((resolve, reject) => {
      if (signal.aborted) return reject(new EndpointError('cancelled', 'Cancelled.'));
      const onAbort = () => {
        this.waiter = null;
        reject(new EndpointError('cancelled', 'Cancelled.'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiter = (item) => {
        signal.removeEventListener('abort', onAbort);
        resolve(item);
      };
    });
  }
}
