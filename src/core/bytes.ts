/** Byte arrays: joining chunks, and reading a response body into one buffer with progress and a size cap. */

/** Joins chunks into one array (`total` when the caller already counted the bytes). */
export function concatBytes(
  chunks: readonly Uint8Array[],
  total = chunks.reduce((n, c) => n + c.length, 0),
): Uint8Array {
  const out = new Uint8Array(total);
  let pos = 0;
  for (const c of chunks) {
    out.set(c, pos);
    pos += c.length;
  }
  return out;
}

export interface ReadBodyOptions {
  /** Bytes read so far, and the declared length when the server sent one. */
  onProgress?: (loaded: number, total: number | null) => void;
  /** Stop reading once the body passes this many bytes, throwing `tooLarge()`. */
  limit?: number;
  tooLarge?: () => Error;
}

/** Reads a response body into one buffer, streaming when it can. */
export async function readBody(response: Response, options: ReadBodyOptions = {}): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  const total = Number.isFinite(declared) && declared > 0 ? declared : null;
  const tooLarge = options.tooLarge ?? (() => new Error(`the reply is larger than ${options.limit} bytes`));
  if (options.limit !== undefined && total !== null && total > options.limit) {
    await response.body?.cancel();
    throw tooLarge();
  }
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    loaded += value.byteLength;
    if (options.limit !== undefined && loaded > options.limit) {
      await reader.cancel();
      throw tooLarge();
    }
    chunks.push(value);
    options.onProgress?.(loaded, total);
  }
  return concatBytes(chunks, loaded);
}
