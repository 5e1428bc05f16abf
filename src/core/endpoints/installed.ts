/**
 * Matching community models to what a server has installed: by AutoV2 hash when both sides know it,
 * else by file name (case- and extension-insensitive, directories ignored).
 */
import type { CatalogModel } from '../catalog/types.ts';
import type { PlannedModel } from '../plan.ts';
import type { InstalledModel, InstalledModelKind } from './types.ts';

const MODEL_EXTENSIONS = /\.(safetensors|ckpt|pt|pth|bin|sft|gguf)$/i;

/** "models/Stable-diffusion/Realistic_Vision.safetensors" -> "realistic_vision". */
export function fileStem(file: string): string {
  const base = file.split(/[\\/]/).pop() ?? file;
  return base.replace(MODEL_EXTENSIONS, '').trim().toLowerCase();
}

/** A1111 titles end in "[abcdef1234]" (AutoV2) or, for old hashes, "[abcd1234]". */
export function hashFromTitle(title: string): string | null {
  const m = /\[([0-9a-f]{10})\]\s*$/i.exec(title);
  return m ? m[1]!.toLowerCase() : null;
}

export function normaliseHash(hash: string | null | undefined): string | null {
  if (!hash) return null;
  const h = hash.trim().toLowerCase();
  if (/^[0-9a-f]{64}$/.test(h)) return h.slice(0, 10);
  return /^[0-9a-f]{10}$/.test(h) ? h : null;
}

const kindOf = (type: PlannedModel['type']): InstalledModelKind => (type === 'LORA' ? 'lora' : 'checkpoint');

/** The installed model a catalog or plan model is, or null. */
export function findInstalled(
  model: Pick<PlannedModel, 'type' | 'file' | 'hash'>,
  installed: readonly InstalledModel[],
): InstalledModel | null {
  const kind = kindOf(model.type);
  const candidates = installed.filter((m) => m.kind === kind);
  const hash = normaliseHash(model.hash);
  if (hash) {
    const byHash = candidates.find((m) => m.hash === hash);
    if (byHash) return byHash;
  }
  const stem = fileStem(model.file);
  if (!stem) return null;
  return candidates.find((m) => fileStem(m.file) === stem) ?? null;
}

/**
 * One list from the installed models of several endpoints: a model on several endpoints (same kind,
 * and the same AutoV2 hash, or the same file name when a side lacks the hash) appears once, with
 * `endpoints` naming every endpoint that has it.
 */
export function mergeInstalledLists(
  lists: readonly { endpoint: string; models: readonly InstalledModel[] }[],
): InstalledModel[] {
  const merged: InstalledModel[] = [];
  const byHash = new Map<string, InstalledModel>();
  const byStem = new Map<string, InstalledModel>();
  for (const { endpoint, models } of lists) {
    for (const m of models) {
      const stemKey = `${m.kind}:${fileStem(m.file)}`;
      const hashed = m.hash ? byHash.get(`${m.kind}:${m.hash}`) : undefined;
      const stemmed = byStem.get(stemKey);
      // The same file name with two different known hashes is two models.
      const same = hashed ?? (stemmed && (!m.hash || !stemmed.hash) ? stemmed : undefined);
      if (same) {
        if (!same.endpoints!.includes(endpoint)) same.endpoints!.push(endpoint);
        if (!same.hash && m.hash) {
          same.hash = m.hash;
          byHash.set(`${m.kind}:${m.hash}`, same);
        }
        continue;
      }
      const entry: InstalledModel = { ...m, endpoints: [endpoint] };
      merged.push(entry);
      if (entry.hash) byHash.set(`${m.kind}:${entry.hash}`, entry);
      if (!byStem.has(stemKey)) byStem.set(stemKey, entry);
    }
  }
  return merged;
}

export interface InstalledMatch {
  /** Catalog ids installed on the server: what the pipeline's `allowedModelIds` takes. */
  allowedModelIds: Set<number>;
  /** Catalog id -> the installed model it matched. */
  matches: Map<number, InstalledModel>;
  /** Installed models no catalog model matched (shown so the user knows what the catalog lacks). */
  unmatched: InstalledModel[];
}

export function matchInstalledModels(
  catalog: readonly CatalogModel[],
  installed: readonly InstalledModel[],
): InstalledMatch {
  const byHash = new Map<string, InstalledModel>();
  const byStem = new Map<string, InstalledModel>();
  for (const m of installed) {
    if (m.hash) byHash.set(`${m.kind}:${m.hash}`, m);
    byStem.set(`${m.kind}:${fileStem(m.file)}`, m);
  }
  const allowedModelIds = new Set<number>();
  const matches = new Map<number, InstalledModel>();
  const used = new Set<InstalledModel>();
  for (const c of catalog) {
    const kind = kindOf(c.type);
    const hash = normaliseHash(c.hash);
    const hit = (hash ? byHash.get(`${kind}:${hash}`) : undefined) ?? byStem.get(`${kind}:${fileStem(c.file)}`);
    if (!hit) continue;
    allowedModelIds.add(c.id);
    matches.set(c.id, hit);
    used.add(hit);
  }
  return { allowedModelIds, matches, unmatched: installed.filter((m) => !used.has(m)) };
}

/**
 * The prompt a LoRA plan sends: its trigger words (those not already in it) and the
 * `<lora:name:weight>` tag A1111 reads, added after the plan's prompt.
 */
export function promptWithLora(prompt: string, loraName: string, triggerWords: readonly string[], weight = 1): string {
  return `${promptWithTriggerWords(prompt, triggerWords)} <lora:${loraName}:${weight}>`;
}

/** Trigger words that the plan's prompt does not already hold, appended (ComfyUI applies the LoRA in the graph). */
export function promptWithTriggerWords(prompt: string, triggerWords: readonly string[]): string {
  const lower = prompt.toLowerCase();
  const missing = triggerWords.map((w) => w.trim()).filter((w) => w && !lower.includes(w.toLowerCase()));
  return [prompt.trim(), ...missing].filter(Boolean).join(', ');
}
