/**
 * Image generation state for the page: the endpoint settings (saved in IndexedDB, or a kiosk's
 * configuration from URL parameters or /kiosk.json, which then wins), running jobs with progress,
 * and the results store. Every finished job is written to IndexedDB at once, its PNGs carrying
 * the A1111 parameters chunk, so a later failure or a reload loses nothing; the same plan sent
 * again to the same endpoint with the same seed is answered from there.
 */
import type { CatalogModel } from '../../core/catalog/types.ts';
import { EndpointError } from '../../core/endpoints/errors.ts';
import { createEndpointClient } from '../../core/endpoints/index.ts';
import {
  findInstalled,
  matchInstalledModels,
  mergeInstalledLists,
  type InstalledMatch,
} from '../../core/endpoints/installed.ts';
import { jobKey } from '../../core/endpoints/job-key.ts';
import {
  KioskConfigError,
  decideEndpointSource,
  kioskConfigFromUrl,
  parseKioskConfig,
  validateEndpointConfig,
  type EndpointSourceDecision,
  type KioskConfig,
} from '../../core/endpoints/kiosk.ts';

const linkAnswerKey = (config: KioskConfig) =>
  `chatgen-link-answer:${config.endpoints.map((e) => `${e.kind} ${e.baseUrl}`).join(' ')}`;
import { planLosses } from '../../core/endpoints/losses.ts';
import { settingsForStorage, type StoredEndpointSettings } from '../../core/endpoints/secrets.ts';
import { announce, onAnnouncement } from '../sync.ts';
import { embedParameters, formatParameters } from '../../core/endpoints/infotext.ts';
import { EndpointPool, type DispatchPolicy, type EndpointFilter } from '../../core/endpoints/pool.ts';
import {
  DEFAULT_TIMEOUT_MS,
  type ConnectionReport,
  type EndpointConfig,
  type GenerationProgress,
  type InstalledModel,
} from '../../core/endpoints/types.ts';
import type { GenerationPlan } from '../../core/plan.ts';
import { guardQuota, openAppDb, type ResultRecord } from '../../storage/db.ts';
import { readKioskFile } from '../kiosk-file.ts';
import { browserIsOffline } from './offline.svelte.ts';
import { safeMode } from './safe-mode.svelte.ts';

const OFFLINE_MESSAGE =
  'The browser is offline, so the image server cannot be reached. Planning still works; generate again once you are back online.';

export interface GenerationSettings extends StoredEndpointSettings {
  endpoints: EndpointConfig[];
  dispatch: DispatchPolicy;
  batchSize: number;
  onlyInstalledModels: boolean;
  /** Counts saves; a save based on an older revision (another tab saved since) is refused. */
  revision?: number;
}

const SETTINGS_KEY = 'generation-endpoints';

export const DEFAULT_SETTINGS: GenerationSettings = {
  endpoints: [{ kind: 'a1111', baseUrl: 'http://127.0.0.1:7860', timeoutMs: DEFAULT_TIMEOUT_MS, concurrency: 1 }],
  dispatch: 'least-busy',
  batchSize: 1,
  onlyInstalledModels: false,
};

export interface RunningJob {
  id: number;
  plan: GenerationPlan;
  progress: GenerationProgress | null;
  controller: AbortController;
}

export interface GenerateOutcome {
  result: ResultRecord;
  fromCache: boolean;
}

function newId(): string {
  return `r-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A kiosk's configuration from /kiosk.json beside the app, or null when there is none. */
async function loadKioskFile(): Promise<KioskConfig | null> {
  const raw = await readKioskFile();
  return raw === null ? null : parseKioskConfig(raw, 'kiosk.json');
}

class GenerationStore {
  settings = $state<GenerationSettings>(structuredClone(DEFAULT_SETTINGS));
  /** True when the settings come from a kiosk configuration (the settings form is then read-only). */
  kiosk = $state(false);
  results = $state<ResultRecord[]>([]);
  running = $state<RunningJob[]>([]);
  error = $state<string | null>(null);
  /** The reason of the last error (EndpointError.reason, 'storage' or 'config'), for tests and styling. */
  errorReason = $state<string | null>(null);
  notice = $state<string | null>(null);
  /** A kiosk configuration (kiosk.json or URL parameters) that could not be used: shown at start, one line per problem. */
  configProblems = $state<{ source: string; problems: string[] } | null>(null);
  loaded = $state(false);
  /** A link's endpoints waiting for the user's answer: nothing is generated until then. */
  linkRequest = $state<EndpointSourceDecision['ask']>(null);
  private pool: EndpointPool | null = null;
  private nextJob = 1;

  constructor() {
    // A job left running when the tab closes or reloads would keep the server busy for nobody: interrupt it.
    if (typeof window !== 'undefined') {
      window.addEventListener('pagehide', () => {
        if (this.running.length > 0) void this.cancel();
      });
    }
    onAnnouncement((message) => {
      if (message.type === 'settings') void this.followOtherTab();
    });
  }

  async load(): Promise<void> {
    try {
      const link = kioskConfigFromUrl(new URLSearchParams(location.search));
      const kioskFile = await loadKioskFile();
      const db = await openAppDb();
      const saved = kioskFile
        ? null
        : (((await db.get('settings', SETTINGS_KEY))?.value as GenerationSettings | undefined) ?? null);
      const decision = decideEndpointSource({ link, kioskFile, saved });
      // Nothing saved and no link: the defaults stay as they are (re-assigning them would reset a form being filled in).
      if (decision.settings) this.settings = decision.settings;
      this.kiosk = decision.kiosk;
      this.notice = decision.notice;
      const answered = decision.ask ? sessionStorage.getItem(linkAnswerKey(decision.ask.config)) : null;
      if (answered === 'use') this.useLinkSettings(decision.ask!.config);
      else if (answered !== 'keep') this.linkRequest = decision.ask;
    } catch (e) {
      if (e instanceof KioskConfigError) this.configProblems = { source: e.source, problems: e.problems };
      else if (/kiosk\.json/.test((e as Error).message))
        this.configProblems = { source: 'kiosk.json', problems: [(e as Error).message] };
      this.fail(e instanceof KioskConfigError || this.configProblems ? 'config' : 'storage', (e as Error).message);
    }
    await this.refreshResults();
    this.loaded = true;
  }

  private useLinkSettings(config: KioskConfig): void {
    this.settings = config;
    this.kiosk = true;
    this.pool = null;
  }

  /** The user's answer to the link's endpoints, remembered for this visit (the tab's session). */
  answerLink(use: boolean): void {
    const ask = this.linkRequest;
    if (!ask) return;
    sessionStorage.setItem(linkAnswerKey(ask.config), use ? 'use' : 'keep');
    if (use) this.useLinkSettings(ask.config);
    this.linkRequest = null;
  }

  async refreshResults(): Promise<void> {
    const db = await openAppDb();
    this.results = (await db.getAllFromIndex('results', 'created')).reverse();
  }

  /** Validates and saves settings; returns the problems (empty when saved). */
  async saveSettings(next: GenerationSettings): Promise<string[]> {
    const problems: string[] = [];
    const endpoints: EndpointConfig[] = [];
    next.endpoints.forEach((e, i) => {
      const r = validateEndpointConfig(e, `Endpoint ${i + 1}`);
      problems.push(...r.problems);
      if (r.config) endpoints.push(r.config);
    });
    if (!endpoints.length && !problems.length) problems.push('Add at least one endpoint.');
    if (!Number.isInteger(next.batchSize) || next.batchSize < 1 || next.batchSize > 16)
      problems.push('Images per run must be from 1 to 16.');
    if (problems.length) return problems;
    const db = await openAppDb();
    // A form opened before another tab saved must not write its stale copy over that change: the
    // revision it was filled from is checked against the stored one in the same transaction.
    const tx = db.transaction('settings', 'readwrite');
    const current = ((await tx.store.get(SETTINGS_KEY))?.value as GenerationSettings | undefined) ?? null;
    const revision = current?.revision ?? 0;
    if ((next.revision ?? 0) !== revision) {
      await tx.done;
      if (current) this.adopt(current);
      return [
        'The endpoints were changed in another tab meanwhile; the form now shows that change. Make yours again and save.',
      ];
    }
    const settings: GenerationSettings = { ...next, endpoints, revision: revision + 1 };
    // Keys the user chose not to remember stay in this tab's memory only.
    const stored = settingsForStorage($state.snapshot(settings) as GenerationSettings);
    await guardQuota('the endpoint settings', async () => {
      await tx.store.put({ key: SETTINGS_KEY, value: stored });
      await tx.done;
    });
    this.settings = settings;
    this.pool = null;
    announce({ type: 'settings' });
    return [];
  }

  /** Settings another tab saved; keys this tab holds only in memory are kept for the same endpoints. */
  private adopt(saved: GenerationSettings): void {
    const keys = new Map(this.settings.endpoints.map((e) => [`${e.kind} ${e.baseUrl}`, e]));
    this.settings = {
      ...saved,
      endpoints: saved.endpoints.map((e) => {
        const mine = keys.get(`${e.kind} ${e.baseUrl}`);
        return e.apiKey || e.authHeader || !mine
          ? e
          : {
              ...e,
              ...(mine.apiKey ? { apiKey: mine.apiKey } : {}),
              ...(mine.authHeader ? { authHeader: mine.authHeader } : {}),
            };
      }),
    };
    this.pool = null;
  }

  /** Another tab saved endpoint settings: use them from now on (not in a kiosk or a confirmed link). */
  private async followOtherTab(): Promise<void> {
    if (this.kiosk || !this.loaded) return;
    const db = await openAppDb();
    const saved = (await db.get('settings', SETTINGS_KEY))?.value as GenerationSettings | undefined;
    if (saved) this.adopt(saved);
  }

  private poolNow(): EndpointPool {
    this.pool ??= new EndpointPool(
      this.settings.endpoints.map((c) => createEndpointClient($state.snapshot(c) as EndpointConfig)),
      this.settings.dispatch,
    );
    return this.pool;
  }

  /** What the plan loses on each configured endpoint kind, for the notice beside Generate. */
  losses(plan: GenerationPlan): string[] {
    const seen = new Set<string>();
    const out: string[] = [];
    for (const e of this.settings.endpoints) {
      for (const line of planLosses(plan, e)) {
        const text = this.settings.endpoints.length > 1 ? `${e.baseUrl}: ${line}` : line;
        if (!seen.has(text)) out.push(text);
        seen.add(text);
      }
    }
    return out;
  }

  private fail(reason: string, message: string): void {
    this.error = message;
    this.errorReason = reason;
  }

  /** A stored result for this plan on any configured endpoint, or null. */
  private async cached(plan: GenerationPlan): Promise<ResultRecord | null> {
    const db = await openAppDb();
    for (const e of this.settings.endpoints) {
      const hit = await db.getFromIndex(
        'results',
        'job_key',
        jobKey(plan, e, plan.arguments.seed, this.settings.batchSize),
      );
      if (hit) return hit;
    }
    return null;
  }

  async generate(plan: GenerationPlan, chatId: string | null = null): Promise<GenerateOutcome | null> {
    this.error = null;
    this.errorReason = null;
    this.notice = null;
    if (this.linkRequest) {
      this.fail(
        'config',
        `First answer whether to use the endpoints from the link (${this.linkRequest.hosts.join(', ')}).`,
      );
      return null;
    }
    const snapshot = structuredClone($state.snapshot(plan)) as GenerationPlan;
    const hit = await this.cached(snapshot);
    if (hit) {
      this.notice = 'Served from the cache: this plan was already generated on this endpoint with this seed.';
      return { result: hit, fromCache: true };
    }
    const refusal = await safeMode.refusePlan(snapshot);
    if (refusal) {
      this.fail('safety', refusal);
      return null;
    }
    if (browserIsOffline()) {
      this.fail('offline', OFFLINE_MESSAGE);
      return null;
    }
    const job: RunningJob = { id: this.nextJob++, plan: snapshot, progress: null, controller: new AbortController() };
    this.running = [...this.running, job];
    const started = performance.now();
    try {
      const out = await this.poolNow().generate(
        snapshot,
        {
          batchSize: this.settings.batchSize,
          signal: job.controller.signal,
          onProgress: (p) => {
            this.running = this.running.map((r) => (r.id === job.id ? { ...r, progress: p } : r));
          },
        },
        await this.endpointsWithModel(snapshot),
      );
      const t = performance.now();
      const endpoint = this.settings.endpoints.find((e) => e.baseUrl === out.endpoint.url) ?? {
        kind: out.endpoint.kind,
        baseUrl: out.endpoint.url,
      };
      const record: ResultRecord = {
        id: newId(),
        created: Date.now(),
        chat_id: chatId,
        job_key: jobKey(snapshot, endpoint, snapshot.arguments.seed, this.settings.batchSize),
        plan: snapshot,
        endpoint: { kind: out.endpoint.kind, url: out.endpoint.url },
        images: out.images.map((img) => ({
          blob: new Blob([embedParameters(img.png, formatParameters(snapshot, img.seed)) as Uint8Array<ArrayBuffer>], {
            type: 'image/png',
          }),
          width: img.width,
          height: img.height,
          seed: img.seed,
        })),
        timings: { ...out.timings, client_total: performance.now() - started, store_prepare: performance.now() - t },
        scores: {},
      };
      const db = await openAppDb();
      await guardQuota('the generated images', () => db.put('results', record));
      this.results = [record, ...this.results];
      return { result: record, fromCache: false };
    } catch (e) {
      // A connection lost mid-job surfaces as a network error: say what happened, not "the server refused".
      if (browserIsOffline() && !(e instanceof Error && e.name === 'StorageFullError'))
        this.fail('offline', OFFLINE_MESSAGE);
      else if (e instanceof EndpointError) this.fail(e.reason, e.message);
      else this.fail(e instanceof Error && e.name === 'StorageFullError' ? 'storage' : 'error', (e as Error).message);
      return null;
    } finally {
      this.running = this.running.filter((r) => r.id !== job.id);
    }
  }

  /** Kiosk: the visitor is gone; their running jobs stop and nothing of theirs stays in memory. */
  async forgetVisitor(): Promise<void> {
    await this.cancel();
    this.results = [];
    this.error = null;
    this.errorReason = null;
    this.notice = null;
  }

  async cancel(): Promise<void> {
    for (const r of this.running) r.controller.abort();
    await this.pool?.cancel();
  }

  async deleteResult(id: string): Promise<void> {
    const db = await openAppDb();
    await db.delete('results', id);
    this.results = this.results.filter((r) => r.id !== id);
  }

  /** This page's queue per endpoint: jobs running now, finished and failed since the settings were loaded. */
  endpointLoad(): { url: string; busy: number; completed: number; failed: number }[] {
    const members = this.pool?.state ?? [];
    return this.settings.endpoints.map((e, i) => ({
      url: e.baseUrl,
      busy: members[i]?.busy ?? 0,
      completed: members[i]?.completed ?? 0,
      failed: members[i]?.failed ?? 0,
    }));
  }

  async testConnection(config: EndpointConfig): Promise<ConnectionReport> {
    return createEndpointClient($state.snapshot(config) as EndpointConfig).testConnection();
  }

  /**
   * Installed models across every configured endpoint: a model installed on several counts once
   * (matched like the catalog matches, by kind and AutoV2 hash or file name), listing where it is.
   */
  async installedModels(): Promise<InstalledModel[]> {
    const lists = await Promise.all(
      this.settings.endpoints.map((c) =>
        createEndpointClient($state.snapshot(c) as EndpointConfig).listInstalledModels(),
      ),
    );
    return mergeInstalledLists(lists.map((models, i) => ({ endpoint: this.settings.endpoints[i]!.baseUrl, models })));
  }

  /**
   * With several endpoints, a job goes only to those that have its model installed (any, when none
   * or no listing says so: the endpoint then names what it lacks).
   */
  private async endpointsWithModel(plan: GenerationPlan): Promise<EndpointFilter | undefined> {
    if (this.settings.endpoints.length < 2) return undefined;
    try {
      const where = findInstalled(plan.model, await this.installedModels())?.endpoints;
      return where && where.length > 0 ? (client) => where.includes(client.config.baseUrl) : undefined;
    } catch {
      return undefined;
    }
  }

  /** "Only models on my server": the catalog ids to pass as the pipeline's allowedModelIds, with the unmatched installed models. */
  async matchCatalog(catalog: readonly CatalogModel[]): Promise<InstalledMatch> {
    return matchInstalledModels(catalog, await this.installedModels());
  }
}

export const generation = new GenerationStore();
