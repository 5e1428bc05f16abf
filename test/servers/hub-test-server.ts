/**
 * A TEST double of the Hugging Face hub's file protocol, as transformers.js and huggingface_hub use it:
 *
 *   GET|HEAD /{owner}/{name}/resolve/{revision}/{path}
 *     small files (configs, tokenizers): 200 with ETag (the git blob id), X-Repo-Commit, Content-Length,
 *       Accept-Ranges: bytes;
 *     large files (ONNX weights, stored in LFS on the hub): 302 to a CDN-like path on the same server, with
 *       X-Repo-Commit, X-Linked-Etag (the sha256) and X-Linked-Size, as the hub redirects to its CDN;
 *     a gated or private repo: 401 with X-Error-Code: GatedRepo; an unknown repo: 401 RepoNotFound (the hub
 *       answers 401, not 404, so that private repos do not leak); an unknown revision: 404 RevisionNotFound;
 *       a missing file: 404 EntryNotFound; each with X-Error-Message.
 *   GET /cdn/{sha256}/{path}: the file, with ETag and Accept-Ranges; `Range: bytes=N-` is answered 206 with
 *     Content-Range (unless If-Range names another ETag: then 200 and the whole file); optionally throttled,
 *     so that tests can cancel a download half-way.
 *
 * Repos are folders under `root` (`root/{owner}/{name}/...`); a file stored as `X.gz` is served as `X`
 * (the committed fixtures keep the real multi-MB tokenizer.json compressed). CORS as the hub sends it.
 * `/__test__/log` (GET) and `/__test__/config` (POST {bytesPerSecond, gated}) let specs inspect and steer it.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';

export interface HubTestServerOptions {
  /** Folder holding `{owner}/{name}/` repos. */
  root: string;
  /** Repo ids ("owner/name") that answer 401 GatedRepo, as a gated repo does without a token. */
  gated?: string[];
  /** Throttle of the CDN route (0: as fast as possible). */
  bytesPerSecond?: number;
}

export interface HubTestServerConfig {
  bytesPerSecond?: number;
  gated?: string[];
  missing?: string[];
}

export interface HubRequestRecord {
  method: string;
  path: string;
  range: string | null;
  status: number;
}

interface RepoFile {
  bytes: Buffer;
  sha256: string;
  gitBlobId: string;
  lfs: boolean;
}

const LFS_EXTENSIONS = ['.onnx', '.onnx_data', '.bin', '.safetensors'];
const EXPOSED_HEADERS = [
  'ETag',
  'X-Repo-Commit',
  'X-Linked-Etag',
  'X-Linked-Size',
  'X-Error-Code',
  'X-Error-Message',
  'Content-Range',
  'Accept-Ranges',
  'Content-Length',
];

export class HubTestServer {
  readonly requests: HubRequestRecord[] = [];
  private readonly server: http.Server;
  private readonly files = new Map<string, RepoFile>();
  private gated: Set<string>;
  /** Repo files ("owner/name/path") the server pretends not to have: 404 EntryNotFound. */
  private missing = new Set<string>();
  private bytesPerSecond: number;
  private url = '';

  constructor(private readonly options: HubTestServerOptions) {
    this.gated = new Set(options.gated ?? []);
    this.bytesPerSecond = options.bytesPerSecond ?? 0;
    this.server = http.createServer((req, res) => {
      void this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  }

  async listen(port = 0): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(port, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this.url;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  configure(next: HubTestServerConfig): void {
    if (next.bytesPerSecond !== undefined) this.bytesPerSecond = next.bytesPerSecond;
    if (next.gated !== undefined) this.gated = new Set(next.gated);
    if (next.missing !== undefined) this.missing = new Set(next.missing);
  }

  /** The commit a repo's `main` resolves to: a hash over its files, stable while they do not change. */
  private repoCommit(repo: string): string {
    const hash = createHash('sha1');
    for (const file of listFiles(path.join(this.options.root, repo)))
      hash.update(`${file}\0${this.file(repo, file)!.sha256}\n`);
    return hash.digest('hex');
  }

  private file(repo: string, file: string): RepoFile | null {
    const key = `${repo}/${file}`;
    const cached = this.files.get(key);
    if (cached) return cached;
    const plain = path.join(this.options.root, repo, file);
    let bytes: Buffer;
    if (existsSync(plain) && statSync(plain).isFile()) bytes = readFileSync(plain);
    else if (existsSync(`${plain}.gz`)) bytes = zlib.gunzipSync(readFileSync(`${plain}.gz`));
    else return null;
    const entry: RepoFile = {
      bytes,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      gitBlobId: createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex'),
      lfs: LFS_EXTENSIONS.some((ext) => file.endsWith(ext)),
    };
    this.files.set(key, entry);
    return entry;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://hub');
    const pathname = decodeURIComponent(url.pathname);
    const record: HubRequestRecord = {
      method: req.method ?? 'GET',
      path: pathname,
      range: req.headers.range ?? null,
      status: 0,
    };
    if (!pathname.startsWith('/__test__/')) this.requests.push(record);
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': EXPOSED_HEADERS.join(', '),
    };
    const send = (status: number, headers: Record<string, string>, body?: Buffer | string) => {
      record.status = status;
      res.writeHead(status, { ...cors, ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const error = (status: number, code: string, message: string) =>
      send(
        status,
        { 'content-type': 'application/json', 'x-error-code': code, 'x-error-message': message },
        JSON.stringify({ error: message }),
      );

    if (req.method === 'OPTIONS') {
      record.status = 204;
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'GET, HEAD, OPTIONS',
        'access-control-allow-headers': 'Range, If-Range, Authorization, Content-Type',
        'access-control-max-age': '600',
      });
      res.end();
      return;
    }
    if (pathname === '/__test__/log')
      return send(200, { 'content-type': 'application/json' }, JSON.stringify(this.requests));
    if (pathname === '/__test__/config' && req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      this.configure(JSON.parse(Buffer.concat(chunks).toString('utf8')) as HubTestServerConfig);
      return send(200, { 'content-type': 'application/json' }, '{}');
    }

    const cdn = /^\/cdn\/([0-9a-f]{64})\/(.+)$/.exec(pathname);
    if (cdn) {
      const [, sha, rest] = cdn;
      const [repo, file] = splitRepoPath(rest!);
      const entry = repo && file ? this.file(repo, file) : null;
      if (!entry || entry.sha256 !== sha) return error(404, 'EntryNotFound', 'Entry not found');
      return this.serveBytes(req, res, record, entry, cors);
    }

    const resolve = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(pathname);
    if (!resolve || (req.method !== 'GET' && req.method !== 'HEAD')) return error(404, 'EntryNotFound', 'Not found');
    const [, owner, name, revision, file] = resolve;
    const repo = `${owner}/${name}`;
    if (this.gated.has(repo)) {
      return error(
        401,
        'GatedRepo',
        `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
    }
    const repoDir = path.join(this.options.root, owner!, name!);
    if (!existsSync(repoDir)) return error(401, 'RepoNotFound', 'Repository not found');
    const commit = this.repoCommit(repo);
    if (revision !== 'main' && revision !== commit)
      return error(404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    if (file!.includes('..')) return error(404, 'EntryNotFound', 'Entry not found');
    const entry = this.missing.has(`${repo}/${file}`) ? null : this.file(repo, file!);
    if (!entry) return error(404, 'EntryNotFound', 'Entry not found');
    const common = { 'x-repo-commit': commit, 'accept-ranges': 'bytes' };
    if (entry.lfs) {
      record.status = 302;
      res.writeHead(302, {
        ...cors,
        ...common,
        location: `/cdn/${entry.sha256}/${repo}/${file}`,
        etag: `"${entry.sha256}"`,
        'x-linked-etag': `"${entry.sha256}"`,
        'x-linked-size': String(entry.bytes.length),
        'content-length': '0',
      });
      res.end();
      return;
    }
    return this.serveBytes(req, res, record, entry, { ...cors, ...common }, `"${entry.gitBlobId}"`);
  }

  private async serveBytes(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: HubRequestRecord,
    entry: RepoFile,
    headers: Record<string, string>,
    etag = `"${entry.sha256}"`,
  ): Promise<void> {
    const total = entry.bytes.length;
    let start = 0;
    let status = 200;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && (ifRange === undefined || ifRange === etag)) {
      start = Number(range[1]);
      if (start >= total) {
        record.status = 416;
        res.writeHead(416, { ...headers, 'content-range': `bytes */${total}` });
        res.end();
        return;
      }
      status = 206;
    }
    record.status = status;
    res.writeHead(status, {
      ...headers,
      etag,
      'accept-ranges': 'bytes',
      'content-type': 'application/octet-stream',
      'content-length': String(total - start),
      ...(status === 206 ? { 'content-range': `bytes ${start}-${total - 1}/${total}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const body = entry.bytes.subarray(start);
    if (this.bytesPerSecond <= 0) {
      res.end(body);
      return;
    }
    const chunk = 16 * 1024;
    for (let at = 0; at < body.length && !res.destroyed; at += chunk) {
      res.write(body.subarray(at, at + chunk));
      await new Promise((resolve) => setTimeout(resolve, (chunk / this.bytesPerSecond) * 1000));
    }
    res.end();
  }
}

/** "owner/name/a/b.onnx" -> ["owner/name", "a/b.onnx"]. */
function splitRepoPath(rest: string): [string | null, string | null] {
  const parts = rest.split('/');
  if (parts.length < 3) return [null, null];
  return [`${parts[0]}/${parts[1]}`, parts.slice(2).join('/')];
}

/** The repo's files as the hub lists them (a stored `X.gz` is the file `X`), sorted. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...listFiles(path.join(dir, entry.name), rel));
    else out.push(rel.replace(/\.gz$/, ''));
  }
  return out.sort();
}

/** The committed fixture repos (test/fixtures/hub). */
export const HUB_FIXTURES = path.resolve(import.meta.dirname, '..', 'fixtures', 'hub');
