/**
 * Chat input: one message, a message with reference images, or several turns. Later turns refine or
 * override earlier ones; `mergeTurns` turns a history into the single request the stages work from.
 */

export interface ReferenceImage {
  /** A data: URL or a path / URL the caller can resolve. */
  source: string;
  /** Optional MIME type when known (image/png, image/jpeg, ...). */
  mime?: string;
}

export interface ChatInput {
  /** User messages in order, oldest first. */
  messages: string[];
  images: ReferenceImage[];
}

export type InputType = 'single' | 'multimodal' | 'history';

export function inputTypeOf(input: ChatInput): InputType {
  if (input.images.length > 0) return 'multimodal';
  return input.messages.length > 1 ? 'history' : 'single';
}

export class ChatInputError extends Error {
  override name = 'ChatInputError';
}

/** Largest reference image accepted, in bytes of the decoded file. */
export const MAX_REFERENCE_IMAGE_BYTES = 10 * 1024 * 1024;

/** Size in bytes of a data: URL's payload, or null for other sources. */
export function dataUrlBytes(source: string): number | null {
  const match = /^data:([^,]*?)(;base64)?,/.exec(source);
  if (!match) return null;
  const payload = source.length - match[0].length;
  return match[2] ? Math.floor((payload * 3) / 4) : payload;
}

/** Longest chat the stages take: far beyond any prompt, short enough that a pasted file cannot become one. */
export const CHAT_LENGTH_LIMITS = { messageChars: 4000, chatChars: 16000 } as const;

/** Throws a ChatInputError saying which message is too long, or that the whole chat is. */
export function checkChatLength(messages: readonly string[]): void {
  const n = (x: number) => x.toLocaleString('en');
  const { messageChars, chatChars } = CHAT_LENGTH_LIMITS;
  for (const [i, m] of messages.entries()) {
    if (m.length > messageChars)
      throw new ChatInputError(
        `Message ${i + 1} is ${n(m.length)} characters long; the limit is ${n(messageChars)}. Shorten it to what you would like to see.`,
      );
  }
  const total = messages.reduce((sum, m) => sum + m.length, 0);
  if (total > chatChars)
    throw new ChatInputError(
      `The chat is ${n(total)} characters long; the limit is ${n(chatChars)}. Start a new chat with the essentials.`,
    );
}

export function validateChatInput(input: ChatInput): ChatInput {
  const messages = input.messages.map((m) => m.trim()).filter((m) => m.length > 0);
  if (messages.length === 0) throw new ChatInputError('The chat is empty: write what you would like to see.');
  checkChatLength(messages);
  for (const [i, image] of input.images.entries()) {
    const bytes = dataUrlBytes(image.source);
    if (bytes !== null && bytes > MAX_REFERENCE_IMAGE_BYTES) {
      throw new ChatInputError(
        `Reference image ${i + 1} is ${(bytes / 1048576).toFixed(1)} MB; the limit is ${MAX_REFERENCE_IMAGE_BYTES / 1048576} MB.`,
      );
    }
    if (image.source.startsWith('data:') && !/^data:image\//.test(image.source)) {
      throw new ChatInputError(`Reference image ${i + 1} is not an image (${image.source.slice(5, 30)}...).`);
    }
  }
  return { messages, images: input.images };
}

/** Phrases with which a turn says it replaces something said before rather than adding to it. */
const OVERRIDE_CUES = /\b(instead|actually|rather|change (it|that|the)|make it|switch (it|to)|no,|not a|replace)\b/i;

export interface MergedRequest {
  /** The whole request as one text, earlier turns first. */
  text: string;
  /** The latest turn, which wins over earlier ones where they disagree. */
  latest: string;
  /** Turns in order, each with whether it asked to override something before it. */
  turns: { text: string; overrides: boolean }[];
}

/**
 * Merges the turns of a chat. Every turn's content stays (earlier turns carry the subject, later ones
 * details); a turn that says "instead" / "actually" / "make it ..." is marked as an override so that
 * stages weigh it above the turns before it.
 */
export function mergeTurns(messages: readonly string[]): MergedRequest {
  const turns = messages.map((text, i) => ({ text: text.trim(), overrides: i > 0 && OVERRIDE_CUES.test(text) }));
  return {
    text: turns.map((t) => t.text).join('\n'),
    latest: turns.at(-1)?.text ?? '',
    turns,
  };
}
