/**
 * The public station: kiosk mode (from kiosk.json or "?kiosk=1" where allowed), the operator lock,
 * visitor sessions with "Start over" and the idle reset; it configures safe mode (safe-mode store).
 * What a visitor leaves (chats, plans, reference images, results) is cleared from the page and from
 * IndexedDB; the operator's catalogs, packs, heads and settings are never touched.
 */
import { policyFrom } from '../../core/safety.ts';
import {
  DEFAULT_STATION_CONFIG,
  idleCountdown,
  kioskModeOf,
  parseStationConfig,
  type StationConfig,
} from '../../core/station.ts';
import { openAppDb } from '../../storage/db.ts';
import { readKioskFile } from '../kiosk-file.ts';
import { chatStore } from './chat.svelte.ts';
import { generation } from './generation.svelte.ts';
import { safeMode } from './safe-mode.svelte.ts';

/** The object stores that hold a visitor's data; the rest (catalogs, heads, settings) is the operator's. */
const VISITOR_STORES = ['chats', 'plans', 'results'] as const;
const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'touchstart', 'wheel', 'input'] as const;

class StationStore {
  loaded = $state(false);
  config = $state<StationConfig>(structuredClone(DEFAULT_STATION_CONFIG));
  /** Kiosk mode: visitor sessions, operator pages locked. */
  kiosk = $state(false);
  /** The operator entered the PIN: Settings and Bench are open until "Lock" or an idle reset. */
  unlocked = $state(false);
  /** kiosk.json and URL problems of the station part, one line each. */
  problems = $state<string[]>([]);
  /** Seconds left before an idle visitor's session is cleared; null while none is due. */
  countdown = $state<number | null>(null);
  /** Counts visitors: the page's components start afresh when it changes. */
  visitor = $state(0);
  private lastActivity = Date.now();
  private timer: ReturnType<typeof setInterval> | null = null;

  get locked(): boolean {
    return this.kiosk && !this.unlocked;
  }

  /** Reads kiosk.json and the URL; in kiosk mode clears what an earlier visitor left before anything is shown. */
  async load(): Promise<void> {
    const problems: string[] = [];
    let config = structuredClone(DEFAULT_STATION_CONFIG);
    try {
      const parsed = parseStationConfig(await readKioskFile());
      config = parsed.config;
      problems.push(...parsed.problems.map((p) => `kiosk.json: ${p}`));
    } catch {
      // Unreadable JSON: the generation store reports it with the endpoint problems (shown once).
    }
    const mode = kioskModeOf(config, new URLSearchParams(location.search));
    problems.push(...mode.problems);
    this.config = config;
    this.kiosk = mode.kiosk;
    this.problems = problems;
    await safeMode.load();
    safeMode.configure({
      // Kiosk mode: on unless kiosk.json says "safeMode": false. Elsewhere kiosk.json may force it either way.
      forced: this.kiosk ? config.safeMode !== false : config.safeMode,
      policy: policyFrom({
        blockedTerms: config.blockedTerms,
        allowedModels: config.allowedModels,
        ...(config.safeNegativePrompt ? { safeNegativePrompt: config.safeNegativePrompt } : {}),
      }),
    });
    if (this.kiosk) {
      await this.clearVisitorData();
      this.startIdleWatch();
    }
    this.loaded = true;
  }

  unlock(pin: string): boolean {
    if (this.config.operatorPin === null || pin.trim() !== this.config.operatorPin) return false;
    this.unlocked = true;
    return true;
  }

  lock(): void {
    this.unlocked = false;
  }

  /** Ends this visitor's session: nothing of it stays on the page or in storage. */
  async startOver(): Promise<void> {
    this.countdown = null;
    this.unlocked = false;
    await this.clearVisitorData();
    this.visitor++;
    this.lastActivity = Date.now();
  }

  private async clearVisitorData(): Promise<void> {
    chatStore.forgetVisitor();
    await generation.forgetVisitor();
    const db = await openAppDb();
    const tx = db.transaction([...VISITOR_STORES], 'readwrite');
    await Promise.all([...VISITOR_STORES.map((name) => tx.objectStore(name).clear()), tx.done]);
  }

  /** Whether there is anything of a visitor to clear, or the operator pages are open. */
  private get hasSession(): boolean {
    return (
      this.unlocked ||
      chatStore.current !== null ||
      chatStore.chats.length > 0 ||
      chatStore.pendingImages.length > 0 ||
      generation.results.length > 0
    );
  }

  /** A touch, key or scroll: the visitor is still there. */
  activity(): void {
    this.lastActivity = Date.now();
    if (this.countdown !== null) this.countdown = null;
  }

  private startIdleWatch(): void {
    if (this.timer) return;
    for (const type of ACTIVITY_EVENTS) addEventListener(type, () => this.activity(), { capture: true, passive: true });
    this.timer = setInterval(() => this.tick(), 250);
  }

  private tick(): void {
    // A plan or an image on its way counts as the visitor still being there.
    if (chatStore.running || generation.running.length > 0 || !this.hasSession) {
      this.lastActivity = Date.now();
      this.countdown = null;
      return;
    }
    const left = idleCountdown(Date.now() - this.lastActivity, this.config.idleResetSeconds);
    if (left === 0) void this.startOver();
    else this.countdown = left;
  }
}

export const station = new StationStore();
