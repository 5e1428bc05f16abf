/** The one error type every endpoint client throws, with a reason the UI can act on. */
import type { EndpointKind } from './types.ts';

export type EndpointErrorReason =
  | 'unreachable'
  | 'cors'
  | 'http'
  | 'auth'
  | 'timeout'
  | 'cancelled'
  | 'bad-reply'
  | 'too-large'
  | 'redirect'
  | 'missing-model'
  | 'unsupported'
  | 'generation-failed'
  | 'invalid-plan'
  | 'config';

export interface EndpointErrorDetails {
  kind?: EndpointKind;
  url?: string;
  status?: number;
  /** The server's own message (untrusted plain text, shortened). */
  serverMessage?: string;
  cause?: unknown;
}

export class EndpointError extends Error {
  override name = 'EndpointError';
  readonly reason: EndpointErrorReason;
  readonly kind: EndpointKind | undefined;
  readonly url: string | undefined;
  readonly status: number | undefined;
  readonly serverMessage: string | undefined;

  constructor(reason: EndpointErrorReason, message: string, details: EndpointErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.reason = reason;
    this.kind = details.kind;
    this.url = details.url;
    this.status = details.status;
    this.serverMessage = details.serverMessage;
  }
}

export function isEndpointError(e: unknown): e is EndpointError {
  return e instanceof EndpointError;
}

/** Untrusted server text made safe to show as plain text: control characters gone, length capped. */
export function cleanServerText(text: string, max = 600): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
  return flat.length > max ? flat.slice(0, max) + '…' : flat;
}

/** How to let this page's origin through, per server kind: shown for CORS and unreachable errors. */
export function corsAdvice(kind: EndpointKind, origin: string | null): string {
  const o = origin ?? '<this page’s origin>';
  switch (kind) {
    case 'a1111':
      return `Start AUTOMATIC1111/Forge with --api --cors-allow-origins=${o} (SD.Next: --cors-origins ${o}).`;
    case 'comfyui':
      return `Start ComfyUI with --enable-cors-header ${o}.`;
    case 'openai':
    case 'hf-inference':
      return `The server must answer with Access-Control-Allow-Origin for ${o}; otherwise put a proxy in front of it that does.`;
  }
}
