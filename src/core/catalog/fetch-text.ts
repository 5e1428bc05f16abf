/** Reading catalog files as text with byte progress, from a Blob or a URL, with errors a user can act on. */

export class CatalogFetchError extends Error {
  override name = 'CatalogFetchError';
}

/** Decodes a byte stream as UTF-8, reporting bytes read. */
export async function readStreamText(
  stream: ReadableStream<Uint8Array>,
  total: number | null,
  onProgress?: (bytes: number, total: number | null) => void,
): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder('utf-8');
  const parts: string[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    parts.push(decoder.decode(value, { stream: true }));
    onProgress?.(bytes, total);
  }
  parts.push(decoder.decode());
  return parts.join('');
}

export async function fetchCatalogText(
  url: string,
  onProgress?: (bytes: number, total: number | null) => void,
  fetchImpl: typeof fetch = fetch,
): Promise<string> {
  let response: Response;
  try {
    response = await fetchImpl(url);
  } catch (e) {
    throw new CatalogFetchError(
      `Could not fetch ${url}: the server did not answer, or it refused cross-origin access (CORS) from this page. ` +
        `Download the file and pick it from disk instead. (${(e as Error).message})`,
    );
  }
  if (!response.ok) throw new CatalogFetchError(`Could not fetch ${url}: HTTP ${response.status} ${response.statusText}`.trim());
  const length = Number(response.headers.get('content-length'));
  if (!response.body) return response.text();
  return readStreamText(response.body, Number.isFinite(length) && length > 0 ? length : null, onProgress);
}
