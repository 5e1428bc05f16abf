/**
 * fetch with what every client needs: a timeout joined to the caller's AbortSignal, a reply size
 * cap read as a stream, server error text extracted from the common JSON shapes, and browser
 * "Failed to fetch" told apart into CORS refused versus server unreachable.
 */
import { readBody } from '../bytes.ts';
import { isPlainObject } from '../validate.ts';
import { EndpointError, cleanServerText, corsAdvice } from './errors.ts';
import { DEFAULT_MAX_REPLY_MB, type EndpointConfig } from './types.ts';

export interface RequestContext {
  config: EndpointConfig;
  fetch: typeof fetch;
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  /** A JSON body (stringified here). */
  json?: unknown;
  signal?: AbortSignal;
  /** Overrides config.timeoutMs (short limits for listings and probes). */
  timeoutMs?: number;
  accept?: string;
  /** Lets the request outlive the page (an interrupt sent while the tab closes). */
  keepalive?: boolean;
}

export interface Reply {
  status: number;
  contentType: string;
  bytes: Uint8Array;
  /** The base URL of the server that answered: config.baseUrl, or the host an unkeyed request was redirected to. */
  servedBy: string;
}

/** Joins a base URL and a path without doubling or losing slashes. */
export function endpointUrl(baseUrl: string, path: string): string {
  return baseUrl.replace(/\/+$/, '') + (path.startsWith('/') ? path : '/' + path);
}

export function authHeaders(config: EndpointConfig): Record<string, string> {
  if (config.authHeader) return { Authorization: config.authHeader };
  if (config.apiKey) return { Authorization: `Bearer ${config.apiKey}` };
  return {};
}

function pageOrigin(): string | null {
  const loc = (globalThis as { location?: { origin?: string } }).location;
  return typeof loc?.origin === 'string' && loc.origin !== 'null' ? loc.origin : null;
}

const isBrowser = () => typeof (globalThis as { document?: unknown }).document !== 'undefined';

/**
 * A browser reports a CORS refusal and a dead server the same way (TypeError). A `no-cors` request
 * to the same URL tells them apart when it succeeds (opaque): the server answered at all.
 */
async function diagnoseNetworkFailure(
  ctx: RequestContext,
  url: string,
  cause: unknown,
  keyed: boolean,
): Promise<EndpointError> {
  const { kind } = ctx.config;
  const origin = pageOrigin();
  // A no-cors probe must follow redirects (the Fetch standard requires it), so a keyed endpoint is never
  // probed: a redirect would take the probe to a host the user did not choose.
  if (isBrowser() && !keyed) {
    let answered = false;
    try {
      await ctx.fetch(url, { mode: 'no-cors', signal: AbortSignal.timeout(5000) });
      answered = true;
    } catch {
      answered = false;
    }
    if (answered) {
      return new EndpointError(
        'cors',
        `The server at ${ctx.config.baseUrl} answered, but its CORS headers do not let this page (${origin ?? 'this origin'}) read the reply. ${corsAdvice(kind, origin)}`,
        { kind, url, cause },
      );
    }
  }
  // Chromium's opaque-response blocking (and COEP) make the no-cors probe fail for JSON/HTML servers
  // too, so a failed probe leaves both causes open; the message names both.
  const browserHint = ` Or it runs but refuses this page's origin (CORS): the browser does not say which. ${corsAdvice(kind, origin)}`;
  return new EndpointError(
    'unreachable',
    `Cannot reach ${ctx.config.baseUrl}: is the server running and is the URL right?` +
      (isBrowser() ? browserHint : ''),
    { kind, url, cause },
  );
}

/** Pulls the human message out of A1111 / FastAPI, ComfyUI, OpenAI and HF error bodies. */
export function serverMessageOf(bytes: Uint8Array): string {
  const text = new TextDecoder().decode(bytes.subarray(0, 64 * 1024));
  try {
    const body: unknown = JSON.parse(text);
    const parts: string[] = [];
    const visit = (v: unknown, depth: number) => {
      if (depth > 3 || v == null) return;
      if (typeof v === 'string') {
        if (v.trim()) parts.push(v);
        return;
      }
      if (Array.isArray(v)) {
        for (const item of v.slice(0, 5)) visit(item, depth + 1);
        return;
      }
      if (typeof v === 'object') {
        const o = v as Record<string, unknown>;
        for (const key of ['message', 'msg', 'error', 'errors', 'detail', 'details']) visit(o[key], depth + 1);
        // ComfyUI's validation errors sit per node: {node_errors: {"4": {errors: [{message, details}]}}}.
        const nodeErrors = o.node_errors;
        if (nodeErrors && typeof nodeErrors === 'object') {
          for (const node of Object.values(nodeErrors as Record<string, unknown>).slice(0, 5)) {
            if (node && typeof node === 'object') visit((node as Record<string, unknown>).errors, depth + 1);
          }
        }
      }
    };
    visit(body, 0);
    if (parts.length) return cleanServerText([...new Set(parts)].join(' — '));
  } catch {
    // not JSON: the text itself is the message
  }
  return cleanServerText(text.replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' '));
}

/** Reads a body as a stream and stops as soon as it passes `limit` bytes. */
function readCapped(response: Response, limit: number, ctx: RequestContext, url: string): Promise<Uint8Array> {
  const tooLarge = () =>
    new EndpointError(
      'too-large',
      `The reply from ${ctx.config.baseUrl} is larger than ${Math.round(limit / 1048576)} MB; refused.`,
      {
        kind: ctx.config.kind,
        url,
      },
    );
  return readBody(response, { limit, tooLarge });
}

/**
 * One request to the endpoint. Throws EndpointError for every failure: cancelled, timeout,
 * unreachable / cors, http (with the server's message), too-large.
 */
export async function request(ctx: RequestContext, path: string, options: RequestOptions = {}): Promise<Reply> {
  const { config } = ctx;
  const url = path === '' ? config.baseUrl : endpointUrl(config.baseUrl, path);
  const timeoutMs = options.timeoutMs ?? config.timeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const headers: Record<string, string> = { ...authHeaders(config), Accept: options.accept ?? 'application/json' };
  let body: string | undefined;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const hasCredentials = 'Authorization' in headers;
  const stopped = (cause: unknown): EndpointError | null => {
    if (options.signal?.aborted) return new EndpointError('cancelled', 'Cancelled.', { kind: config.kind, url, cause });
    if (timeout.aborted) {
      return new EndpointError(
        'timeout',
        `${config.baseUrl} did not finish within ${Math.round(timeoutMs / 1000)} s. A server loading a model for the first time can be slow: raise the timeout in the endpoint settings if this keeps happening.`,
        { kind: config.kind, url, cause },
      );
    }
    return null;
  };
  let response: Response;
  try {
    response = await ctx.fetch(url, {
      method: options.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal,
      // A redirect could carry the key elsewhere: a keyed request sees the redirect itself and stops.
      redirect: hasCredentials ? 'manual' : 'follow',
      ...(options.keepalive ? { keepalive: true } : {}),
    });
  } catch (e) {
    throw stopped(e) ?? (await diagnoseNetworkFailure(ctx, url, e, hasCredentials));
  }
  if (hasCredentials && isRedirect(response)) {
    await response.body?.cancel();
    throw redirectRefused(ctx, url, response);
  }
  const limit = (config.maxReplyMB ?? DEFAULT_MAX_REPLY_MB) * 1048576;
  let bytes: Uint8Array;
  try {
    bytes = await readCapped(response, limit, ctx, url);
  } catch (e) {
    if (e instanceof EndpointError) throw e;
    throw (
      stopped(e) ??
      new EndpointError('bad-reply', `The reply from ${config.baseUrl} broke off.`, {
        kind: config.kind,
        url,
        cause: e,
      })
    );
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (!response.ok) {
    const serverMessage = serverMessageOf(bytes);
    const reason = response.status === 401 || response.status === 403 ? 'auth' : 'http';
    const hint = reason === 'auth' ? ' Check the API key or auth header in the endpoint settings.' : '';
    throw new EndpointError(
      reason,
      `${config.baseUrl} answered ${response.status} ${response.statusText}${serverMessage ? `: ${serverMessage}` : ''}.${hint}`,
      { kind: config.kind, url, status: response.status, serverMessage },
    );
  }
  return { status: response.status, contentType, bytes, servedBy: servedBy(config.baseUrl, url, response.url) };
}

/** A redirect seen with redirect: 'manual': a 3xx in Node, an opaque redirect (status 0) in browsers. */
const isRedirect = (response: Response) =>
  response.type === 'opaqueredirect' || (response.status >= 300 && response.status < 400);

function redirectRefused(ctx: RequestContext, url: string, response: Response): EndpointError {
  const location = response.headers.get('location');
  let to = '';
  try {
    if (location) to = ` to ${new URL(location, url).origin}`;
  } catch {
    to = '';
  }
  return new EndpointError(
    'redirect',
    `${ctx.config.baseUrl} answered with a redirect${to}. Requests carrying your API key never follow redirects, since the key would go to another address: set the endpoint URL to the address the server sends you to.`,
    { kind: ctx.config.kind, url, status: response.status || undefined },
  );
}

/** The base URL of the server that answered `requested` (itself unless a redirect moved it). */
function servedBy(baseUrl: string, requested: string, final: string): string {
  if (!final || final === requested) return baseUrl;
  const path = requested.slice(baseUrl.length);
  if (path && final.endsWith(path)) return final.slice(0, final.length - path.length);
  try {
    return new URL(final).origin;
  } catch {
    return baseUrl;
  }
}

/** Parses a JSON reply; anything else is a bad reply (stated, never shown as markup). */
export function parseJson(reply: Reply, ctx: RequestContext, what: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(reply.bytes));
  } catch (e) {
    const preview = cleanServerText(new TextDecoder().decode(reply.bytes.subarray(0, 200)), 120);
    throw new EndpointError('bad-reply', `${what} from ${ctx.config.baseUrl} is not JSON (starts with "${preview}").`, {
      kind: ctx.config.kind,
      cause: e,
    });
  }
}

/** `v` as an object's fields, or null when a reply put something else there. */
export const asRecord = (v: unknown): Record<string, unknown> | null => (isPlainObject(v) ? v : null);

export function badReply(ctx: RequestContext, message: string): EndpointError {
  return new EndpointError('bad-reply', `${ctx.config.baseUrl}: ${message}`, { kind: ctx.config.kind });
}

/** Resolves after `ms`, or rejects with a 'cancelled' EndpointError when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new EndpointError('cancelled', 'Cancelled.'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new EndpointError('cancelled', 'Cancelled.'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function decodeBase64(b64: string): Uint8Array {
  const clean = b64.replace(/^data:[^,]*,/, '');
  const bin = atob(clean);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
