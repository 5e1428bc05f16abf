/**
 * Shared plumbing of the protocol-faithful TEST servers (A1111, ComfyUI, OpenAI / HF Inference):
 * real PNG encoding, request recording, CORS (preflight included), switchable failure modes and a
 * control route (`/__test__/...`) that Playwright specs use to flip modes on a server they started.
 * These are test doubles for the real servers' HTTP APIs; nothing here is product code.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';

/** Encodes an RGB gradient (tinted by `tint`) as a real PNG: IHDR, one zlib IDAT, IEND, correct CRCs. */
export function encodeGradientPng(width: number, height: number, tint = 0): Buffer {
  const w = Math.max(1, Math.round(width));
  const h = Math.max(1, Math.round(height));
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    raw[row] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      raw[row + 1 + x * 3] = Math.round((255 * x) / Math.max(1, w - 1));
      raw[row + 2 + x * 3] = Math.round((255 * y) / Math.max(1, h - 1));
      raw[row + 3 + x * 3] = tint & 0xff;
    }
  }
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(td) >>> 0);
  return Buffer.concat([len, td, crc]);
}

/** A PNG from encodeGradientPng changed as a faulty server would send it (see TestServerMode.reply). */
export function faultyPng(png: Buffer, fault: 'png-lying-size' | 'png-with-text'): Buffer {
  const ihdrEnd = 8 + 12 + 13;
  if (fault === 'png-lying-size') {
    const ihdr = Buffer.from(png.subarray(16, 29));
    ihdr.writeUInt32BE(100_000, 0);
    ihdr.writeUInt32BE(100_000, 4);
    return Buffer.concat([png.subarray(0, 8), pngChunk('IHDR', ihdr), png.subarray(ihdrEnd)]);
  }
  const text = (keyword: string, value: string) => pngChunk('tEXt', Buffer.from(`${keyword}\0${value}`, 'latin1'));
  return Buffer.concat([
    png.subarray(0, ihdrEnd),
    text('parameters', 'server prompt\nNegative prompt: from the server\nSteps: 1'),
    text('Comment', '{"workflow": "the server\'s private workflow"}'),
    png.subarray(ihdrEnd),
  ]);
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body, or the raw text when not JSON, or null without a body. */
  body: unknown;
}

/** Modes a test flips at run time (also through POST /__test__/mode). */
export interface TestServerMode {
  /** Answer the generation route with this status and message. */
  fail: { status: number; message: string } | null;
  /** Accept the generation request but never finish it (until interrupted or closed). */
  stall: boolean;
  /** Send CORS headers (and answer preflight) as the real server started with its CORS flag does. */
  cors: boolean;
  /**
   * What the generation reply carries: real PNGs, bytes that are not an image, a reply of `oversizedMB`,
   * PNGs whose IHDR claims 100000x100000 over the real data ('png-lying-size'), or PNGs carrying the
   * server's own text chunks ('png-with-text': a `parameters` and a `Comment` chunk).
   */
  reply: 'png' | 'not-image' | 'oversized' | 'png-lying-size' | 'png-with-text';
  oversizedMB: number;
  /** Installed model files the server pretends not to have. */
  missing: string[];
  /** Simulated generation time in ms (0: as fast as possible). */
  delayMs: number;
  /** ComfyUI only: fail while sampling with this exception message (sent as execution_error). */
  executionError: string | null;
  /** ComfyUI only: refuse the /ws upgrade, so clients must poll /history. */
  noWebSocket: boolean;
}

export const DEFAULT_MODE: TestServerMode = {
  fail: null,
  stall: false,
  cors: true,
  reply: 'png',
  oversizedMB: 8,
  missing: [],
  delayMs: 300,
  executionError: null,
  noWebSocket: false,
};

export type Handler = (
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  body: unknown,
) => Promise<void> | void;

export abstract class TestServerBase {
  readonly server: http.Server;
  readonly requests: RecordedRequest[] = [];
  mode: TestServerMode;
  /** Requests that passed validation are recorded; `requests` holds all of them, `rejected` those refused with 4xx. */
  readonly rejected: { path: string; status: number; body: unknown }[] = [];
  private readonly sockets = new Set<import('node:net').Socket>();

  constructor(mode: Partial<TestServerMode> = {}) {
    this.mode = { ...DEFAULT_MODE, ...mode };
    this.server = http.createServer((req, res) => void this.dispatch(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  protected abstract route(method: string, path: string): Handler | null;
  /** Clears server-side state (queue, history); called by /__test__/reset. */
  protected abstract resetState(): void;

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => resolve());
    });
    const addr = this.server.address() as AddressInfo;
    return `http://${host}:${addr.port}`;
  }

  get url(): string {
    const addr = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${addr.port}`;
  }

  async close(): Promise<void> {
    this.onClose();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  protected onClose(): void {}

  protected corsHeaders(req: http.IncomingMessage): Record<string, string> {
    if (!this.mode.cors) return {};
    return {
      'Access-Control-Allow-Origin': req.headers.origin ?? '*',
      'Access-Control-Allow-Credentials': 'true',
      Vary: 'Origin',
    };
  }

  json(req: http.IncomingMessage, res: http.ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      ...this.corsHeaders(req),
    });
    res.end(text);
  }

  bytes(req: http.IncomingMessage, res: http.ServerResponse, status: number, type: string, data: Buffer): void {
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': data.length, ...this.corsHeaders(req) });
    res.end(data);
  }

  /** An oversized reply streamed in chunks without Content-Length, so only a streaming cap catches it. */
  oversized(req: http.IncomingMessage, res: http.ServerResponse, type: string): void {
    res.writeHead(200, { 'Content-Type': type, ...this.corsHeaders(req) });
    const chunk = Buffer.alloc(256 * 1024, 0x41);
    let left = Math.ceil((this.mode.oversizedMB * 1048576) / chunk.length);
    const write = () => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) return void res.once('drain', write);
      }
      res.end();
    };
    res.on('error', () => undefined);
    write();
  }

  /** Rejects with 4xx and remembers it for assertions. */
  reject(req: http.IncomingMessage, res: http.ServerResponse, status: number, path: string, body: unknown): void {
    this.rejected.push({ path, status, body });
    this.json(req, res, status, body);
  }

  private async dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://test.invalid');
    const method = req.method ?? 'GET';
    const text = await readBody(req);
    let body: unknown = null;
    if (text.length) {
      try {
        body = JSON.parse(text);
      } catch {
        body = text;
      }
    }
    if (url.pathname.startsWith('/__test__/')) return this.control(req, res, url, body);
    if (method === 'OPTIONS') {
      // The real servers answer preflight only with their CORS flag; without it FastAPI/aiohttp say 405.
      if (!this.mode.cors) return void this.json(req, res, 405, { detail: 'Method Not Allowed' });
      res.writeHead(204, {
        ...this.corsHeaders(req),
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'content-type, authorization',
        'Access-Control-Max-Age': '600',
      });
      return void res.end();
    }
    this.requests.push({ method, path: url.pathname + url.search, headers: req.headers, body });
    const handler = this.route(method, url.pathname);
    if (!handler) return void this.json(req, res, 404, { detail: 'Not Found' });
    try {
      await handler(req, res, url, body);
    } catch (e) {
      if (!res.headersSent) this.json(req, res, 500, { error: 'TestServerError', detail: String(e) });
    }
  }

  private control(req: http.IncomingMessage, res: http.ServerResponse, url: URL, body: unknown): void {
    const open = { 'Access-Control-Allow-Origin': '*' };
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json', ...open });
      res.end(JSON.stringify(value));
    };
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        ...open,
        'Access-Control-Allow-Methods': 'GET, POST',
        'Access-Control-Allow-Headers': 'content-type',
      });
      return void res.end();
    }
    switch (url.pathname) {
      case '/__test__/mode':
        if (req.method === 'POST' && body && typeof body === 'object')
          this.mode = { ...this.mode, ...(body as Partial<TestServerMode>) };
        return send(200, this.mode);
      case '/__test__/requests':
        return send(200, {
          requests: this.requests.map(({ method, path, body: b }) => ({ method, path, body: b })),
          rejected: this.rejected,
        });
      case '/__test__/reset':
        this.requests.length = 0;
        this.rejected.length = 0;
        this.mode = { ...DEFAULT_MODE, delayMs: this.mode.delayMs };
        this.resetState();
        return send(200, this.mode);
      default:
        return send(404, { error: 'unknown control route' });
    }
  }
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export interface FieldSpec {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'array' | 'string-or-null';
  required?: boolean;
}

export interface FieldProblem {
  loc: string[];
  msg: string;
  type: string;
}

/** Checks a JSON object against field specs the way pydantic (FastAPI) reports it. */
export function checkFields(body: unknown, spec: Record<string, FieldSpec>, where = 'body'): FieldProblem[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    return [{ loc: [where], msg: 'value is not a valid dict', type: 'type_error.dict' }];
  const o = body as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(o)) {
    if (!(key in spec))
      problems.push({ loc: [where, key], msg: 'extra fields not permitted', type: 'value_error.extra' });
  }
  for (const [key, s] of Object.entries(spec)) {
    const v = o[key];
    if (v === undefined) {
      if (s.required) problems.push({ loc: [where, key], msg: 'field required', type: 'value_error.missing' });
      continue;
    }
    const ok =
      s.type === 'string'
        ? typeof v === 'string'
        : s.type === 'string-or-null'
          ? typeof v === 'string' || v === null
          : s.type === 'integer'
            ? Number.isInteger(v)
            : s.type === 'number'
              ? typeof v === 'number' && Number.isFinite(v)
              : s.type === 'boolean'
                ? typeof v === 'boolean'
                : s.type === 'array'
                  ? Array.isArray(v)
                  : v !== null && typeof v === 'object' && !Array.isArray(v);
    if (!ok) problems.push({ loc: [where, key], msg: `value is not a valid ${s.type}`, type: `type_error.${s.type}` });
  }
  return problems;
}

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function fileStemOf(file: string): string {
  return (file.split('/').pop() ?? file).replace(/\.(safetensors|ckpt|pt)$/i, '');
}
