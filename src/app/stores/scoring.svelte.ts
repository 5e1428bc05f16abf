/**
 * Image scoring for the page: the scorer pack URLs (saved in IndexedDB `settings`), one score worker
 * (workers/score.worker.ts) created when the user loads scorers, download progress, the backend each pack
 * runs on (WebGPU or WASM, with the reason for a fallback), and scoring of stored results. Scores are written
 * into the result's `scores` in IndexedDB; a score stored for an image and pack is never computed again.
 */
import * as Comlink from 'comlink';
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import type { LoadProgress } from '../../core/scoring/scorers.ts';
import { isPerImageKind, mergeScores, missingScores, type KnownPack } from '../../core/scoring/stored.ts';
import type { PackInfo, ScoreBackendPreference, ScoreWorkerApi } from '../../../workers/score-api.ts';
import { startScoreWorker } from '../../runtime/workers.ts';
import { guardQuota, openAppDb, type ResultRecord } from '../../storage/db.ts';
import { generation } from './generation.svelte.ts';

export interface ScorerSettingsValue {
  /** Base URLs of scorer packs (folders with scorer.json). */
  packUrls: string[];
  prefer: ScoreBackendPreference;
  /** Facts about every pack ever loaded, by id, so stored scores are labelled without loading anything. */
  known: Record<string, KnownPack>;
}

const SETTINGS_KEY = 'scorer-packs';

/** Checks pack URLs (absolute http(s), or relative to this page); returns the problems. */
export function packUrlProblems(urls: readonly string[]): string[] {
  const problems: string[] = [];
  urls.forEach((url, i) => {
    try {
      const parsed = new URL(url, location.href);
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
        problems.push(`Pack ${i + 1}: only http(s) URLs can be loaded, got ${parsed.protocol}`);
    } catch {
      problems.push(`Pack ${i + 1}: "${url}" is not a URL`);
    }
  });
  if (new Set(urls).size !== urls.length) problems.push('The same pack URL is listed twice.');
  return problems;
}

class ScoringStore {
  settings = $state<ScorerSettingsValue>({ packUrls: [], prefer: 'webgpu', known: {} });
  settingsLoaded = $state(false);
  /** Packs loaded in the worker (sessions created), in the order of the URLs. */
  packs = $state<PackInfo[]>([]);
  loading = $state(false);
  /** Latest download progress per file ("pack/file"). */
  progress = $state<Record<string, LoadProgress>>({});
  error = $state<string | null>(null);
  /** The result whose scoring failed last (its images show `error`). */
  lastFailed = $state<string | null>(null);
  /** Ids of results being scored now. */
  scoring = $state<string[]>([]);
  /** Images scored by a pack since the page loaded (one per image and pack): stored scores never add to it. */
  scorerCalls = $state(0);
  /** Whether a score worker exists in this page (it is created only by "Load scorers"). */
  workerStarted = $state(false);
  private worker: Worker | null = null;
  private api: Comlink.Remote<ScoreWorkerApi> | null = null;

  get ready(): boolean {
    return this.packs.length > 0;
  }

  async loadSettings(): Promise<void> {
    try {
      const db = await openAppDb();
      const saved = (await db.get('settings', SETTINGS_KEY))?.value as ScorerSettingsValue | undefined;
      if (saved) this.settings = saved;
    } catch (e) {
      this.error = (e as Error).message;
    }
    this.settingsLoaded = true;
  }

  private async save(settings: ScorerSettingsValue): Promise<void> {
    const db = await openAppDb();
    await guardQuota('the scorer settings', () =>
      db.put('settings', { key: SETTINGS_KEY, value: $state.snapshot(settings) }),
    );
    this.settings = settings;
  }

  /** Validates and saves the pack URLs; returns the problems (empty when saved). */
  async saveUrls(packUrls: string[], prefer: ScoreBackendPreference): Promise<string[]> {
    const urls = packUrls.map((u) => u.trim()).filter((u) => u.length > 0);
    const problems = urls.length === 0 ? ['Give at least one scorer pack URL.'] : packUrlProblems(urls);
    if (problems.length) return problems;
    await this.save({ ...$state.snapshot(this.settings), packUrls: urls, prefer });
    return [];
  }

  private workerApi(): Comlink.Remote<ScoreWorkerApi> {
    if (!this.api) {
      const started = startScoreWorker();
      this.worker = started.worker;
      this.api = started.api;
      this.workerStarted = true;
    }
    return this.api;
  }

  /** Opens every saved pack URL and creates its sessions, with download progress. */
  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    this.progress = {};
    try {
      const api = this.workerApi();
      await api.configure(
        { wasmPaths: { mjs: ortWasmMjs, wasm: ortWasm }, prefer: this.settings.prefer, numThreads: 1 },
        Comlink.proxy((p: LoadProgress) => {
          this.progress = { ...this.progress, [`${p.pack}/${p.file}`]: p };
        }),
      );
      const loaded: PackInfo[] = [];
      for (const url of this.settings.packUrls) {
        const opened = await api.open(url);
        loaded.push(await api.load(opened.id));
        this.packs = [...loaded];
      }
      const known = { ...$state.snapshot(this.settings.known) };
      for (const p of loaded) known[p.id] = { id: p.id, kind: p.kind, name: p.name, meantFor: p.meantFor };
      await this.save({ ...$state.snapshot(this.settings), known });
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loading = false;
    }
  }

  /** Releases every session and the worker itself; scores already stored stay. */
  async unload(): Promise<void> {
    try {
      await this.api?.unload();
    } finally {
      this.api?.[Comlink.releaseProxy]();
      this.worker?.terminate();
      this.api = null;
      this.worker = null;
      this.workerStarted = false;
      this.packs = [];
      this.progress = {};
    }
  }

  /**
   * Scores the images of a result with every loaded per-image pack, skipping each image and pack that already
   * has a stored score, and stores the new scores. Does nothing when no scorer is loaded.
   */
  async scoreResult(result: ResultRecord): Promise<void> {
    if (!this.ready || this.scoring.includes(result.id)) return;
    this.scoring = [...this.scoring, result.id];
    this.error = null;
    try {
      const db = await openAppDb();
      const stored = (await db.get('results', result.id)) ?? result;
      const perImage = this.packs.filter((p) => isPerImageKind(p.kind));
      const missing = missingScores(
        stored.scores,
        stored.images.length,
        perImage.map((p) => p.id),
      );
      if (missing.size === 0) return;
      const fresh = new Map<string, Map<number, number>>();
      const api = this.workerApi();
      for (const [packId, indices] of missing) {
        const values = await api.score(
          packId,
          indices.map((i) => ({ image: stored.images[i]!.blob, prompt: stored.plan.prompt })),
        );
        this.scorerCalls += indices.length;
        fresh.set(packId, new Map(indices.map((i, k) => [i, values[k]!])));
      }
      // Read again right before writing: scores stored meanwhile (another tab) are kept, never replaced.
      const latest = (await db.get('results', result.id)) ?? stored;
      let merged = latest.scores;
      for (const [packId, byImage] of fresh) merged = mergeScores(merged, packId, byImage);
      const updated: ResultRecord = { ...latest, scores: merged };
      await guardQuota('the image scores', () => db.put('results', updated));
      generation.results = generation.results.map((r) => (r.id === updated.id ? updated : r));
    } catch (e) {
      this.error = (e as Error).message;
      this.lastFailed = result.id;
    } finally {
      this.scoring = this.scoring.filter((id) => id !== result.id);
    }
  }

  /** FID between two sets of images with the loaded fid-features pack, or null when none is loaded. */
  async fid(generated: Blob[], reference: Blob[]): Promise<{ distance: number; warnings: string[] } | null> {
    const pack = this.packs.find((p) => p.kind === 'fid-features');
    if (!pack || !this.api) return null;
    const result = await this.api.fid(pack.id, generated, reference);
    return { distance: result.distance, warnings: result.warnings };
  }
}

export const scoring = new ScoringStore();
