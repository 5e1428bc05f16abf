/** Reading catalog files as text with byte progress, from a Blob or a URL, with errors a user can act on. */

export type CatalogFetchFailure = 'network' | 'http' | 'timeout' | 'cancelled' | 'too-large';

export class CatalogFetchError extends Error {
  override name = 'CatalogFetchError';
  constructor(
    readonly reason: CatalogFetchFailure,
    message: string,
  ) {
    super(message);
  }
}

/** A URL import gives up after this long without a byte, and refuses files larger than this. */
export const DEFAULT_CATALOG_FETCH_LIMITS = { idleTimeoutMs: 30_000, maxMB: 512 } as const;

export interface ReadTextOptions {
  /** Total bytes when known (Content-Length, Blob size), for progress. */
  total?: number | null;
  onProgress?: (bytes: number, total: number | null) => void;
  /** Reading stops with a 'too-large' error past this many bytes. */
  maxBytes?: number;
  /** Called with each chunk's arrival (the URL import's idle timer). */
  onChunk?: () => void;
  /** Turns a failed read into the error to throw (an abort into 'cancelled' or 'timeout'). */
  failure?: (cause: unknown) => Error;
  /** Names the source in messages. */
  what?: string;
}

const megabytes = (bytes: number) => `${Number((bytes / 1048576).toFixed(1))} MB`;

function tooLarge(what: string, maxBytes: number): CatalogFetchError {
  return new CatalogFetchError(
    'too-large',
    `${what} is larger than ${megabytes(maxBytes)}, the limit set for catalog downloads; the import was stopped.`,
  );
}

/** Decodes a byte stream as UTF-8, reporting bytes read as they arrive. */
export async function readStreamText(
  stream: ReadableStream<Uint8Array>,
  options: ReadTextOptions = {},
): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8');
  const parts: string[] = [];
  const total = options.total ?? null;
  let bytes = 0;
  for (;;) {
    let chunk: ReadableStreamReadResult<Uint8Array>;
    try {
      chunk = await reader.read();
    } catch (e) {
      throw options.failure ? options.failure(e) : e;
    }
    if (chunk.done) break;
    options.onChunk?.();
    bytes += chunk.value.byteLength;
    if (options.maxBytes !== undefined && bytes > options.maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(options.what ?? 'The file', options.maxBytes);
    }
    parts.push(decoder.decode(chunk.value, { stream: true }));
    options.onProgress?.(bytes, total);
  }
  parts.push(decoder.decode());
  return parts.join('');
}

export interface CatalogFetchOptions {
  onProgress?: (bytes: number, total: number | null) => void;
  /** Cancel: aborting stops the download with a 'cancelled' error. */
  signal?: AbortSignal;
  /** Give up after this long without a byte (before the reply starts, or between chunks). */
  idleTimeoutMs?: number;
  maxBytes?: number;
  fetchImpl?: typeof fetch;
}

/**
 * Fetches a catalog file. A silent server is given up after `idleTimeoutMs` without a byte, a reply past
 * `maxBytes` (declared or streamed) is refused, and `signal` cancels; each says so in its message.
 */
export async function fetchCatalogText(url: string, options: CatalogFetchOptions = {}): Promise<string> {
  const idleMs = options.idleTimeoutMs ?? DEFAULT_CATALOG_FETCH_LIMITS.idleTimeoutMs;
  const maxBytes = options.maxBytes ?? DEFAULT_CATALOG_FETCH_LIMITS.maxMB * 1048576;
  const idle = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const rearm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => idle.abort(), idleMs);
  };
  const signal = options.signal ? AbortSignal.any([options.signal, idle.signal]) : idle.signal;
  const stopped = (cause: unknown): Error => {
    if (options.signal?.aborted)
      return new CatalogFetchError('cancelled', 'The import was cancelled; nothing was imported.');
    if (idle.signal.aborted)
      return new CatalogFetchError('timeout', `${url} sent nothing for ${idleMs / 1000} s; the import was stopped.`);
    return cause instanceof Error ? cause : new Error(String(cause));
  };
  rearm();
  try {
    let response: Response;
    try {
      response = await (options.fetchImpl ?? fetch)(url, { signal });
    } catch (e) {
      if (signal.aborted) throw stopped(e);
      throw new CatalogFetchError(
        'network',
        `Could not fetch ${url}: the server did not answer, or it refused cross-origin access (CORS) from this page. ` +
          `Download the file and pick it from disk instead. (${(e as Error).message})`,
      );
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new CatalogFetchError(
        'http',
        `Could not fetch ${url}: HTTP ${response.status} ${response.statusText}`.trim(),
      );
    }
    const length = Number(response.headers.get('content-length'));
    const total = Number.isFinite(length) && length > 0 ? length : null;
    if (total !== null && total > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw tooLarge(url, maxBytes);
    }
    if (!response.body) return await response.text();
    return await readStreamText(response.body, {
      total,
      onProgress: options.onProgress,
      maxBytes,
      onChunk: rearm,
      failure: stopped,
      what: url,
    });
  } finally {
    clearTimeout(timer);
  }
}
