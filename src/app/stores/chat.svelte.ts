/**
 * Chat state: the past chats (IndexedDB, restored on reload), the current chat's turns and reference
 * images, the stage results as they arrive from the engine worker, and the plan the user may edit.
 */
import type { ChatInput, ReferenceImage } from '../../core/chat.ts';
import { MAX_REFERENCE_IMAGE_BYTES, checkChatLength } from '../../core/chat.ts';
import type { ArgumentsResult, ModelResult, PromptResult } from '../../core/engines/engine.ts';
import type { PlanResult } from '../../core/pipeline.ts';
import type { GenerationPlan } from '../../core/plan.ts';
import { scrubPrompt, withSafeNegative } from '../../core/safety.ts';
import type { PlanEvent, PromptDraft, Refit } from '../../../workers/engine-api.ts';
import { guardQuota, openAppDb, type ChatRecord } from '../../storage/db.ts';
import { Comlink, engineWorker } from '../engine-client.ts';
import { announce, onAnnouncement } from '../sync.ts';
import { engineStatus } from './engine.svelte.ts';
import { generation } from './generation.svelte.ts';
import { safeMode } from './safe-mode.svelte.ts';

export interface StageView<T> {
  result: T;
  ms: number;
  /** Wall time from Send to this stage's result on the page (null for a plan shown from History). */
  sinceSend: number | null;
}

function newId(): string {
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

function titleOf(messages: readonly string[]): string {
  const first = messages[0] ?? '';
  return first.length > 60 ? `${first.slice(0, 57)}...` : first;
}

/** Reads a picked file as a data: URL, refusing what is not an image or is too large. */
export async function readReferenceImage(file: File): Promise<ReferenceImage> {
  if (!file.type.startsWith('image/'))
    throw new Error(`${file.name} is not an image (${file.type || 'unknown type'}).`);
  if (file.size > MAX_REFERENCE_IMAGE_BYTES) {
    throw new Error(
      `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the limit is ${MAX_REFERENCE_IMAGE_BYTES / 1048576} MB.`,
    );
  }
  const source = await new Promise<string>((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
  return { source, mime: file.type };
}

class ChatStore {
  chats = $state<ChatRecord[]>([]);
  current = $state<ChatRecord | null>(null);
  pendingImages = $state<ReferenceImage[]>([]);
  prompt = $state<StageView<PromptResult> | null>(null);
  model = $state<StageView<ModelResult> | null>(null);
  arguments = $state<StageView<ArgumentsResult> | null>(null);
  /** Stage 1's text while the neural engine writes it (null once the prompt stage is done). */
  promptDraft = $state<PromptDraft | null>(null);
  /** The engine that made the plan shown (or is making it). */
  engine = $state<{ name: string; version: string } | null>(null);
  /** Which engine ran each stage, when the plan combined several (hybrid planning). */
  stageEngines = $state<PlanResult['stage_engines'] | null>(null);
  /** The plan as the user edited it; generation uses this. */
  plan = $state<GenerationPlan | null>(null);
  edited = $state(false);
  running = $state(false);
  cached = $state(false);
  error = $state<string | null>(null);
  loaded = $state(false);
  /** Said when the choice was restricted to the endpoint's installed models, or could not be. */
  installedNote = $state<string | null>(null);
  /** What safe mode did to this plan (models excluded, prompt terms removed), for the operator. */
  safetyNote = $state<string | null>(null);
  private requestId: string | null = null;
  /** Ids of the chats known to be in IndexedDB: one of them missing at write time was deleted elsewhere. */
  private stored = new Set<string>();
  /** When Send was pressed (performance.now()), for the stages' wall times. */
  private sentAt = 0;

  async load(): Promise<void> {
    const db = await openAppDb();
    const chats = await db.getAllFromIndex('chats', 'updated');
    this.chats = chats.reverse();
    for (const c of chats) this.stored.add(c.id);
    onAnnouncement((message) => {
      if (message.type === 'chats') void this.followOtherTab();
    });
    const latest = this.chats[0];
    if (latest) this.show(latest);
    this.loaded = true;
  }

  /** Kiosk: the visitor is gone; nothing of theirs stays in memory (the station clears storage). */
  forgetVisitor(): void {
    this.newChat();
    this.chats = [];
    this.installedNote = null;
    this.safetyNote = null;
  }

  newChat(): void {
    this.cancel();
    this.current = null;
    this.pendingImages = [];
    this.clearStages();
    this.error = null;
  }

  select(id: string): void {
    const chat = this.chats.find((c) => c.id === id);
    if (chat) {
      this.cancel();
      this.show(chat);
    }
  }

  private show(chat: ChatRecord): void {
    this.current = chat;
    this.error = null;
    this.clearStages();
    if (chat.result) this.showResult(chat.result, chat.plan_edit ?? null);
  }

  private clearStages(): void {
    this.prompt = null;
    this.model = null;
    this.arguments = null;
    this.plan = null;
    this.edited = false;
    this.cached = false;
    this.promptDraft = null;
    this.engine = null;
    this.stageEngines = null;
  }

  private showResult(result: PlanResult, edit: GenerationPlan | null): void {
    const ms = (i: number) => result.timings[i]?.ms ?? 0;
    // A stage whose event already showed it (the same result, with its wall time from Send) is not drawn again.
    this.prompt ??= { result: result.prompt, ms: ms(0), sinceSend: null };
    this.model ??= { result: result.model, ms: ms(1), sinceSend: null };
    this.arguments ??= { result: result.arguments, ms: ms(2), sinceSend: null };
    this.plan = structuredClone($state.snapshot(edit ?? result.plan)) as GenerationPlan;
    this.edited = edit !== null;
    this.engine = result.engine;
    this.stageEngines = result.stage_engines ?? null;
  }

  private onEvent(event: PlanEvent): void {
    const sinceSend = performance.now() - this.sentAt;
    if (event.type === 'prompt-draft') {
      if (!this.prompt) this.promptDraft = event.draft;
    } else if (event.type === 'prompt') {
      this.prompt = { result: event.result, ms: event.ms, sinceSend };
      this.promptDraft = null;
    } else if (event.type === 'model') this.model = { result: event.result, ms: event.ms, sinceSend };
    else if (event.type === 'arguments') this.arguments = { result: event.result, ms: event.ms, sinceSend };
  }

  async addImage(file: File): Promise<void> {
    try {
      this.pendingImages = [...this.pendingImages, await readReferenceImage(file)];
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  removeImage(index: number): void {
    this.pendingImages = this.pendingImages.filter((_, i) => i !== index);
  }

  /** Adds a turn to the current chat (or starts one) and plans the whole chat again; false when the turn was refused. */
  async send(text: string): Promise<boolean> {
    const message = text.trim();
    if (message === '' || this.running) return false;
    // Safe mode refuses before anything is stored or planned.
    const refusal = safeMode.refuseRequest([...(this.current?.input.messages ?? []), message]);
    if (refusal) {
      this.error = refusal;
      return false;
    }
    this.sentAt = performance.now();
    const now = Date.now();
    const base = this.current ? $state.snapshot(this.current) : null;
    const input: ChatInput = {
      messages: [...(base?.input.messages ?? []), message],
      images: [...(base?.input.images ?? []), ...$state.snapshot(this.pendingImages)],
    };
    try {
      checkChatLength(input.messages);
    } catch (e) {
      this.error = (e as Error).message;
      return false;
    }
    const chat: ChatRecord = {
      id: base?.id ?? newId(),
      created: base?.created ?? now,
      updated: now,
      title: titleOf(input.messages),
      input,
      result: null,
      plan_key: null,
    };
    this.current = chat;
    this.pendingImages = [];
    this.clearStages();
    this.error = null;
    // Planning starts at once; the chat (messages, no plan yet) is written alongside, so a reload
    // mid-plan still finds it and offers "Plan again". The plan is saved after this write.
    await this.run(chat, this.save(chat));
    return true;
  }

  /**
   * The catalog ids stage 2 may choose: with "Only models on my server", those installed on any
   * configured endpoint (a model on two endpoints counts once); with safe mode, those it does not
   * exclude; both when both apply. Undefined: every model competes. The notes say why.
   */
  private async allowedModels(): Promise<number[] | undefined> {
    this.installedNote = null;
    this.safetyNote = null;
    let allowed: number[] | undefined;
    if (generation.settings.onlyInstalledModels) allowed = await this.installedModelIds();
    const screen = await safeMode.allowedModels();
    if (screen) {
      const safe = new Set(screen.allowedIds);
      // Plain numbers: the store's state proxy cannot be posted to the worker.
      allowed = allowed ? allowed.filter((id) => safe.has(id)) : [...screen.allowedIds];
      const removed = screen.excluded.length;
      this.safetyNote = removed
        ? `Safe mode: ${removed} catalog model${removed === 1 ? '' : 's'} excluded (NSFW-leaning tags or names, a real person's likeness${safeMode.policy.allowedModels ? ', not in the allowlist' : ''}).`
        : 'Safe mode: no catalog model needed excluding.';
    }
    return allowed;
  }

  private async installedModelIds(): Promise<number[] | undefined> {
    const endpoints = generation.settings.endpoints.length;
    const where = endpoints > 1 ? `the ${endpoints} endpoints` : 'the endpoint';
    const whose = endpoints > 1 ? `the ${endpoints} endpoints'` : "the endpoint's";
    try {
      const match = await engineWorker().matchInstalled(await generation.installedModels());
      const unmatched = match.unmatched.map((m) => m.name);
      if (match.allowedModelIds.size === 0) {
        this.installedNote = `None of ${whose} models is in the catalog (${unmatched.join(', ') || 'none listed'}); every catalog model competes.`;
        return undefined;
      }
      this.installedNote =
        `Only the ${match.allowedModelIds.size} catalog models installed on ${where} compete.` +
        (unmatched.length ? ` Installed but not in the catalog: ${unmatched.join(', ')}.` : '');
      return [...match.allowedModelIds];
    } catch (e) {
      this.installedNote = `Could not list the models of ${where} (${(e as Error).message}); every catalog model competes.`;
      return undefined;
    }
  }

  /** Plans `chat`; `stored` is the chat's own write still under way (false: refused), which the plan's write follows. */
  private async run(chat: ChatRecord, stored: Promise<boolean> = Promise.resolve(true)): Promise<void> {
    const requestId = newId();
    this.requestId = requestId;
    this.running = true;
    this.engine = engineStatus.status?.engine ?? null;
    this.stageEngines = null;
    try {
      if (!generation.loaded) await generation.load();
      const allowedModelIds = await this.allowedModels();
      const outcome = await engineWorker().plan(
        requestId,
        chat.input,
        allowedModelIds ? { allowedModelIds } : {},
        Comlink.proxy((event: PlanEvent) => {
          if (this.requestId === requestId) this.onEvent(event);
        }),
      );
      if (this.requestId !== requestId) return;
      if (safeMode.on) this.makeSafe(outcome.result.plan);
      this.cached = outcome.cached;
      const done: ChatRecord = { ...chat, result: outcome.result, plan_key: outcome.cacheKey, updated: Date.now() };
      this.current = done;
      this.showResult(outcome.result, null);
      // A chat the first write found deleted in another tab stays deleted.
      if (await stored) await this.save(done);
    } catch (e) {
      if (this.requestId !== requestId) return;
      const err = e as Error;
      this.error =
        err.name === 'AbortError' ? 'Cancelled. Your messages are kept; send again to plan them.' : err.message;
    } finally {
      if (this.requestId === requestId) {
        this.running = false;
        this.requestId = null;
      }
      void engineStatus.refresh();
    }
  }

  /** True when the chat shown has messages but no plan: planning was cut off (a reload, a closed tab, an error). */
  get planMissing(): boolean {
    return (
      !this.running && this.current !== null && this.current.result === null && this.current.input.messages.length > 0
    );
  }

  /** Plans the current chat again (after a reload interrupted its plan). */
  async planAgain(): Promise<void> {
    if (!this.current || this.running) return;
    this.error = null;
    await this.run($state.snapshot(this.current) as ChatRecord);
  }

  /**
   * Safe mode on a finished plan: the prompt loses the parts with blocked terms (an engine can borrow
   * them from neighbouring demonstrations for a harmless request) and the safe negative prompt is appended.
   */
  private makeSafe(plan: GenerationPlan): void {
    const scrubbed = scrubPrompt(plan.prompt, safeMode.policy);
    plan.prompt = scrubbed.prompt;
    plan.negative_prompt = withSafeNegative(plan.negative_prompt, safeMode.policy);
    if (scrubbed.removed.length)
      this.safetyNote = `${this.safetyNote ?? 'Safe mode:'} Removed from the prompt: ${scrubbed.removed.join(', ')}.`;
  }

  cancel(): void {
    if (this.requestId) {
      void engineWorker().cancel(this.requestId);
      this.requestId = null;
      this.running = false;
      this.promptDraft = null;
    }
  }

  /** Stores the user's edits of the plan with the chat. */
  async saveEdit(plan: GenerationPlan): Promise<void> {
    if (!this.current) return;
    this.plan = plan;
    this.edited = true;
    const updated: ChatRecord = {
      ...$state.snapshot(this.current),
      plan_edit: $state.snapshot(plan) as GenerationPlan,
      updated: Date.now(),
    };
    this.current = updated;
    await this.save(updated);
  }

  /**
   * What-if kept: the plan re-fitted to another model replaces the stage 2 and 3 results shown (and
   * stored with the chat), and the new plan is the chat's edited plan.
   */
  async saveRefit(refit: Refit): Promise<void> {
    if (!this.current?.result) return;
    const result: PlanResult = {
      ...($state.snapshot(this.current.result) as PlanResult),
      model: refit.model,
      arguments: refit.arguments,
    };
    this.model = { result: refit.model, ms: 0, sinceSend: null };
    this.arguments = { result: refit.arguments, ms: 0, sinceSend: null };
    this.current = { ...$state.snapshot(this.current), result };
    await this.saveEdit(refit.plan);
  }

  async deleteChat(id: string): Promise<void> {
    const db = await openAppDb();
    await db.delete('chats', id);
    this.stored.delete(id);
    this.chats = this.chats.filter((c) => c.id !== id);
    if (this.current?.id === id) this.newChat();
    announce({ type: 'chats', deleted: id });
  }

  /** Another tab changed the chats: the list follows, and a chat deleted there leaves this tab too. */
  private async followOtherTab(): Promise<void> {
    const db = await openAppDb();
    const chats = (await db.getAllFromIndex('chats', 'updated')).reverse();
    this.stored = new Set(chats.map((c) => c.id));
    this.chats = chats;
    if (this.current && !this.stored.has(this.current.id) && !this.running) {
      this.newChat();
      this.error = 'The chat shown here was deleted in another tab.';
    }
  }

  /**
   * Stores a chat, never bringing back one that was deleted: a chat this tab knows was stored but is
   * gone now was deleted (in another tab), so the write is refused (false), checked in the write's transaction.
   */
  private async save(chat: ChatRecord): Promise<boolean> {
    const plain = $state.snapshot(chat) as ChatRecord;
    try {
      const db = await openAppDb();
      const tx = db.transaction('chats', 'readwrite');
      const deleted = this.stored.has(plain.id) && (await tx.store.get(plain.id)) === undefined;
      if (deleted) {
        await tx.done;
        this.stored.delete(plain.id);
        this.chats = this.chats.filter((c) => c.id !== plain.id);
        if (this.current?.id === plain.id) this.newChat();
        this.error = 'This chat was deleted in another tab, so it was not saved again. Start a new chat.';
        return false;
      }
      await guardQuota('this chat', async () => {
        await tx.store.put(plain);
        await tx.done;
      });
      this.stored.add(plain.id);
      this.chats = [plain, ...this.chats.filter((c) => c.id !== plain.id)];
      announce({ type: 'chats' });
    } catch (e) {
      this.error = (e as Error).message;
    }
    return true;
  }
}

export const chatStore = new ChatStore();
