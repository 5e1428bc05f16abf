/**
 * A language model that can also read a reference image (a vision-language pack). The image goes
 * through the vision encoder once; the session it yields places the image features over the image
 * token wherever that token appears in the text it is fed, so the engine only writes the token into
 * the user's message.
 */
import type { ReferenceImage } from '../../chat.ts';
import type { LlmSession } from './session.ts';

export interface ImageConditionedSession extends LlmSession {
  /** The text that marks where the image goes in a message. */
  readonly imageToken: string;
  /**
   * How many feature rows the image takes in the sequence: the image token expands to this many image
   * tokens (LLaVA), or to the processor's grid of tile markers holding this many (Idefics3).
   */
  readonly imageTokenCount: number;
}

export interface VisionLlmSession extends LlmSession {
  /** The text that marks where the image goes in a message, e.g. "<image>". */
  readonly imageToken: string;
  /** Runs the vision encoder on the image; the returned session feeds its features at the image token. */
  withImage(image: ReferenceImage, signal?: AbortSignal): Promise<ImageConditionedSession>;
}

export function readsImages(session: LlmSession): session is VisionLlmSession {
  return (
    typeof (session as Partial<VisionLlmSession>).withImage === 'function' &&
    typeof (session as Partial<VisionLlmSession>).imageToken === 'string'
  );
}

export class ImageInputError extends Error {
  override name = 'ImageInputError';
}
