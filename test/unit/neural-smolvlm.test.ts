/**
 * The Idefics3 (SmolVLM) layout of the vision session: the processor's image-token grid as a pure
 * function, and the curated SmolVLM-256M-Instruct pack downloaded from the hub test server (fixture repo
 * from scripts/fixtures/build_smolvlm_fixture.py: the real tokenizer and configs, a tiny random-then-trained
 * model in the export's layout). The session's tokens must be transformers.js's own Idefics3Processor's,
 * and its greedy tokens torch's, for two images that lead to different continuations.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { env, RawImage, type PreTrainedModel, type Tensor } from '@huggingface/transformers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildBenchEngines } from '../../src/core/bench/engines.ts';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { Catalog } from '../../src/core/catalog/types.ts';
import { idefics3FeatureRows, idefics3ImagePrompt } from '../../src/core/engines/neural/idefics3.ts';
import { generateGreedy } from '../../src/core/engines/neural/session.ts';
import { TransformersVisionSession } from '../../src/core/engines/neural/transformers-vision-session.ts';
import { ImageInputError } from '../../src/core/engines/neural/vision-session.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { validateArguments } from '../../src/core/plan.ts';
import { loadNodePack, type NodePack } from '../../src/node/neural.ts';
import { HUB_FIXTURES, HubTestServer } from '../servers/hub-test-server.ts';

const root = path.resolve(import.meta.dirname, '../..');
const SMOLVLM = 'HuggingFaceTB/SmolVLM-256M-Instruct';
const smolvlmPack = path.join(root, 'public/models/packs/smolvlm-256m-instruct');

interface SmolVlmReference {
  image_seq_len: number;
  max_new_tokens: number;
  instruction: string;
  request: string;
  prompt: string;
  input_ids: number[];
  images: { file: string; rows: number; cols: number; frame_pixel_sums: number[]; greedy_ids: number[] }[];
}
const reference = JSON.parse(
  readFileSync(path.join(HUB_FIXTURES, 'smolvlm-256m-instruct.reference.json'), 'utf8'),
) as SmolVlmReference;

const tokens = { image: '<image>', aroundImage: '<fake>', globalImage: '<global>', imageSeqLen: 2 };

describe('idefics3ImagePrompt (Idefics3Processor grid rule)', () => {
  it('writes only the global image when the image was not split', () => {
    expect(idefics3ImagePrompt({ rows: 0, cols: 0 }, tokens)).toBe('<fake><global><image><image><fake>');
    expect(idefics3FeatureRows({ rows: 0, cols: 0 }, 2)).toBe(2);
  });

  it('writes each tile row by row, a newline after each row, then a newline and the global image', () => {
    expect(idefics3ImagePrompt({ rows: 2, cols: 1 }, tokens)).toBe(
      '<fake><row_1_col_1><image><image>\n' +
        '<fake><row_2_col_1><image><image>\n' +
        '\n<fake><global><image><image><fake>',
    );
    expect(idefics3ImagePrompt({ rows: 1, cols: 3 }, { ...tokens, imageSeqLen: 1 })).toBe(
      '<fake><row_1_col_1><image><fake><row_1_col_2><image><fake><row_1_col_3><image>\n\n<fake><global><image><fake>',
    );
    expect(idefics3FeatureRows({ rows: 4, cols: 4 }, 64)).toBe(1088);
  });
});

function starterCatalog(): Catalog {
  const dir = path.join(root, 'public/models/starter');
  const read = (file: string) => ({ file, text: readFileSync(path.join(dir, file), 'utf8') });
  return loadCatalog({ catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') }, 'starter')
    .catalog;
}

describe('curated SmolVLM-256M-Instruct pack from the hub test server (Idefics3 layout)', () => {
  let hub: HubTestServer;
  let pack: NodePack;
  let session: TransformersVisionSession;
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'chatgen-smolvlm-cache-'));

  beforeAll(async () => {
    hub = new HubTestServer({ root: HUB_FIXTURES });
    const hubUrl = await hub.listen();
    // The fixture repo holds the fp32 file names only (the pack prefers q4f16, q8, ... on a real hub).
    pack = await loadNodePack(smolvlmPack, { hubUrl, cacheDir, dtype: 'fp32' });
    if (!(pack.session instanceof TransformersVisionSession)) throw new Error('the pack did not open a vision session');
    session = pack.session;
  }, 60_000);
  afterAll(async () => {
    await pack?.session.dispose();
    await hub?.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  it("downloads the export's layout and renders SmolVLM's chat layout with the real tokenizer", () => {
    expect(pack.head).toBeNull();
    expect(session.model.constructor.name).toBe('Idefics3ForConditionalGeneration');
    const files = hub.requests
      .filter((r) => r.path.startsWith(`/${SMOLVLM}/resolve/main/`))
      .map((r) => r.path.split('/resolve/main/')[1]);
    expect(files).toEqual(
      expect.arrayContaining([
        'tokenizer.json',
        'tokenizer_config.json',
        'config.json',
        'preprocessor_config.json',
        'processor_config.json',
        'onnx/vision_encoder.onnx',
        'onnx/embed_tokens.onnx',
        'onnx/decoder_model_merged.onnx',
      ]),
    );
    expect(session.imageToken).toBe('<image>');
    // <end_of_utterance> (the tokenizer's eos) ends a reply, besides text_config's <|im_end|>.
    expect(session.eosTokenIds).toEqual([2, 49279]);
    // The pack's template for plain-text messages renders what the model's own template renders for content parts.
    const messages = [
      { role: 'system', content: reference.instruction },
      { role: 'user', content: `<image>\n${reference.request}` },
    ] as const;
    const own = session.tokenizer.apply_chat_template(
      [
        { role: 'system', content: [{ type: 'text', text: reference.instruction }] },
        { role: 'user', content: [{ type: 'image' }, { type: 'text', text: `\n${reference.request}` }] },
      ] as unknown as { role: string; content: string }[],
      { tokenize: false, add_generation_prompt: true },
    );
    expect(session.applyChatTemplate(messages, true)).toBe(own);
    expect(`${own}Prompt:`).toBe(reference.prompt);
  });

  for (const [i, expected] of reference.images.entries()) {
    it(`expands the image token as Idefics3Processor does and reproduces torch's greedy tokens (image ${i + 1}, ${path.basename(expected.file)})`, async () => {
      const file = path.join(root, expected.file);
      const withImage = await session.withImage({ source: file });
      expect(withImage.imageTokenCount).toBe((expected.rows * expected.cols + 1) * reference.image_seq_len);
      const ids = withImage.encode(reference.prompt);
      expect(ids).toEqual(reference.input_ids);

      // transformers.js's own processor: the same tokens, and the tiles torch cut.
      const inputs = (await session.processor(reference.prompt, await RawImage.read(file))) as Record<string, Tensor>;
      expect(Array.from(inputs.input_ids!.data as BigInt64Array, Number)).toEqual(ids);
      expect(inputs.pixel_values!.dims).toEqual([1, expected.frame_pixel_sums.length, 3, 32, 32]);
      expect(inputs.pixel_attention_mask!.dims).toEqual([1, expected.frame_pixel_sums.length, 32, 32]);
      const pixels = inputs.pixel_values!.data as Float32Array;
      const frame = 3 * 32 * 32;
      expected.frame_pixel_sums.forEach((sum, f) => {
        const got = pixels.subarray(f * frame, (f + 1) * frame).reduce((a, b) => a + b, 0);
        expect(Math.abs(got - sum)).toBeLessThan(0.05);
      });

      const out = await generateGreedy(withImage, ids, { maxNewTokens: reference.max_new_tokens });
      expect(out.ids).toEqual(expected.greedy_ids.filter((id) => !session.eosTokenIds.includes(id)));
    });
  }

  it('the two images give different continuations', () => {
    expect(reference.images[0]!.greedy_ids).not.toEqual(reference.images[1]!.greedy_ids);
  });

  it("gives transformers.js's own Idefics3 generate the same tokens (its merge of the features)", async () => {
    const model = session.model as PreTrainedModel;
    const expected = reference.images[1]!;
    const inputs = (await session.processor(
      reference.prompt,
      await RawImage.read(path.join(root, expected.file)),
    )) as Record<string, Tensor>;
    const output = (await model.generate({
      ...inputs,
      max_new_tokens: reference.max_new_tokens,
      do_sample: false,
    })) as Tensor;
    const ids = Array.from(output.data as BigInt64Array, Number).slice(reference.input_ids.length);
    expect(ids.slice(0, expected.greedy_ids.length)).toEqual(expected.greedy_ids);
  });

  it('refuses text whose image tokens do not match the image (ImageInputError)', async () => {
    const withImage = await session.withImage({ source: path.join(root, reference.images[0]!.file) });
    const twice = withImage.encode(`<image><image>\n${reference.request}`);
    const state = withImage.begin();
    try {
      const error = await state.feed(twice).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ImageInputError);
      expect((error as Error).message).toBe('the image takes 20 positions but the text holds 40 image tokens');
    } finally {
      state.dispose();
    }
  });

  it('plans in hybrid mode from a reference image: the LLM reads it for stage 1 (another image, another prompt), the default engine does stages 2 and 3', async () => {
    const catalog = starterCatalog();
    const [built] = await buildBenchEngines(['neural'], catalog, {
      neuralPack: { session, head: pack.head, manifest: pack.manifest },
    });
    const result = await runPipeline(built!.engine, {
      messages: ['A red fox in the snow, watercolor'],
      images: [{ source: path.join(root, reference.images[1]!.file), mime: 'image/png' }],
    });
    expect(result.stage_engines?.prompt).toBe('LLM "SmolVLM-256M-Instruct" (cpu, fp32)');
    expect(result.stage_engines?.model).toMatch(/^the embedded engine \(default\)/);
    expect(result.prompt.evidence.notes.join(' ')).toContain('the reference image went through the vision encoder');
    expect(result.plan.prompt).not.toBe('');
    const other = await runPipeline(built!.engine, {
      messages: ['A red fox in the snow, watercolor'],
      images: [{ source: path.join(root, reference.images[0]!.file), mime: 'image/png' }],
    });
    // The fixture was trained to open its answer with a tag only the image tells.
    expect(result.plan.prompt).toContain('striped pattern');
    expect(other.plan.prompt).toContain('a red circle');
    expect(other.plan.prompt).not.toContain('striped pattern');
    expect(validateArguments(result.plan.arguments)).toEqual([]);
  }, 60_000);
});

describe('an Idefics3 model whose processor disagrees with its vision encoder', () => {
  it('refuses the image with an ImageInputError naming both counts', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'chatgen-smolvlm-broken-'));
    const model = path.join(dir, 'smolvlm');
    try {
      cpSync(path.join(HUB_FIXTURES, SMOLVLM), model, { recursive: true });
      writeFileSync(
        path.join(model, 'tokenizer.json'),
        gunzipSync(readFileSync(path.join(model, 'tokenizer.json.gz'))),
      );
      // The encoder gives 4 rows per tile; the processor now writes 5 image tokens per tile.
      writeFileSync(
        path.join(model, 'processor_config.json'),
        JSON.stringify({ image_seq_len: 5, processor_class: 'Idefics3Processor' }),
      );
      env.allowRemoteModels = false;
      env.allowLocalModels = true;
      env.localModelPath = dir + path.sep;
      const session = await TransformersVisionSession.load({ model: 'smolvlm', device: 'cpu', dtype: 'fp32' });
      try {
        const error = await session.withImage({ source: path.join(root, reference.images[1]!.file) }).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(ImageInputError);
        expect((error as Error).message).toBe(
          "the vision encoder gives 20 feature rows, but the image's 2 x 2 tiles and global image take 25 image tokens (image_seq_len 5)",
        );
      } finally {
        await session.dispose();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
