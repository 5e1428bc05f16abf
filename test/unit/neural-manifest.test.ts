import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  encodeHeadFile,
  onnxFileForDtype,
  parseHeadFile,
  parsePackManifest,
  PackManifestError,
} from '../../src/core/engines/neural/manifest.ts';
import { loadPack } from '../../src/core/engines/neural/pack.ts';
import { packFilesFromDirectory } from '../../src/node/neural.ts';
import { createHead } from '../../src/core/modeltoken.ts';

const packDir = path.resolve(import.meta.dirname, '../fixtures/pack-tiny');
const valid = JSON.parse(readFileSync(path.join(packDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;

function problemsOf(value: unknown): string[] {
  try {
    parsePackManifest(value, 'x/manifest.json');
  } catch (err) {
    expect(err).toBeInstanceOf(PackManifestError);
    return (err as PackManifestError).problems;
  }
  return [];
}

describe('pack manifest', () => {
  it('accepts the test pack and fills defaults', () => {
    const m = parsePackManifest({ ...valid, demonstrations: undefined, max_new_tokens: undefined });
    expect(m.base_model).toEqual({ path: '../llm-tiny' });
    expect(m.dtypes).toEqual(['fp32', 'q8']);
    expect(m.demonstrations).toEqual({ prompt: 3, arguments: 8 });
    expect(m.max_new_tokens).toBe(96);
    expect(m.hidden_state_output).toBeNull();
  });

  it('reports every problem at once, by field', () => {
    const problems = problemsOf({
      ...valid,
      format: 'chatgen-pack/9',
      base_model: { path: 'a', hub_id: 'b/c' },
      dtypes: ['fp32', 'int3'],
      instructions: { prompt: '' },
      head: { file: '../../etc/passwd', dim: 0, model_ids: [1, 1, -2] },
    });
    expect(problems).toEqual([
      '"format" must be "chatgen-pack/1", got "chatgen-pack/9"',
      '"base_model" needs exactly one of "path" (relative to the manifest) or "hub_id" ("owner/name")',
      '"dtypes" has unknown dtype "int3"; known: fp32, fp16, q8, q4, q4f16',
      '"instructions.prompt" must be a non-empty string',
      '"instructions.arguments" must be a non-empty string',
      '"head.file" must be a file name inside the pack',
      '"head.dim" must be a whole number from 1 to 65536, got 0',
      '"head.model_ids" lists model 1 twice',
      '"head.model_ids[2]" must be a whole number >= 0, got -2',
    ]);
    expect(problemsOf([])).toEqual(['the manifest must be a JSON object']);
  });

  it('accepts a hub id as the base model', () => {
    expect(
      parsePackManifest({ ...valid, base_model: { hub_id: 'onnx-community/Qwen2.5-0.5B-Instruct' } }).base_model,
    ).toEqual({
      hub_id: 'onnx-community/Qwen2.5-0.5B-Instruct',
    });
  });

  it('round-trips a head file and rejects one of the wrong size', () => {
    const head = createHead([5, 9, 2], 4);
    head.weights.forEach((_, i) => (head.weights[i] = i / 3 - 1));
    const spec = { file: 'h.f32', dim: 4, model_ids: [5, 9, 2] };
    expect(parseHeadFile(encodeHeadFile(head), spec)).toEqual(head);
    expect(() => parseHeadFile(new Uint8Array(44), spec)).toThrow(/holds 44 bytes; 3 models x 4 float32 needs 48/);
  });

  it('loads the committed test pack through a file reader, and names a missing head file', async () => {
    const pack = await loadPack(packFilesFromDirectory(packDir));
    expect(pack.head?.modelIds.length).toBe(pack.manifest.head?.model_ids.length);
    expect(pack.head?.dim).toBe(64);
    const files = { ...packFilesFromDirectory(packDir), readBytes: () => Promise.reject(new Error('ENOENT')) };
    await expect(loadPack(files)).rejects.toThrow(/head\.f32: [\s\S]*cannot read the head file: ENOENT/);
  });

  it('maps dtypes to the file names transformers.js requests', () => {
    expect(onnxFileForDtype('fp32')).toBe('model.onnx');
    expect(onnxFileForDtype('q8')).toBe('model_quantized.onnx');
    expect(onnxFileForDtype('q4f16')).toBe('model_q4f16.onnx');
  });
});
