/**
 * Share links: the chat's turns, the plan and the engine name encoded in the URL fragment (never sent
 * to a server), deflated and base64url-encoded. No keys and no images go in; a link opens read-only.
 */
import { jsonToPlanDocument, PlanDocumentError, planToJson, type PlanDocument } from './json.ts';

export const SHARE_PARAM = 'share';

async function pipeThrough(bytes: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const out = new Blob([bytes as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(out).arrayBuffer());
}

function toBase64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** The stage explanations a share link carries (text only, shown as text). */
export interface SharedExplanation {
  prompt: string;
  model: string;
  arguments: string;
}

export type SharedPlan = Pick<PlanDocument, 'messages' | 'plan' | 'engine'> & { explanation?: SharedExplanation };

function parseExplanation(v: unknown): SharedExplanation | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const e = v as Record<string, unknown>;
  const { prompt, model, arguments: args } = e;
  if (typeof prompt !== 'string' || typeof model !== 'string' || typeof args !== 'string')
    throw new PlanDocumentError('explanation: must hold prompt, model and arguments text');
  return { prompt, model, arguments: args };
}

/** The fragment value for a shared plan. */
export async function encodeShare(shared: SharedPlan): Promise<string> {
  const base = JSON.parse(
    planToJson({ messages: shared.messages, plan: shared.plan, engine: shared.engine }),
  ) as Record<string, unknown>;
  const json = JSON.stringify(shared.explanation ? { ...base, explanation: shared.explanation } : base);
  return toBase64Url(await pipeThrough(new TextEncoder().encode(json), new CompressionStream('deflate-raw')));
}

/** Reads a fragment value back; throws PlanDocumentError (or a decoding error) on anything else. */
export async function decodeShare(value: string): Promise<SharedPlan> {
  const json = new TextDecoder().decode(
    await pipeThrough(fromBase64Url(value), new DecompressionStream('deflate-raw')),
  );
  const { messages, plan, engine } = jsonToPlanDocument(json);
  const explanation = parseExplanation((JSON.parse(json) as Record<string, unknown>)['explanation']);
  return explanation ? { messages, plan, engine, explanation } : { messages, plan, engine };
}

/** A full link to the app at `base` that opens the shared plan read-only. */
export async function shareUrl(base: string, shared: SharedPlan): Promise<string> {
  const url = new URL(base);
  url.search = '';
  url.hash = `${SHARE_PARAM}=${await encodeShare(shared)}`;
  return url.href;
}

/** The share value in a location hash ("#share=…"), or null. */
export function shareValueOf(hash: string): string | null {
  const value = new URLSearchParams(hash.replace(/^#/, '')).get(SHARE_PARAM);
  return value && value.length > 0 ? value : null;
}
