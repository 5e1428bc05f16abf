import { readFileSync } from 'node:fs';
import path from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { exposeHiddenState, findLmHead } from '../../src/core/onnx/hidden.ts';
import { indexOnnxModel, initializerFloats, OnnxModelError } from '../../src/core/onnx/model.ts';
import { quantizeMatMulWeightsInt8, quantizePerColumn, roundHalfEven } from '../../scripts/lib/onnx-quantize.ts';

const fixtures = path.resolve(import.meta.dirname, '../fixtures');

interface Reference {
  forward: { input_ids: number[]; last_logits: number[]; last_hidden_state: number[]; hidden_first_position: number[] };
}

function load(dir: string, file = 'model.onnx'): Uint8Array {
  const buf = readFileSync(path.join(fixtures, dir, 'onnx', file));
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}
const reference = JSON.parse(
  readFileSync(path.join(fixtures, 'llm-tiny-hidden', 'reference.json'), 'utf8'),
) as Reference;
const config = JSON.parse(readFileSync(path.join(fixtures, 'llm-tiny', 'config.json'), 'utf8')) as {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  hidden_size: number;
  vocab_size: number;
};

/** One forward pass from an empty cache; returns the named outputs. */
async function run(model: Uint8Array, ids: number[]): Promise<InferenceSession.OnnxValueMapType> {
  const session = await InferenceSession.create(model);
  const n = ids.length;
  const feeds: Record<string, Tensor> = {
    input_ids: new Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, n]),
    attention_mask: new Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    position_ids: new Tensor('int64', BigInt64Array.from(ids.map((_, i) => BigInt(i))), [1, n]),
  };
  for (let i = 0; i < config.num_hidden_layers; i++) {
    for (const kind of ['key', 'value']) {
      feeds[`past_key_values.${i}.${kind}`] = new Tensor('float32', new Float32Array(0), [
        1,
        config.num_key_value_heads,
        0,
        config.head_dim,
      ]);
    }
  }
  const out = await session.run(feeds);
  await session.release();
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('exposeHiddenState (ONNX graph edit)', () => {
  const original = load('llm-tiny');
  const edited = exposeHiddenState(original);

  it('finds the LM head MatMul and its input', () => {
    const head = findLmHead(indexOnnxModel(original));
    expect(head.node.opType).toBe('MatMul');
    expect(head.hidden).toBe(edited.lmHead.hidden);
    expect(indexOnnxModel(original).initializers.get(head.weight)?.dims).toEqual([
      config.hidden_size,
      config.vocab_size,
    ]);
  });

  it('adds an output without copying the weights more than once (size grows by the new fields only)', () => {
    expect(edited.alreadyPresent).toBe(false);
    expect(edited.bytes.length - original.length).toBeGreaterThan(0);
    expect(edited.bytes.length - original.length).toBeLessThan(200);
    expect(indexOnnxModel(edited.bytes).outputs.map((o) => o.name)).toContain('last_hidden_state');
    // Editing an already edited model is a no-op that returns the same buffer.
    expect(exposeHiddenState(edited.bytes).bytes).toBe(edited.bytes);
  });

  it('h · W_lmᵀ reproduces the logits within 1e-4, and h equals the torch reference', async () => {
    const ids = reference.forward.input_ids;
    const out = await run(edited.bytes, ids);
    const h = out.last_hidden_state!.data as Float32Array;
    const logits = out.logits!.data as Float32Array;
    const d = config.hidden_size;
    const v = config.vocab_size;
    expect(out.last_hidden_state!.dims).toEqual([1, ids.length, d]);
    const w = initializerFloats(indexOnnxModel(edited.bytes), edited.lmHead.weight); // [d, V]
    const last = (ids.length - 1) * d;
    const recomputed = new Float32Array(v);
    for (let j = 0; j < v; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += h[last + k]! * w[k * v + j]!;
      recomputed[j] = s;
    }
    expect(maxAbsDiff(recomputed, logits.subarray((ids.length - 1) * v))).toBeLessThan(1e-4);
    expect(maxAbsDiff(h.subarray(last, last + d), reference.forward.last_hidden_state)).toBeLessThan(1e-4);
    expect(maxAbsDiff(h.subarray(0, d), reference.forward.hidden_first_position)).toBeLessThan(1e-4);
    expect(maxAbsDiff(logits.subarray((ids.length - 1) * v), reference.forward.last_logits)).toBeLessThan(1e-4);
  });

  it('matches the model exported by torch with the hidden output', async () => {
    const ids = reference.forward.input_ids;
    const [a, b] = await Promise.all([run(edited.bytes, ids), run(load('llm-tiny-hidden'), ids)]);
    expect(
      maxAbsDiff(a.last_hidden_state!.data as Float32Array, b.last_hidden_state!.data as Float32Array),
    ).toBeLessThan(1e-5);
    expect(maxAbsDiff(a.logits!.data as Float32Array, b.logits!.data as Float32Array)).toBeLessThan(1e-5);
  });

  it('works on the int8 model too (the LM head weight is then a DequantizeLinear output)', async () => {
    const q = exposeHiddenState(load('llm-tiny', 'model_quantized.onnx'));
    const out = await run(q.bytes, reference.forward.input_ids);
    expect(out.last_hidden_state!.dims[2]).toBe(config.hidden_size);
  });

  it('rejects bytes that are not an ONNX model, and graphs without logits, with clear errors', () => {
    const html = new TextEncoder().encode('<!doctype html><html><body>Not found</body></html>');
    expect(() => exposeHiddenState(html)).toThrow(OnnxModelError);
    expect(() => exposeHiddenState(original, { logitsName: 'scores' })).toThrow(/no output named "scores".*logits/);
  });
});

describe('int8 weight quantisation', () => {
  it('rounds half to even like torch', () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });

  it('keeps every weight within half a step of its value', () => {
    const values = Float32Array.from({ length: 6 * 4 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 4)));
    const { q, scale } = quantizePerColumn(values, 6, 4);
    for (let i = 0; i < values.length; i++) {
      const s = scale[i % 4]!;
      expect(Math.abs(values[i]! - q[i]! * s)).toBeLessThanOrEqual(s / 2 + 1e-7);
    }
    expect(Math.max(...Array.from(q, Math.abs))).toBe(127);
  });

  it('the committed model_quantized.onnx is what the quantiser writes today', () => {
    const { bytes, weights } = quantizeMatMulWeightsInt8(load('llm-tiny'));
    expect(weights).toHaveLength(config.num_hidden_layers * 7 + 1);
    expect(Buffer.from(bytes).equals(Buffer.from(load('llm-tiny', 'model_quantized.onnx')))).toBe(true);
    expect(bytes.length).toBeLessThan(load('llm-tiny').length * 0.55);
  });
});
