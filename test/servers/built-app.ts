/**
 * The built app served statically, for specs that need what only a build has (the service worker):
 * `vite build` once per spec run into a temporary folder, then `vite preview` on a free port the
 * test picks. Vite is started as `node node_modules/vite/bin/vite.js` (an npx wrapper, when killed,
 * would leave its child running).
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');
const vite = path.join(root, 'node_modules/vite/bin/vite.js');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`vite preview exited with code ${child.exitCode}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`vite preview did not answer at ${url} within ${timeoutMs} ms`);
}

export interface BuiltApp {
  url: string;
  /** The folder served (a spec may change a file in it to deploy a "new version"). */
  outDir: string;
  /** Milliseconds the build took (printed by the spec). */
  buildMs: number;
  /** Stops the static server (nothing answers at `url` any more) and starts it again on the same port. */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  close(): Promise<void>;
}

export async function serveBuiltApp(): Promise<BuiltApp> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'chatgen-built-'));
  const started = performance.now();
  await promisify(execFile)(
    process.execPath,
    [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'],
    { cwd: root, maxBuffer: 16 << 20 },
  );
  const buildMs = performance.now() - started;
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | null = null;
  const start = async () => {
    const preview = spawn(
      process.execPath,
      [vite, 'preview', '--outDir', outDir, '--host', '127.0.0.1', '--port', String(port), '--strictPort'],
      { cwd: root, stdio: 'ignore' },
    );
    child = preview;
    await waitForHttp(url, preview, 30_000);
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill();
    await exited;
  };
  try {
    await start();
  } catch (e) {
    await stop();
    await rm(outDir, { recursive: true, force: true });
    throw e;
  }
  return {
    url,
    outDir,
    buildMs,
    stopServer: stop,
    startServer: start,
    async close() {
      await stop();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
