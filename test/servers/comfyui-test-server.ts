/**
 * A TEST server speaking ComfyUI's HTTP + websocket API closely enough to check a client: /prompt
 * graphs are validated node by node (known class_type, every required input present and typed,
 * links to existing nodes with the right output type, combo values such as ckpt_name, lora_name,
 * sampler_name and scheduler in their lists) with ComfyUI's error shapes (400 with node_errors);
 * runs are queued one at a time and reported over /ws?clientId= (execution_start, executing,
 * progress, executed, execution_error, execution_interrupted, execution_success); results come
 * from /history/{id} and real PNGs from /view. Stricter than ComfyUI in one way: unknown inputs and
 * unknown top-level fields are refused, so a client cannot send something the real server ignores.
 */
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { TestServerBase, delay, encodeGradientPng, type Handler, type TestServerMode } from './test-server-common.ts';

export interface ComfyTestServerOptions extends Partial<TestServerMode> {
  checkpoints?: string[];
  loras?: string[];
  imageScale?: number;
}

export const DEFAULT_COMFY_CHECKPOINTS = [
  'v1-5-pruned-emaonly.safetensors',
  'SD1.5/realisticVisionV51_v51VAE.safetensors',
];
export const DEFAULT_COMFY_LORAS = ['add_detail.safetensors'];

export const COMFY_SAMPLERS = [
  'euler',
  'euler_cfg_pp',
  'euler_ancestral',
  'euler_ancestral_cfg_pp',
  'heun',
  'heunpp2',
  'dpm_2',
  'dpm_2_ancestral',
  'lms',
  'dpm_fast',
  'dpm_adaptive',
  'dpmpp_2s_ancestral',
  'dpmpp_2s_ancestral_cfg_pp',
  'dpmpp_sde',
  'dpmpp_sde_gpu',
  'dpmpp_2m',
  'dpmpp_2m_cfg_pp',
  'dpmpp_2m_sde',
  'dpmpp_2m_sde_gpu',
  'dpmpp_3m_sde',
  'dpmpp_3m_sde_gpu',
  'ddpm',
  'lcm',
  'ipndm',
  'ipndm_v',
  'deis',
  'res_multistep',
  'ddim',
  'uni_pc',
  'uni_pc_bh2',
];
export const COMFY_SCHEDULERS = [
  'normal',
  'karras',
  'exponential',
  'sgm_uniform',
  'simple',
  'ddim_uniform',
  'beta',
  'linear_quadratic',
  'kl_optimal',
];

type InputType =
  | 'INT'
  | 'FLOAT'
  | 'STRING'
  | 'MODEL'
  | 'CLIP'
  | 'VAE'
  | 'CONDITIONING'
  | 'LATENT'
  | 'IMAGE'
  | { combo: () => string[] };

interface NodeSpec {
  inputs: Record<string, InputType>;
  outputs: string[];
  output_node?: boolean;
}

interface Run {
  id: string;
  number: number;
  graph: Record<string, { class_type: string; inputs: Record<string, unknown> }>;
  clientId: string | null;
  interrupted: boolean;
}

interface HistoryEntry {
  prompt: unknown[];
  outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, unknown>;
}

let promptCounter = 0;

export class ComfyTestServer extends TestServerBase {
  readonly checkpoints: string[];
  readonly loras: string[];
  readonly imageScale: number;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly clients = new Map<string, Set<WebSocket>>();
  private readonly history = new Map<string, HistoryEntry>();
  private readonly images = new Map<string, Buffer>();
  private readonly waiting: Run[] = [];
  private running: Run | null = null;
  private queue: Promise<void> = Promise.resolve();
  private closed = false;
  private imageCounter = 0;
  readonly specs: Record<string, NodeSpec>;

  constructor(options: ComfyTestServerOptions = {}) {
    const { checkpoints, loras, imageScale, ...mode } = options;
    super(mode);
    this.checkpoints = checkpoints ?? DEFAULT_COMFY_CHECKPOINTS;
    this.loras = loras ?? DEFAULT_COMFY_LORAS;
    this.imageScale = imageScale ?? 8;
    const ckpts = () => this.checkpoints.filter((f) => !this.mode.missing.includes(f));
    const loraList = () => this.loras.filter((f) => !this.mode.missing.includes(f));
    this.specs = {
      CheckpointLoaderSimple: { inputs: { ckpt_name: { combo: ckpts } }, outputs: ['MODEL', 'CLIP', 'VAE'] },
      LoraLoader: {
        inputs: {
          model: 'MODEL',
          clip: 'CLIP',
          lora_name: { combo: loraList },
          strength_model: 'FLOAT',
          strength_clip: 'FLOAT',
        },
        outputs: ['MODEL', 'CLIP'],
      },
      CLIPTextEncode: { inputs: { text: 'STRING', clip: 'CLIP' }, outputs: ['CONDITIONING'] },
      EmptyLatentImage: { inputs: { width: 'INT', height: 'INT', batch_size: 'INT' }, outputs: ['LATENT'] },
      KSampler: {
        inputs: {
          model: 'MODEL',
          seed: 'INT',
          steps: 'INT',
          cfg: 'FLOAT',
          sampler_name: { combo: () => COMFY_SAMPLERS },
          scheduler: { combo: () => COMFY_SCHEDULERS },
          positive: 'CONDITIONING',
          negative: 'CONDITIONING',
          latent_image: 'LATENT',
          denoise: 'FLOAT',
        },
        outputs: ['LATENT'],
      },
      VAEDecode: { inputs: { samples: 'LATENT', vae: 'VAE' }, outputs: ['IMAGE'] },
      SaveImage: { inputs: { images: 'IMAGE', filename_prefix: 'STRING' }, outputs: [], output_node: true },
    };
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    if (url.pathname !== '/ws' || this.mode.noWebSocket) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const sid = url.searchParams.get('clientId') || `sid-${Math.random().toString(16).slice(2)}`;
      let set = this.clients.get(sid);
      if (!set) this.clients.set(sid, (set = new Set()));
      set.add(ws);
      ws.on('close', () => set.delete(ws));
      ws.send(
        JSON.stringify({
          type: 'status',
          data: { status: { exec_info: { queue_remaining: this.waiting.length + (this.running ? 1 : 0) } }, sid },
        }),
      );
    });
  }

  private send(clientId: string | null, type: string, data: Record<string, unknown>): void {
    if (!clientId) return;
    for (const ws of this.clients.get(clientId) ?? []) ws.send(JSON.stringify({ type, data }));
  }

  protected override resetState(): void {
    if (this.running) this.running.interrupted = true;
    this.waiting.length = 0;
    this.history.clear();
    this.images.clear();
  }

  protected override onClose(): void {
    this.closed = true;
    if (this.running) this.running.interrupted = true;
    for (const set of this.clients.values()) for (const ws of set) ws.terminate();
    this.wss.close();
  }

  private objectInfo(name: string): Record<string, unknown> {
    const spec = this.specs[name]!;
    const required: Record<string, unknown> = {};
    for (const [k, t] of Object.entries(spec.inputs)) required[k] = typeof t === 'object' ? [t.combo(), {}] : [t, {}];
    return {
      [name]: {
        input: { required },
        output: spec.outputs,
        output_node: spec.output_node ?? false,
        name,
        display_name: name,
        category: 'test',
      },
    };
  }

  protected route(method: string, path: string): Handler | null {
    if (method === 'GET' && path.startsWith('/object_info/')) {
      const name = decodeURIComponent(path.slice('/object_info/'.length));
      return (req, res) =>
        this.specs[name] ? this.json(req, res, 200, this.objectInfo(name)) : this.json(req, res, 200, {});
    }
    if (method === 'GET' && path.startsWith('/history/')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      return (req, res) => {
        const entry = this.history.get(id);
        this.json(req, res, 200, entry ? { [id]: entry } : {});
      };
    }
    const routes: Record<string, Handler> = {
      'GET /system_stats': (req, res) =>
        this.json(req, res, 200, {
          system: {
            os: 'posix',
            python_version: '3.12.3',
            embedded_python: false,
            comfyui_version: '0.3.40 (test server)',
          },
          devices: [],
        }),
      'GET /models/checkpoints': (req, res) =>
        this.json(
          req,
          res,
          200,
          this.checkpoints.filter((f) => !this.mode.missing.includes(f)),
        ),
      'GET /models/loras': (req, res) =>
        this.json(
          req,
          res,
          200,
          this.loras.filter((f) => !this.mode.missing.includes(f)),
        ),
      'POST /prompt': (req, res, _url, body) => this.prompt(req, res, body),
      'POST /interrupt': (req, res, _url, body) => {
        const wanted = body && typeof body === 'object' ? (body as Record<string, unknown>).prompt_id : undefined;
        if (this.running && (wanted === undefined || wanted === this.running.id)) this.running.interrupted = true;
        this.bytes(req, res, 200, 'text/plain', Buffer.alloc(0));
      },
      'POST /queue': (req, res, _url, body) => {
        const del = body && typeof body === 'object' ? (body as Record<string, unknown>).delete : undefined;
        if (Array.isArray(del))
          for (let i = this.waiting.length - 1; i >= 0; i--)
            if (del.includes(this.waiting[i]!.id)) this.waiting.splice(i, 1);
        this.bytes(req, res, 200, 'text/plain', Buffer.alloc(0));
      },
      'GET /view': (req, res, url) => {
        if (url.searchParams.get('type') !== 'output') return this.json(req, res, 400, { error: 'bad type' });
        if (this.mode.reply === 'oversized') return this.oversized(req, res, 'image/png');
        if (this.mode.reply === 'not-image')
          return this.bytes(req, res, 200, 'text/html', Buffer.from('<html><body>Login required</body></html>'));
        const img = this.images.get(
          `${url.searchParams.get('subfolder') ?? ''}/${url.searchParams.get('filename') ?? ''}`,
        );
        if (!img) return this.bytes(req, res, 404, 'text/plain', Buffer.from('404: Not Found'));
        this.bytes(req, res, 200, 'image/png', img);
      },
    };
    return routes[`${method} ${path}`] ?? null;
  }

  private validationError(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    nodeErrors: Record<string, unknown>,
  ): void {
    this.reject(req, res, 400, '/prompt', {
      error: {
        type: 'prompt_outputs_failed_validation',
        message: 'Prompt outputs failed validation',
        details: '',
        extra_info: {},
      },
      node_errors: nodeErrors,
    });
  }

  private prompt(req: http.IncomingMessage, res: http.ServerResponse, body: unknown): void {
    const invalid = (type: string, message: string, details = '') =>
      this.reject(req, res, 400, '/prompt', { error: { type, message, details, extra_info: {} }, node_errors: {} });
    if (!body || typeof body !== 'object' || Array.isArray(body))
      return invalid('invalid_prompt', 'body must be a JSON object');
    const b = body as Record<string, unknown>;
    const allowed = ['prompt', 'client_id', 'extra_data', 'front', 'number', 'prompt_id', 'partial_execution_targets'];
    const unknown = Object.keys(b).filter((k) => !allowed.includes(k));
    if (unknown.length) return invalid('invalid_prompt', `unknown field(s): ${unknown.join(', ')}`);
    if (b.client_id !== undefined && typeof b.client_id !== 'string')
      return invalid('invalid_prompt', 'client_id must be a string');
    const graph = b.prompt;
    if (!graph || typeof graph !== 'object' || Array.isArray(graph)) return invalid('no_prompt', 'No prompt provided');
    const nodes = graph as Record<string, unknown>;
    for (const [id, raw] of Object.entries(nodes)) {
      const node = raw as Record<string, unknown> | null;
      if (!node || typeof node.class_type !== 'string')
        return invalid(
          'invalid_prompt',
          `Cannot execute because a node is missing the class_type property.`,
          `Node ID '#${id}'`,
        );
      if (!this.specs[node.class_type])
        return invalid(
          'invalid_prompt',
          `Cannot execute because node ${node.class_type} does not exist.`,
          `Node ID '#${id}'`,
        );
      const extra = Object.keys(node).filter((k) => k !== 'class_type' && k !== 'inputs' && k !== '_meta');
      if (extra.length) return invalid('invalid_prompt', `node ${id} has unknown properties ${extra.join(', ')}`);
    }
    const outputs = Object.entries(nodes).filter(
      ([, n]) => this.specs[(n as { class_type: string }).class_type]!.output_node,
    );
    if (!outputs.length) return invalid('prompt_no_outputs', 'Prompt has no outputs');
    const nodeErrors: Record<string, unknown> = {};
    for (const [id, raw] of Object.entries(nodes)) {
      const node = raw as { class_type: string; inputs?: Record<string, unknown> };
      const spec = this.specs[node.class_type]!;
      const inputs = node.inputs ?? {};
      const errors: Record<string, unknown>[] = [];
      const err = (
        type: string,
        message: string,
        details: string,
        input_name: string,
        extra: Record<string, unknown> = {},
      ) => errors.push({ type, message, details, extra_info: { input_name, ...extra } });
      for (const name of Object.keys(inputs))
        if (!(name in spec.inputs)) err('unexpected_input', 'Input not in node definition', name, name);
      for (const [name, type] of Object.entries(spec.inputs)) {
        const v = inputs[name];
        if (v === undefined) {
          err('required_input_missing', 'Required input is missing', name, name);
          continue;
        }
        if (Array.isArray(v)) {
          const [from, index] = v as [unknown, unknown];
          const src = typeof from === 'string' ? (nodes[from] as { class_type: string } | undefined) : undefined;
          const outType = src ? this.specs[src.class_type]!.outputs[index as number] : undefined;
          if (!src || !Number.isInteger(index) || outType === undefined)
            err(
              'bad_linked_input',
              'Bad linked input, must be a length-2 list of [node_id, slot_index]',
              `${name}, ${JSON.stringify(v)}`,
              name,
            );
          else if (typeof type === 'object' || outType !== type)
            err(
              'return_type_mismatch',
              'Return type mismatch between linked nodes',
              `${name}, received_type(${outType}) mismatch input_type(${typeof type === 'object' ? 'COMBO' : type})`,
              name,
            );
          continue;
        }
        if (typeof type === 'object') {
          const list = type.combo();
          if (!list.includes(v as string))
            err(
              'value_not_in_list',
              'Value not in list',
              `${name}: '${String(v)}' not in ${JSON.stringify(list)}`,
              name,
              { received_value: v },
            );
        } else if (
          type === 'INT'
            ? !Number.isInteger(v)
            : type === 'FLOAT'
              ? typeof v !== 'number'
              : type === 'STRING'
                ? typeof v !== 'string'
                : true
        ) {
          err(
            'invalid_input_type',
            `Failed to convert an input value to a ${type} value`,
            `${name}, ${JSON.stringify(v)}`,
            name,
          );
        }
      }
      if (errors.length)
        nodeErrors[id] = { errors, dependent_outputs: outputs.map(([o]) => o), class_type: node.class_type };
    }
    if (Object.keys(nodeErrors).length) return this.validationError(req, res, nodeErrors);
    if (this.mode.fail)
      return this.json(req, res, this.mode.fail.status, {
        error: { type: 'server_error', message: this.mode.fail.message, details: '', extra_info: {} },
        node_errors: {},
      });

    const id = typeof b.prompt_id === 'string' ? b.prompt_id : `p-${Date.now().toString(16)}-${++promptCounter}`;
    const run: Run = {
      id,
      number: promptCounter,
      graph: nodes as Run['graph'],
      clientId: (b.client_id as string | undefined) ?? null,
      interrupted: false,
    };
    this.waiting.push(run);
    this.queue = this.queue.then(() => this.execute(run)).catch(() => undefined);
    this.json(req, res, 200, { prompt_id: id, number: run.number, node_errors: {} });
  }

  private finish(run: Run, status: HistoryEntry['status'], outputs: HistoryEntry['outputs']): void {
    this.history.set(run.id, { prompt: [run.number, run.id, run.graph, {}, ['9']], outputs, status, meta: {} });
  }

  private async execute(run: Run): Promise<void> {
    const at = this.waiting.indexOf(run);
    if (at < 0) return; // deleted from the queue before it started
    this.waiting.splice(at, 1);
    this.running = run;
    const ts = () => Date.now();
    const messages: [string, Record<string, unknown>][] = [];
    const say = (type: string, data: Record<string, unknown>) => {
      this.send(run.clientId, type, data);
      if (type.startsWith('execution_')) messages.push([type, data]);
    };
    try {
      say('execution_start', { prompt_id: run.id, timestamp: ts() });
      say('execution_cached', { nodes: [], prompt_id: run.id, timestamp: ts() });
      const order = [
        'CheckpointLoaderSimple',
        'LoraLoader',
        'CLIPTextEncode',
        'EmptyLatentImage',
        'KSampler',
        'VAEDecode',
        'SaveImage',
      ];
      const ids = Object.keys(run.graph).sort(
        (a, b) => order.indexOf(run.graph[a]!.class_type) - order.indexOf(run.graph[b]!.class_type),
      );
      const executed: string[] = [];
      const outputs: HistoryEntry['outputs'] = {};
      for (const id of ids) {
        const node = run.graph[id]!;
        say('executing', { node: id, display_node: id, prompt_id: run.id });
        if (node.class_type === 'KSampler') {
          const steps = node.inputs.steps as number;
          if (this.mode.stall) while (!run.interrupted && !this.closed) await delay(20);
          for (let s = 1; s <= steps && !run.interrupted && !this.closed; s++) {
            if (this.mode.delayMs > 0) await delay(this.mode.delayMs / steps);
            say('progress', { value: s, max: steps, prompt_id: run.id, node: id });
            if (this.mode.executionError && s >= Math.ceil(steps / 2)) {
              say('execution_error', {
                prompt_id: run.id,
                node_id: id,
                node_type: 'KSampler',
                executed,
                exception_message: this.mode.executionError,
                exception_type: 'torch.OutOfMemoryError',
                traceback: ['  File "execution.py", line 1, in execute\n'],
                current_inputs: {},
                current_outputs: {},
                timestamp: ts(),
              });
              this.finish(run, { status_str: 'error', completed: false, messages }, outputs);
              return;
            }
          }
          if (run.interrupted || this.closed) {
            say('execution_interrupted', {
              prompt_id: run.id,
              node_id: id,
              node_type: 'KSampler',
              executed,
              timestamp: ts(),
            });
            this.finish(run, { status_str: 'error', completed: false, messages }, outputs);
            return;
          }
        }
        if (node.class_type === 'SaveImage') {
          const latentId = (
            run.graph[(run.graph[(node.inputs.images as [string, number])[0]]!.inputs.samples as [string, number])[0]]!
              .inputs.latent_image as [string, number]
          )[0];
          const latent = run.graph[latentId]!.inputs;
          const sampler =
            run.graph[(run.graph[(node.inputs.images as [string, number])[0]]!.inputs.samples as [string, number])[0]]!
              .inputs;
          const images = [];
          for (let i = 0; i < (latent.batch_size as number); i++) {
            const filename = `${String(node.inputs.filename_prefix)}_${String(++this.imageCounter).padStart(5, '0')}_.png`;
            this.images.set(
              `/${filename}`,
              encodeGradientPng(
                (latent.width as number) / this.imageScale,
                (latent.height as number) / this.imageScale,
                ((sampler.seed as number) + i) & 0xff,
              ),
            );
            images.push({ filename, subfolder: '', type: 'output' });
          }
          outputs[id] = { images };
          say('executed', { node: id, display_node: id, output: { images }, prompt_id: run.id });
        }
        executed.push(id);
      }
      // Current ComfyUI: execution_success from the executor, then history written, then "executing null".
      say('execution_success', { prompt_id: run.id, timestamp: ts() });
      this.finish(run, { status_str: 'success', completed: true, messages }, outputs);
      say('executing', { node: null, prompt_id: run.id });
    } finally {
      this.running = null;
    }
  }
}
