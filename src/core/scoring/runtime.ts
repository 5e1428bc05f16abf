/**
 * The ONNX runtime as the scorers see it: sessions created from model bytes and tensors to feed them. The caller
 * passes in onnxruntime-node or onnxruntime-web (`ortRuntime(ort, options)`), so the scoring core never imports
 * either and runs unchanged in Node, a worker or a test.
 */

export interface ModelTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ModelTensor>): Promise<Record<string, ModelTensor>>;
  release(): Promise<void>;
}

export interface ScoringRuntime {
  /** Where sessions run ('cpu', 'wasm', 'webgpu'), for reports. */
  readonly backend: string;
  createSession(model: Uint8Array, label: string): Promise<ModelSession>;
  float32(data: Float32Array, dims: readonly number[]): ModelTensor;
  int64(data: BigInt64Array, dims: readonly number[]): ModelTensor;
}

/** The part of the onnxruntime-node / onnxruntime-web module used here (both have this shape). */
export interface OrtModule {
  InferenceSession: {
    create(
      model: Uint8Array,
      options?: { executionProviders?: string[] },
    ): Promise<{
      readonly inputNames: readonly string[];
      readonly outputNames: readonly string[];
      // The feeds are tensors made by this same module's Tensor class (see ortRuntime), so the runtime accepts them.
      run(feeds: never): Promise<Record<string, ModelTensor>>;
      release(): Promise<void>;
    }>;
  };
  Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => ModelTensor;
}

export function ortRuntime(
  ort: OrtModule,
  executionProviders: string[],
  backend = executionProviders[0] ?? 'cpu',
): ScoringRuntime {
  return {
    backend,
    async createSession(model, label) {
      try {
        const session = await ort.InferenceSession.create(model, { executionProviders });
        return {
          inputNames: session.inputNames,
          outputNames: session.outputNames,
          run: (feeds) => session.run(feeds as never),
          release: () => session.release(),
        };
      } catch (error) {
        throw new Error(`${label}: onnxruntime could not load the model on ${backend}: ${(error as Error).message}`, {
          cause: error,
        });
      }
    },
    float32: (data, dims) => new ort.Tensor('float32', data, dims),
    int64: (data, dims) => new ort.Tensor('int64', data, dims),
  };
}

/** The float32 values of a session output, with a clear error when the graph does not have it. */
export function floatOutput(
  outputs: Record<string, ModelTensor>,
  name: string,
  label: string,
): { data: Float32Array; dims: readonly number[] } {
  const tensor = outputs[name];
  if (!tensor)
    throw new Error(`${label}: the graph has no output "${name}" (outputs: ${Object.keys(outputs).join(', ')})`);
  if (!(tensor.data instanceof Float32Array))
    throw new Error(`${label}: output "${name}" is ${tensor.type}, expected float32`);
  return { data: tensor.data, dims: tensor.dims };
}
