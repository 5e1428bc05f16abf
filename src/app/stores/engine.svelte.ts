/**
 * Engine and catalog state for the page: which engine and catalog are active, stored catalogs,
 * catalog imports with progress, and the engine choice with a neural pack's download progress (the
 * work itself happens in the engine worker).
 */
import type {
  CatalogStartProgress,
  CatalogImportReport,
  CatalogImportRequest,
  EngineChoice,
  EngineStatus,
  HeadTrainingOutcome,
  HeadTrainingProgress,
  ImportProgress,
  LlmHeadExport,
  LlmLoadProgress,
  StoredCatalog,
} from '../../../workers/engine-api.ts';
import { loadCuratedPacks, type CuratedPack } from '../../core/engines/neural/curated.ts';
import { callWithProgress } from '../../runtime/workers.ts';
import { engineWorker } from '../engine-client.ts';
import { announce, onAnnouncement } from '../sync.ts';
import { offline } from './offline.svelte.ts';

class EngineStore {
  constructor() {
    onAnnouncement((message) => {
      if (message.type === 'catalog') void this.followOtherTab(message.activeId);
    });
  }

  status = $state<EngineStatus | null>(null);
  catalogs = $state<StoredCatalog[]>([]);
  importing = $state(false);
  progress = $state<ImportProgress | null>(null);
  lastImport = $state<CatalogImportReport | null>(null);
  error = $state<string | null>(null);
  /** Per file, while a neural pack downloads. */
  packProgress = $state<Record<string, LlmLoadProgress>>({});
  switching = $state(false);
  /** The packs shipped in public/models/packs (Settings lists them), and any that could not be read. */
  curatedPacks = $state<CuratedPack[]>([]);
  curatedProblems = $state<string[]>([]);
  /** Storage the browser still grants this site (MB), where it says; a pack larger than this cannot be kept offline. */
  storageFreeMb = $state<number | null>(null);
  /** ModelToken head training of the neural pack: the run's progress, its outcome, or why it stopped. */
  headTraining = $state(false);
  headProgress = $state<HeadTrainingProgress | null>(null);
  headOutcome = $state<HeadTrainingOutcome | null>(null);
  headMessage = $state<string | null>(null);

  private readonly onHeadProgress = (p: HeadTrainingProgress) => {
    this.headProgress = p;
  };

  /** While the active catalog's index is restored (or built after an update) at start-up. */
  startProgress = $state<CatalogStartProgress | null>(null);
  private readonly onStartProgress = (p: CatalogStartProgress) => {
    this.startProgress = p.phase === 'ready' ? null : p;
  };

  private readonly onPackProgress = (p: LlmLoadProgress) => {
    this.packProgress = { ...this.packProgress, [p.file]: p };
  };

  async refresh(): Promise<void> {
    try {
      this.status = await callWithProgress((relay) =>
        engineWorker().init(relay(this.onPackProgress), relay(this.onStartProgress)),
      );
      this.packProgress = {};
      this.startProgress = null;
      this.catalogs = await engineWorker().listCatalogs();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  cancelImport(): void {
    void engineWorker().cancelImport();
  }

  async importCatalog(request: CatalogImportRequest): Promise<void> {
    this.importing = true;
    this.error = null;
    this.lastImport = null;
    try {
      this.lastImport = await callWithProgress((relay) =>
        engineWorker().importCatalog(
          request,
          relay((p: ImportProgress) => {
            this.progress = p;
          }),
        ),
      );
      await this.refresh();
      this.announceCatalog();
      // Something worth keeping is stored now: ask the browser not to evict it.
      void offline.askPersistence();
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.importing = false;
      this.progress = null;
    }
  }

  /** Tells the other tabs which catalog is active now, so their engine plans over it too. */
  private announceCatalog(): void {
    announce({ type: 'catalog', activeId: this.status?.catalogId ?? null });
  }

  /** Another tab imported, chose or deleted a catalog: this tab's engine follows (nothing is announced back). */
  private async followOtherTab(activeId: string | null): Promise<void> {
    try {
      if (activeId !== null && activeId !== this.status?.catalogId)
        this.status = await engineWorker().useCatalog(activeId);
      this.catalogs = await engineWorker().listCatalogs();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async loadCuratedPacks(): Promise<void> {
    try {
      const index = new URL(`${import.meta.env.BASE_URL}models/packs/index.json`, document.baseURI).href;
      const listed = await loadCuratedPacks(index, async (url) => {
        const response = await fetch(url);
        if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
        return response.text();
      });
      this.curatedPacks = listed.packs;
      this.curatedProblems = listed.problems;
      const estimate = await navigator.storage?.estimate?.().catch(() => null);
      this.storageFreeMb =
        estimate?.quota !== undefined ? Math.max(0, (estimate.quota - (estimate.usage ?? 0)) / (1 << 20)) : null;
    } catch (e) {
      this.curatedProblems = [(e as Error).message];
    }
  }

  /** Stops a pack download; the files already downloaded stay cached and choosing the pack again resumes. */
  async cancelPackDownload(): Promise<void> {
    await engineWorker().cancelPackDownload();
  }

  /** Chooses the engine; a pack URL is resolved against the page, so "/models/x/" and "models/x/" both work. */
  async setEngine(choice: EngineChoice): Promise<void> {
    this.switching = true;
    this.error = null;
    this.packProgress = {};
    try {
      if (choice.kind === 'neural' && choice.packUrl.trim() === '')
        throw new Error('Give the URL of a model pack folder (it holds manifest.json).');
      const resolved: EngineChoice =
        choice.kind === 'neural'
          ? { ...choice, packUrl: new URL(choice.packUrl.trim(), document.baseURI).href }
          : choice;
      // A downloaded model should stay for offline use: ask the browser not to evict the cache under pressure.
      if (resolved.kind === 'neural') await navigator.storage?.persist?.().catch(() => false);
      this.status = await callWithProgress((relay) => engineWorker().setEngine(resolved, relay(this.onPackProgress)));
      if (resolved.kind === 'neural') void offline.askPersistence();
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.switching = false;
      this.packProgress = {};
    }
  }

  /** Trains the pack's head on the active catalog; a cancelled run is resumed by the next call. */
  async trainHead(epochs: number): Promise<void> {
    this.headTraining = true;
    this.headMessage = null;
    this.headOutcome = null;
    this.headProgress = null;
    try {
      const outcome = await callWithProgress((relay) =>
        engineWorker().trainHead({ epochs }, relay(this.onHeadProgress)),
      );
      this.headOutcome = outcome;
      this.status = outcome.status;
      if (outcome.saveError) this.headMessage = `The trained head is in use but was not saved: ${outcome.saveError}`;
    } catch (e) {
      const err = e as Error;
      const cancelled = err.name === 'AbortError' || /cancel/i.test(err.message);
      this.headMessage = cancelled ? 'Training was cancelled; Train head resumes it where it stopped.' : err.message;
    } finally {
      this.headTraining = false;
    }
  }

  async cancelTraining(): Promise<void> {
    await engineWorker().cancelTraining();
  }

  async exportHead(): Promise<LlmHeadExport | null> {
    try {
      return await engineWorker().exportHead();
    } catch (e) {
      this.headMessage = (e as Error).message;
      return null;
    }
  }

  async useCatalog(id: string): Promise<void> {
    try {
      this.status = await engineWorker().useCatalog(id);
      this.catalogs = await engineWorker().listCatalogs();
      this.announceCatalog();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async deleteCatalog(id: string): Promise<void> {
    try {
      await engineWorker().deleteCatalog(id);
      await this.refresh();
      this.announceCatalog();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }
}

export const engineStatus = new EngineStore();
