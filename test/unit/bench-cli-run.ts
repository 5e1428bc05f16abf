/**
 * `npm run bench` for the CLI tests: in this process (scripts/bench.ts's benchCli with captured output,
 * so a test pays neither a tsx start nor a second onnxruntime load), or as a child process for the
 * one test of the script's own wiring (argv, streams, exit code).
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { benchCli } from '../../scripts/bench.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const tsx = path.join(repoRoot, 'node_modules/tsx/dist/cli.mjs');

export interface BenchOutput {
  stdout: string;
  stderr: string;
}

/** A run that exited with a non-zero code, shaped like execFile's error (code, stdout, stderr). */
export class BenchExit extends Error {
  constructor(
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`bench exited with code ${code}:\n${stderr}`);
  }
}

/** Runs the CLI in this process; rejects with BenchExit on a non-zero exit code. */
export async function bench(args: string[], env: Record<string, string> = {}): Promise<BenchOutput> {
  let stdout = '';
  let stderr = '';
  const code = await benchCli(args, {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    env: { ...process.env, ...env },
    isTTY: false,
  });
  if (code !== 0) throw new BenchExit(code, stdout, stderr);
  return { stdout, stderr };
}

/** Runs `tsx scripts/bench.ts` as a user does; rejects with execFile's error (code, stderr) on failure. */
export function benchProcess(args: string[]): Promise<BenchOutput> {
  return promisify(execFile)(process.execPath, [tsx, 'scripts/bench.ts', ...args], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
  });
}
