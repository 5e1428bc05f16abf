/**
 * Prompt tokenisation for the text towers, from the pack's tokenizer.json (Hugging Face `tokenizers` format, read
 * by @huggingface/tokenizers: CLIP's BPE and BLIP's BERT WordPiece load the same way as the fixtures' small ones).
 */
import { Tokenizer } from '@huggingface/tokenizers';
import type { TokenizerSettings } from './manifest.ts';

export interface PromptTokens {
  ids: number[];
  /** 1 for real tokens, 0 for padding. */
  mask: number[];
}

export class PromptTokenizer {
  private readonly tokenizer: Tokenizer;

  constructor(
    tokenizerJson: unknown,
    private readonly settings: TokenizerSettings,
    config: object = {},
  ) {
    if (typeof tokenizerJson !== 'object' || tokenizerJson === null || !('model' in tokenizerJson)) {
      throw new Error('tokenizer.json: expected a Hugging Face tokenizers file with a "model" entry');
    }
    // A WordLevel model is read by the library's legacy model, which takes the unknown token from the tokenizer
    // config, not from the model: without passing it on, every word outside the vocabulary became an undefined id.
    const model = (tokenizerJson as { model: unknown }).model;
    const unk =
      typeof model === 'object' && model !== null && 'unk_token' in model && typeof model.unk_token === 'string'
        ? model.unk_token
        : null;
    this.tokenizer = new Tokenizer(tokenizerJson, unk === null ? config : { unk_token: unk, ...config });
  }

  /**
   * Ids with the tokenizer's special tokens, truncated to max_length keeping the final (end) token — where CLIP and
   * BLIP read their pooled output from — then padded; ImageReward's first-token replacement applied.
   */
  encode(prompt: string): PromptTokens {
    const { maxLength, padId, firstTokenId } = this.settings;
    let ids = this.tokenizer.encode(prompt).ids;
    if (ids.length === 0) throw new Error('tokenizer produced no tokens (empty tokenizer template?)');
    if (ids.some((id) => id === undefined))
      throw new Error(`tokenizer has no id for a token of "${prompt}" and no unknown token`);
    if (ids.length > maxLength) ids = [...ids.slice(0, maxLength - 1), ids[ids.length - 1]!];
    if (firstTokenId !== null) ids = [firstTokenId, ...ids.slice(1)];
    const mask = ids.map(() => 1);
    while (ids.length < maxLength) {
      ids.push(padId);
      mask.push(0);
    }
    return { ids, mask };
  }
}
