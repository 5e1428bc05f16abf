/** The reference outputs scripts/fixtures build a tiny vision-language model's fixture with (vlm-tiny/reference.json). */
export interface VlmReference {
  image_token_id: number;
  image_tokens: number;
  max_new_tokens: number;
  prompt: string;
  input_ids: number[];
  images: { file: string; greedy_ids: number[]; image_features_first_row: number[] }[];
}
