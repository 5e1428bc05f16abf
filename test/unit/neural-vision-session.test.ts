/**
 * The neural engine's vision session on the tiny LLaVA fixture (onnxruntime-node): a reference image
 * given as a data: URL goes through the vision encoder and greedy decoding with the key/value cache
 * reproduces torch's tokens for each image; without an image the session is a plain text session.
 * Then stage 1 of the neural engine on a vision-language pack around that fixture, and the note a
 * text-only pack gives when the chat has a reference image.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { env } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { mergeTurns, type ReferenceImage } from '../../src/core/chat.ts';
import type { StageRequest } from '../../src/core/engines/engine.ts';
import { createNeuralEngine } from '../../src/core/engines/neural/index.ts';
import type { PackManifest } from '../../src/core/engines/neural/manifest.ts';
import { generateGreedy } from '../../src/core/engines/neural/session.ts';
import { TransformersVisionSession } from '../../src/core/engines/neural/transformers-vision-session.ts';
import { ImageInputError, readsImages } from '../../src/core/engines/neural/vision-session.ts';
import { loadNodePack, type NodePack } from '../../src/node/neural.ts';
import type { VlmReference } from './vlm-reference.ts';

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
      const want =
        expected.greedy_ids.at(-1) === session.eosTokenIds[0] ? expected.greedy_ids.slice(0, -1) : expected.greedy_ids;
      expect(reply.ids).toEqual(want);
    });
  }

  it('refuses an image token without an image, and an unreadable image', async () => {
    const ids = session.encode(reference.prompt);
    await expect(generateGreedy(session, ids, { maxNewTokens: 1 })).rejects.toThrow(ImageInputError);
    await expect(session.withImage({ source: 'data:image/png;base64,AAAA' })).rejects.toThrow(/could not be read/);
  });

  it('reads text alone when no image is given', async () => {
    const text = session.applyChatTemplate(
      [{ role: 'user', content: 'I want a red fox in the snow, watercolor' }],
      true,
    );
    const reply = await generateGreedy(session, session.encode(text), { maxNewTokens: 6 });
    expect(reply.text.startsWith('Prompt:')).toBe(true);
  });
});

describe('neural engine stage 1 with a vision-language pack (tiny LLaVA fixture)', () => {
  let pack: NodePack;
  let textPack: NodePack;
  let catalog: Catalog;
  let packDir: string;

  beforeAll(async () => {
    // A pack made here around the committed fixture; its head is pack-tiny's (same width, 64), whose rows
    // were trained on another model's h: these tests exercise stage 1 only.
    packDir = mkdtempSync(path.join(os.tmpdir(), 'chatgen-pack-vlm-'));
    const tinyManifest = JSON.parse(
      readFileSync(path.join(fixtures, 'pack-tiny/manifest.json'), 'utf8'),
    ) as PackManifest;
    const manifest: PackManifest = {
      ...tinyManifest,
      name: 'vlm-tiny-test',
      description: "The tiny LLaVA fixture (test/fixtures/vlm-tiny) with pack-tiny's head.",
      base_model: { path: path.relative(packDir, path.join(fixtures, 'vlm-tiny')) },
      dtypes: ['fp32'],
      architecture: 'vision-language',
      hidden_state_output: 'last_hidden_state',
      demonstrations: { prompt: 1, arguments: 4 },
      max_new_tokens: 12,
    };
    writeFileSync(path.join(packDir, 'manifest.json'), JSON.stringify(manifest));
    const headFile = tinyManifest.head!.file;
    copyFileSync(path.join(fixtures, 'pack-tiny', headFile), path.join(packDir, headFile));
    pack = await loadNodePack(packDir);
    textPack = await loadNodePack(path.join(fixtures, 'pack-tiny'));
    const dir = path.join(root, 'public/models/starter');
    const read = (file: string) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') });
    catalog = loadCatalog(
      { catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') },
      'starter',
    ).catalog;
  });
  afterAll(async () => {
    await pack?.session.dispose();
    await textPack?.session.dispose();
    if (packDir) rmSync(packDir, { recursive: true, force: true });
  });

  const ask = (images: ReferenceImage[]): StageRequest => {
    const messages = ['I want a red fox in the snow, watercolor'];
    return { input: { messages, images }, merged: mergeTurns(messages) };
  };

  it('loads the pack with a session that reads images', () => {
    expect(pack.manifest.architecture).toBe('vision-language');
    expect(readsImages(pack.session)).toBe(true);
  });

  it('feeds the reference image through the vision encoder: different images, different prompts', async () => {
    const engine = createNeuralEngine({ session: pack.session, catalog, head: pack.head, pack: pack.manifest });
    const results = [];
    for (const file of reference.images.map((r) => r.file)) {
      results.push(await engine.writePrompt(ask([{ source: dataUrl(file), mime: 'image/png' }])));
    }
    for (const r of results) {
      expect(r.evidence.notes).toContain('the reference image went through the vision encoder');
      expect(r.evidence.notes.join('\n')).not.toMatch(/not used/);
      expect(r.prompt.length).toBeGreaterThan(0);
    }
    // The fixture was trained to open its prompt with a tag only the picture tells (build_vlm_fixture.py IMAGE_TAGS).
    expect(results[0]!.prompt).toMatch(/^a red circle, a red fox/);
    expect(results[1]!.prompt).toMatch(/^striped pattern, a red/);
  });

  it('without an image the vision pack writes from text alone, with no image note', async () => {
    const engine = createNeuralEngine({ session: pack.session, catalog, head: pack.head, pack: pack.manifest });
    const result = await engine.writePrompt(ask([]));
    expect(result.evidence.notes.join('\n')).not.toMatch(/reference image/);
  });

  it('a text-only pack says the image was not used by the model', async () => {
    expect(readsImages(textPack.session)).toBe(false);
    const engine = createNeuralEngine({
      session: textPack.session,
      catalog,
      head: textPack.head,
      pack: textPack.manifest,
    });
    const result = await engine.writePrompt(ask([{ source: dataUrl(reference.images[0]!.file), mime: 'image/png' }]));
    expect(result.evidence.notes).toContain("the reference image was not used: this pack's model reads text only");
  });
});
