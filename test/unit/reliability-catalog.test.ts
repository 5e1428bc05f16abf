/**
 * Reliability suite, catalog findings of the audit (issue 15): each test names its finding and
 * failed on the code before the fix.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchCatalogText } from '../../src/core/catalog/fetch-text.ts';
import { loadCatalog, CatalogError } from '../../src/core/catalog/load.ts';

const modelLine = (id: number, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id,
    name: `Model ${id}`,
    type: 'Checkpoint',
    tags: ['style'],
    base_model: 'SD 1.5',
    trained_words: [],
    file: `m${id}.safetensors`,
    downloads: id,
    rating: 4.5,
    description: 'a model',
    ...extra,
  });
const demoLine = (imageId: number, modelId: number, prompt = 'a watercolor fox in a library') =>
  JSON.stringify({
    image_id: imageId,
    model_id: modelId,
    prompt,
    negative_prompt: 'blurry',
    arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 7, width: 512, height: 512 },
  });

describe('finding 1: a repeated demonstration image_id', () => {
  it('is reported with its line and skipped, so every image_id the engine sees is unique', () => {
    const catalog = [modelLine(1), modelLine(2)].join('\n');
    const demonstrations = [
      demoLine(10, 1),
      demoLine(11, 1),
      demoLine(10, 2, 'a castle at dusk'),
      demoLine(12, 2),
    ].join('\n');
    const { catalog: c, errors } = loadCatalog(
      { catalog: { file: 'c.jsonl', text: catalog }, demonstrations: { file: 'd.jsonl', text: demonstrations } },
      'test',
    );
    expect(c.demonstrations.map((d) => d.image_id)).toEqual([10, 11, 12]);
    expect(errors).toContainEqual({
      file: 'd.jsonl',
      line: 3,
      field: 'image_id',
      message: 'duplicate image_id 10 (first on line 1); this line was skipped',
    });
  });
});

describe('finding 12: files that are not JSONL say what was expected', () => {
  const load = (text: string) => () => loadCatalog({ catalog: { file: 'c.jsonl', text } }, 'test');
  const two = [modelLine(1), modelLine(2)];

  it('reads CR-only line ends as line ends', () => {
    const { catalog, errors } = load(two.join('\r'))();
    expect(errors).toEqual([]);
    expect(catalog.models.map((m) => m.id)).toEqual([1, 2]);
  });

  it('names UTF-16 text, with or without its byte order mark, and asks for UTF-8', () => {
    const utf16 = Buffer.from('\ufeff' + two.join('\n'), 'utf16le');
    for (const bytes of [utf16, utf16.subarray(2)]) {
      const asUtf8 = new TextDecoder('utf-8').decode(bytes);
      expect(load(asUtf8)).toThrow(CatalogError);
      expect(load(asUtf8)).toThrow(
        'c.jsonl:1: this is not JSONL: the file is UTF-16 text; expected UTF-8 (save it as UTF-8 and import it again)',
      );
    }
  });

  it('names a JSON array and pretty-printed JSON, saying one object per line was expected', () => {
    expect(load(`[${two.join(',\n')}]`)).toThrow(
      "c.jsonl:1: this is not JSONL: the file is one JSON array; expected one JSON object per line (convert it with: jq -c '.[]' file.json > file.jsonl)",
    );
    const pretty = two.map((l) => JSON.stringify(JSON.parse(l), null, 2)).join('\n');
    expect(load(pretty)).toThrow(
      'c.jsonl:1: this is not JSONL: each JSON object spans several lines (pretty-printed); expected one object per line (convert it with: jq -c . file.json > file.jsonl)',
    );
  });
});

describe('finding 11: length limits on catalog text', () => {
  it('skips a model whose name or description is too long, with a message giving the limit', () => {
    const text = [
      modelLine(1, { name: 'x'.repeat(10_000) }),
      modelLine(2, { description: 'y'.repeat(200_000) }),
      modelLine(3),
    ].join('\n');
    const { catalog, errors } = loadCatalog({ catalog: { file: 'c.jsonl', text } }, 'test');
    expect(catalog.models.map((m) => m.id)).toEqual([3]);
    expect(errors.map((e) => `${e.line} ${e.field}: ${e.message}`)).toEqual([
      '1 name: is 10,000 characters long; the limit is 200',
      '2 description: is 200,000 characters long; the limit is 20,000',
    ]);
  });
});

describe('finding 3: importing a catalog from a URL', () => {
  /** A server whose answer each test sets: silent, slow, or far too large. */
  let answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = () => undefined;
  const server = http.createServer((req, res) => answer(req, res));
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/catalog.jsonl`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('gives up on a server that stays silent, saying how long it waited', async () => {
    answer = () => undefined; // never answers
    const started = Date.now();
    await expect(fetchCatalogText(url, { idleTimeoutMs: 300 })).rejects.toThrow(
      `${url} sent nothing for 0.3 s; the import was stopped.`,
    );
    expect(Date.now() - started).toBeLessThan(3000);
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/jsonl' });
      res.write(modelLine(1) + '\n'); // then nothing more
    };
    await expect(fetchCatalogText(url, { idleTimeoutMs: 300 })).rejects.toMatchObject({ reason: 'timeout' });
  });

  it('stops at Cancel', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/jsonl' });
      res.write(modelLine(1) + '\n');
    };
    const controller = new AbortController();
    const fetching = fetchCatalogText(url, { signal: controller.signal, onProgress: () => controller.abort() });
    await expect(fetching).rejects.toMatchObject({
      reason: 'cancelled',
      message: 'The import was cancelled; nothing was imported.',
    });
  });

  it('refuses a download past the size cap, declared or streamed, and reports bytes as they arrive', async () => {
    const megabyte = Buffer.alloc(1048576, 0x20);
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/jsonl' });
      let sent = 0;
      const more = () => {
        if (sent++ < 4 && !res.destroyed) res.write(megabyte, () => setTimeout(more, 10));
        else res.end();
      };
      more();
    };
    const seen: number[] = [];
    await expect(
      fetchCatalogText(url, { maxBytes: 2.5 * 1048576, onProgress: (bytes) => seen.push(bytes) }),
    ).rejects.toMatchObject({
      reason: 'too-large',
      message: `${url} is larger than 2.5 MB, the limit set for catalog downloads; the import was stopped.`,
    });
    expect(seen.length).toBeGreaterThan(1);
    expect(seen.at(-1)!).toBeLessThanOrEqual(2.5 * 1048576);
    answer = (_req, res) => {
      res.writeHead(200, { 'Content-Length': String(50 * 1048576) });
      res.flushHeaders();
    };
    await expect(fetchCatalogText(url, { maxBytes: 2.5 * 1048576 })).rejects.toMatchObject({ reason: 'too-large' });
  });
});
