/**
 * The tiny LLaVA fixture (scripts/fixtures/build_vlm_fixture.py) through @huggingface/transformers on
 * onnxruntime-node, with the library's own LlavaProcessor: the greedy tokens must be torch's, and the
 * two reference images must lead to different continuations (the image reaches the decoder).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AutoModelForImageTextToText,
  AutoProcessor,
  env,
  RawImage,
  type Tensor,
  type PreTrainedModel,
  type Processor,
} from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VlmReference } from './vlm-reference.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures');

const reference = JSON.parse(readFileSync(path.join(fixtures, 'vlm-tiny/reference.json'), 'utf8')) as VlmReference;

describe('tiny LLaVA fixture through transformers.js (onnxruntime-node)', () => {
  let processor: Processor;
  let model: PreTrainedModel;

  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = fixtures + path.sep;
    processor = await AutoProcessor.from_pretrained('vlm-tiny');
    model = await AutoModelForImageTextToText.from_pretrained('vlm-tiny', { device: 'cpu', dtype: 'fp32' });
  });
  afterAll(async () => {
    await model?.dispose();
  });

  it('loads as LlavaForConditionalGeneration with a vision encoder session', () => {
    expect(model.constructor.name).toBe('LlavaForConditionalGeneration');
    expect(Object.keys(model.sessions).sort()).toEqual(['decoder_model_merged', 'embed_tokens', 'vision_encoder']);
  });

  for (const [i, expected] of reference.images.entries()) {
    it(`reproduces torch's greedy tokens for image ${i + 1} (${path.basename(expected.file)})`, async () => {
      const image = await RawImage.read(path.join(root, expected.file));
      const inputs = (await processor(image, reference.prompt)) as Record<string, Tensor>;
      expect(inputs.pixel_values!.dims).toEqual([1, 3, 32, 32]);
      expect(Array.from(inputs.input_ids!.data as BigInt64Array, Number)).toEqual(reference.input_ids);

      const features = (await model.encode_image({ pixel_values: inputs.pixel_values })) as Tensor;
      expect(features.dims).toEqual([1, reference.image_tokens, 64]);
      const firstRow = Array.from((features.data as Float32Array).subarray(0, 64));
      firstRow.forEach((v, j) => expect(v).toBeCloseTo(expected.image_features_first_row[j]!, 4));

      const output = (await model.generate({
        ...inputs,
        max_new_tokens: reference.max_new_tokens,
        do_sample: false,
      })) as Tensor;
      const ids = Array.from(output.data as BigInt64Array, Number).slice(reference.input_ids.length);
      expect(ids).toEqual(expected.greedy_ids);
    });
  }

  it('the two images give different continuations', () => {
    expect(reference.images[0]!.greedy_ids).not.toEqual(reference.images[1]!.greedy_ids);
  });
});
