/**
 * Engine and catalog state for the page: which engine and catalog are active, stored catalogs, and
 * catalog imports with progress (the work itself happens in the engine worker).
 */
import type { CatalogImportReport, CatalogImportRequest, EngineStatus, ImportProgress, StoredCatalog } from '../../../workers/engine-api.ts';
import { Comlink, engineWorker } from '../engine-client.ts';

class EngineStore {
  status = $state<EngineStatus | null>(null);
  catalogs = $state<StoredCatalog[]>([]);
  importing = $state(false);
  progress = $state<ImportProgress | null>(null);
  lastImport = $state<CatalogImportReport | null>(null);
  error = $state<string | null>(null);

  async refresh(): Promise<void> {
    try {
      this.status = await engineWorker().init();
      this.catalogs = await engineWorker().listCatalogs();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async importCatalog(request: CatalogImportRequest): Promise<void> {
    this.importing = true;
    this.error = null;
    this.lastImport = null;
    try {
      this.lastImport = await engineWorker().importCatalog(
        request,
        Comlink.proxy((p: ImportProgress) => {
          this.progress = p;
        }),
      );
      await this.refresh();
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.importing = false;
      this.progress = null;
    }
  }

  async useCatalog(id: string): Promise<void> {
    try {
      this.status = await engineWorker().useCatalog(id);
      this.catalogs = await engineWorker().listCatalogs();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  async deleteCatalog(id: string): Promise<void> {
    try {
      await engineWorker().deleteCatalog(id);
      await this.refresh();
    } catch (e) {
      this.error = (e as Error).message;
    }
  }
}

export const engineStatus = new EngineStore();
