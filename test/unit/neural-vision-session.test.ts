/**
 * The neural engine's vision session on the tiny LLaVA fixture (onnxruntime-node): a reference image
 * given as a data: URL goes through the vision encoder and greedy decoding with the key/value cache
 * reproduces torch's tokens for each image; without an image the session is a plain text session.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateGreedy } from '../../src/core/engines/neural/session.ts';
import { TransformersVisionSession } from '../../src/core/engines/neural/transformers-vision-session.ts';
import { ImageInputError, readsImages } from '../../src/core/engines/neural/vision-session.ts';
import type { VlmReference } from './neural-vlm.test.ts';

const root = path.resolve(import.meta.dirname, '../..');
const fixtures = path.join(root, 'test/fixtures');
const reference = JSON.parse(readFileSync(path.join(fixtures, 'vlm-tiny/reference.json'), 'utf8')) as VlmReference;
const dataUrl = (file: string) => `data:image/png;base64,${readFileSync(path.join(root, file)).toString('base64')}`;

describe('TransformersVisionSession on the tiny LLaVA fixture', () => {
  let session: TransformersVisionSession;

  beforeAll(async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = fixtures + path.sep;
    session = await TransformersVisionSession.load({ model: 'vlm-tiny', device: 'cpu', dtype: 'fp32' });
  });
  afterAll(async () => {
    await session?.dispose();
  });

  it('is a session that reads images, with the fixture image token', () => {
    expect(readsImages(session)).toBe(true);
    expect(session.imageToken).toBe('<image>');
    expect(session.hiddenSize).toBe(64);
  });

  for (const [i, expected] of reference.images.entries()) {
    it(`feeds image ${i + 1} (${path.basename(expected.file)}) through the vision encoder and reproduces torch's tokens`, async () => {
      const withImage = await session.withImage({ source: dataUrl(expected.file), mime: 'image/png' });
      expect(withImage.imageTokenCount).toBe(reference.image_tokens);
      const ids = withImage.encode(reference.prompt);
      expect(ids).toEqual(reference.input_ids);
      const reply = await generateGreedy(withImage, ids, { maxNewTokens: reference.max_new_tokens });
      const want = expected.greedy_ids.at(-1) === session.eosTokenIds[0] ? expected.greedy_ids.slice(0, -1) : expected.greedy_ids;
      expect(reply.ids).toEqual(want);
    });
  }

  it('refuses an image token without an image, and an unreadable image', async () => {
    const ids = session.encode(reference.prompt);
    await expect(generateGreedy(session, ids, { maxNewTokens: 1 })).rejects.toThrow(ImageInputError);
    await expect(session.withImage({ source: 'data:image/png;base64,AAAA' })).rejects.toThrow(/could not be read/);
  });

  it('reads text alone when no image is given', async () => {
    const text = session.applyChatTemplate([{ role: 'user', content: 'I want a red fox in the snow, watercolor' }], true);
    const reply = await generateGreedy(session, session.encode(text), { maxNewTokens: 6 });
    expect(reply.text.startsWith('Prompt:')).toBe(true);
  });
});
