/**
 * Drives workers/score.worker.ts over the fixture packs and images; test/browser/score.spec.ts and
 * scripts/bench-score.ts call window.runScoring and compare or time what it returns.
 */
import * as Comlink from 'comlink';
import type { LoadProgress } from '../../../src/core/scoring/scorers.ts';
import type { ScoreBackendPreference } from '../../../workers/score-api.ts';
import { startScoreWorker } from '../../../src/runtime/workers.ts';

export interface PageRun {
  packs: Record<
    string,
    { backend: string | null; fallback: string | null; scores?: number[]; features?: number[][]; msPerRepeat: number }
  >;
  progress: LoadProgress[];
  fidSelf: number;
}

const ALL_PACKS = ['fixture-clip', 'fixture-hpsv2', 'fixture-imagereward', 'fixture-aesthetic', 'fixture-fid'];

async function runScoring(
  prefer: ScoreBackendPreference,
  images: string[],
  prompts: string[],
  repeats = 1,
  packs = ALL_PACKS,
): Promise<PageRun> {
  const { worker, api } = startScoreWorker();
  const progress: LoadProgress[] = [];
  try {
    await api.configure(
      { wasmPaths: '/node_modules/onnxruntime-web/dist/', prefer, numThreads: 1 },
      Comlink.proxy((p: LoadProgress) => void progress.push(p)),
    );
    const blobs = await Promise.all(images.map(async (name) => (await fetch(`/test/fixtures/images/${name}`)).blob()));
    const pairs = blobs.flatMap((image) => prompts.map((prompt) => ({ image, prompt })));
    const result: PageRun = { packs: {}, progress, fidSelf: Number.NaN };
    for (const id of packs) {
      await api.open(`/test/fixtures/scorers/${id}/`);
      const info = await api.load(id);
      const started = performance.now();
      const entry: PageRun['packs'][string] = { backend: info.backend, fallback: info.fallback, msPerRepeat: 0 };
      for (let r = 0; r < repeats; r++) {
        if (id === 'fixture-fid') entry.features = await api.features(id, blobs);
        else if (id === 'fixture-aesthetic')
          entry.scores = await api.score(
            id,
            blobs.map((image) => ({ image })),
          );
        else entry.scores = await api.score(id, pairs);
      }
      entry.msPerRepeat = (performance.now() - started) / repeats;
      result.packs[id] = entry;
    }
    if (packs.includes('fixture-fid')) result.fidSelf = (await api.fid('fixture-fid', blobs, blobs)).distance;
    await api.unload();
    return result;
  } finally {
    worker.terminate();
  }
}

(window as unknown as { runScoring: typeof runScoring }).runScoring = runScoring;
document.body.dataset.ready = 'true';
