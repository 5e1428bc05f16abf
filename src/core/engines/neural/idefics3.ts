/**
 * Where an Idefics3 model (SmolVLM) reads an image in the text. Its image processor cuts the image into
 * rows x cols tiles plus the whole image resized (the global image), and its processor writes, in place of
 * each image token, a grid of tile markers each followed by image_seq_len image tokens (one per feature row
 * the vision encoder gives for that tile), then the global image's. This is transformers.js's
 * Idefics3Processor rule (src/models/idefics3/processing_idefics3.js, as in Python transformers).
 */

export interface Idefics3ImageTokens {
  /** The token the features replace, "<image>". */
  image: string;
  /** Marks the start and end of each tile, "<fake_token_around_image>". */
  aroundImage: string;
  /** Marks the global image, "<global-img>". */
  globalImage: string;
  /** Feature rows per tile (processor_config.json's image_seq_len). */
  imageSeqLen: number;
}

/** rows x cols tiles; 0 x 0 when the image was not split (only the global image). */
export interface ImageGrid {
  rows: number;
  cols: number;
}

/** The text that stands for one image cut into `grid` tiles. */
export function idefics3ImagePrompt(grid: ImageGrid, tokens: Idefics3ImageTokens): string {
  const features = tokens.image.repeat(tokens.imageSeqLen);
  const global = `${tokens.aroundImage}${tokens.globalImage}${features}${tokens.aroundImage}`;
  if (grid.rows === 0 && grid.cols === 0) return global;
  let text = '';
  for (let r = 1; r <= grid.rows; r++) {
    for (let c = 1; c <= grid.cols; c++) text += `${tokens.aroundImage}<row_${r}_col_${c}>${features}`;
    text += '\n';
  }
  return `${text}\n${global}`;
}

/** How many feature rows the image prompt takes: image_seq_len per tile and for the global image. */
export function idefics3FeatureRows(grid: ImageGrid, imageSeqLen: number): number {
  return (grid.rows * grid.cols + 1) * imageSeqLen;
}
