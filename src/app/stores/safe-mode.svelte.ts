/**
 * Safe mode (src/core/safety.ts): on in kiosk mode unless kiosk.json turns it off, a setting in
 * Settings otherwise. Holds the policy (kiosk.json may add blocked terms, an allowlist and its own
 * safe negative prompt) and which models of the active catalog it lets stage 2 choose.
 */
import {
  DEFAULT_SAFETY_POLICY,
  findBlockedTerms,
  refusalMessage,
  type SafetyPolicy,
  type SafetyScreen,
} from '../../core/safety.ts';
import type { GenerationPlan } from '../../core/plan.ts';
import { openAppDb } from '../../storage/db.ts';
import { engineWorker } from '../engine-client.ts';
import { engineStatus } from './engine.svelte.ts';

const SAFE_MODE_KEY = 'safe-mode';

class SafeModeStore {
  /** The user's choice in Settings (outside kiosk mode). */
  setting = $state(false);
  /** Set by a kiosk: true or false wins over the setting; null leaves it to the setting. */
  forced = $state<boolean | null>(null);
  policy = $state<SafetyPolicy>(DEFAULT_SAFETY_POLICY);
  /** What safe mode lets stage 2 choose in the active catalog, and what it excluded. */
  screen = $state<SafetyScreen | null>(null);
  private screenedFor: string | null = null;

  get on(): boolean {
    return this.forced ?? this.setting;
  }

  async load(): Promise<void> {
    try {
      const db = await openAppDb();
      this.setting = (await db.get('settings', SAFE_MODE_KEY))?.value === true;
    } catch {
      // Unreadable settings leave it off outside kiosk mode; a kiosk forces it regardless.
    }
  }

  configure(options: { forced: boolean | null; policy: SafetyPolicy }): void {
    this.forced = options.forced;
    this.policy = options.policy;
    this.screen = null;
  }

  async set(on: boolean): Promise<void> {
    this.setting = on;
    const db = await openAppDb();
    await db.put('settings', { key: SAFE_MODE_KEY, value: on });
  }

  /** The models stage 2 may choose (worked out once per catalog), or null when safe mode is off. */
  async allowedModels(): Promise<SafetyScreen | null> {
    if (!this.on) return null;
    const catalog = engineStatus.status?.catalog;
    const key = `${catalog?.source ?? ''}|${catalog?.models ?? 0}`;
    if (!this.screen || this.screenedFor !== key) {
      this.screen = await engineWorker().screenModels($state.snapshot(this.policy) as SafetyPolicy);
      this.screenedFor = key;
    }
    return this.screen;
  }

  /** A refusal for a chat's request, or null when it may be planned (always null with safe mode off). */
  refuseRequest(messages: readonly string[]): string | null {
    if (!this.on) return null;
    const found = findBlockedTerms(messages.join('\n'), this.policy);
    return found.length ? refusalMessage(found, 'request') : null;
  }

  /** A refusal for a plan about to be generated (its prompt, as possibly edited, and its model), or null. */
  async refusePlan(plan: GenerationPlan): Promise<string | null> {
    if (!this.on) return null;
    const found = findBlockedTerms(plan.prompt, this.policy);
    if (found.length) return refusalMessage(found, 'prompt');
    const screen = await this.allowedModels();
    const excluded = screen?.excluded.find((e) => e.id === plan.model.id);
    if (excluded)
      return `Safe mode does not allow the model "${plan.model.name}" (${excluded.evidence}); choose another model.`;
    return null;
  }
}

export const safeMode = new SafeModeStore();
