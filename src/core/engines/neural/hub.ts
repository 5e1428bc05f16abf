/**
 * Where packs with `base_model.hub_id` download from: the public Hugging Face hub by default, or a mirror
 * (Settings -> Engine -> "Model hub URL" in the app, CHATGEN_HUB_URL for the Node CLIs) that serves the
 * hub's file layout, `{hub}/{owner}/{name}/resolve/{revision}/{file}`. Also: what a failed download
 * means in words (from the hub's X-Error-Code), and a fetch that resumes an interrupted download with a
 * Range request instead of starting the file again.
 */

export const DEFAULT_HUB_URL = 'https://huggingface.co/';
/** transformers.js `env.remotePathTemplate`: the hub's layout under the host. */
export const HUB_PATH_TEMPLATE = '{model}/resolve/{revision}/';

export class HubUrlError extends Error {
  override name = 'HubUrlError';
}

/** Normalises a hub URL ("http://mirror:8080/hf" -> "http://mirror:8080/hf/"); empty means the public hub. */
export function normaliseHubUrl(value: string | undefined | null): string {
  const text = (value ?? '').trim();
  if (text === '') return DEFAULT_HUB_URL;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HubUrlError(
      `the model hub URL "${text}" is not a URL (e.g. https://huggingface.co/ or http://mirror.local:8080/)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new HubUrlError(`the model hub URL must be http or https, got ${url.protocol}`);
  if (url.search !== '' || url.hash !== '')
    throw new HubUrlError('the model hub URL must not carry a query or fragment');
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** The part of transformers.js's `env` that says where remote models come from. */
export interface RemoteModelEnv {
  remoteHost: string;
  remotePathTemplate: string;
  allowRemoteModels: boolean;
}

export function applyHubUrl(env: RemoteModelEnv, hubUrl: string | undefined | null): string {
  const host = normaliseHubUrl(hubUrl);
  env.remoteHost = host;
  env.remotePathTemplate = HUB_PATH_TEMPLATE;
  env.allowRemoteModels = true;
  return host;
}

/** The URL a file of a hub repo is fetched from. */
export function hubFileUrl(hubUrl: string, repo: string, file: string, revision = 'main'): string {
  return `${normaliseHubUrl(hubUrl)}${repo}/resolve/${revision}/${file}`;
}

/** What the hub said when a file could not be had. */
export interface HubFailure {
  status: number;
  url: string;
  /** The hub's X-Error-Code (RepoNotFound, GatedRepo, RevisionNotFound, EntryNotFound), when sent. */
  code: string | null;
  message: string | null;
}

export function hubFailureOf(response: Pick<Response, 'status' | 'headers'>, url: string): HubFailure {
  return {
    status: response.status,
    url,
    code: response.headers.get('x-error-code'),
    message: response.headers.get('x-error-message'),
  };
}

/** A failed download in words a person can act on. */
export function explainHubFailure(failure: HubFailure, hubUrl: string): string {
  const file = decodeURIComponent(failure.url.split('/resolve/')[1]?.split('/').slice(1).join('/') ?? failure.url);
  const repo = failure.url.startsWith(hubUrl) ? failure.url.slice(hubUrl.length).split('/resolve/')[0] : null;
  const where = `the model hub at ${hubUrl}`;
  const said = failure.message ? ` ("${failure.message}")` : '';
  switch (failure.code) {
    case 'GatedRepo':
      return `${where} refuses ${repo ?? 'the model'}: it is gated and needs a logged-in account (401${said}). Use a public export or a mirror that serves it.`;
    case 'RepoNotFound':
      return `${where} has no public repository${repo ? ` ${repo}` : ''} (401${said}): it does not exist or is private. Check the pack's hub_id, or the Model hub URL.`;
    case 'RevisionNotFound':
      return `${where} has no such revision of ${repo ?? 'the model'} (404${said}).`;
    case 'EntryNotFound':
      return `${where} has no file ${file} in ${repo ?? 'the repository'} (404${said}): the export lacks this dtype or layout.`;
    default:
      if (failure.status === 401 || failure.status === 403)
        return `${where} refused ${file} (${failure.status}${said}): the repository is gated or private.`;
      if (failure.status === 404)
        return `${where} has no file ${file} (404${said}). Is the Model hub URL a hub or a mirror of one?`;
      return `${where} answered ${failure.status} for ${file}${said}.`;
  }
}

/** Bytes of a download cut short, kept to resume it (Cache Storage in the browser, memory in tests). */
export interface PartialDownloads {
  get(url: string): Promise<{ bytes: Uint8Array; etag: string } | null>;
  put(url: string, bytes: Uint8Array, etag: string): Promise<void>;
  delete(url: string): Promise<void>;
}

export function memoryPartialDownloads(): PartialDownloads & { readonly size: number } {
  const map = new Map<string, { bytes: Uint8Array; etag: string }>();
  return {
    get: async (url) => map.get(url) ?? null,
    put: async (url, bytes, etag) => void map.set(url, { bytes, etag }),
    delete: async (url) => void map.delete(url),
    get size() {
      return map.size;
    },
  };
}

export interface HubFetchOptions {
  /** The fetch underneath (the browser's, Node's, or one that edits responses). */
  fetch: (input: string | URL, init?: RequestInit) => Promise<Response>;
  partial?: PartialDownloads;
  /** Cancels every download in flight; the bytes received so far are kept in `partial`. */
  signal?: AbortSignal;
  /** Called with each failed answer (status >= 400), before transformers.js turns it into an error. */
  onFailure?: (failure: HubFailure) => void;
  /** Called when a download resumes from a kept part. */
  onResume?: (url: string, fromByte: number) => void;
}

const hrefOf = (input: string | URL | Request) =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

/**
 * A fetch for transformers.js (`env.fetch`) that cancels with `signal`, keeps the part of a file received
 * before a cancel or a broken connection, and asks for the rest with `Range: bytes=N-` and `If-Range: ETag`
 * next time: a 206 answer is stitched to the kept part, a 200 (the file changed) starts over.
 */
export function createHubFetch(
  options: HubFetchOptions,
): (input: string | URL, init?: RequestInit) => Promise<Response> {
  const { partial, signal } = options;
  return async (input, init = {}) => {
    const url = hrefOf(input);
    const wantsWhole = init.method === undefined || init.method === 'GET';
    const kept = wantsWhole && partial ? await partial.get(url) : null;
    const headers = new Headers(init.headers);
    if (kept) {
      headers.set('Range', `bytes=${kept.bytes.length}-`);
      headers.set('If-Range', kept.etag);
    }
    const response = await options.fetch(input, { ...init, headers, ...(signal ? { signal } : {}) });
    if (response.status >= 400) {
      options.onFailure?.(hubFailureOf(response, url));
      return response;
    }
    if (!wantsWhole || !partial || !response.body) return response;
    const etag = response.headers.get('etag');
    let prefix: Uint8Array | null = null;
    if (kept && response.status === 206) {
      prefix = kept.bytes;
      options.onResume?.(url, kept.bytes.length);
    } else if (kept) await partial.delete(url);
    const length = Number(response.headers.get('content-length')) || 0;
    const total = (prefix?.length ?? 0) + length;
    // What has arrived, kept so that a cut-short download can be stored (this holds a second copy of the
    // file while it downloads; transformers.js keeps its own).
    const received: Uint8Array[] = prefix ? [prefix] : [];
    const reader = response.body.getReader();
    const keep = async () => {
      if (!etag) return;
      const size = received.reduce((s, c) => s + c.length, 0);
      if (size === 0) return;
      const bytes = new Uint8Array(size);
      let at = 0;
      for (const c of received) {
        bytes.set(c, at);
        at += c.length;
      }
      await partial.put(url, bytes, etag);
    };
    let started = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (!started && prefix) {
          started = true;
          controller.enqueue(prefix);
          return;
        }
        started = true;
        try {
          const { done, value } = await reader.read();
          if (done) {
            await partial.delete(url);
            controller.close();
            return;
          }
          received.push(value);
          controller.enqueue(value);
        } catch (err) {
          await keep().catch(() => undefined);
          controller.error(err);
        }
      },
      async cancel(reason) {
        await keep().catch(() => undefined);
        await reader.cancel(reason);
      },
    });
    const outHeaders = new Headers(response.headers);
    outHeaders.delete('content-range');
    if (total > 0) outHeaders.set('content-length', String(total));
    return new Response(body, { status: 200, statusText: 'OK', headers: outHeaders });
  };
}
