/**
 * The one WebGPU -> WASM choice, shared by the LLM (model packs) and the image scorers: WebGPU when it
 * was preferred, the browser offers an adapter and the model opens there; WASM otherwise, with the
 * reason WebGPU was not used.
 */
export type Backend = 'webgpu' | 'wasm';

export interface GpuAdapterInfo {
  adapter: GPUAdapter;
  /** Whether the adapter offers shader-f16 (fp16 model variants run only then). */
  shaderF16: boolean;
}

/** The WebGPU adapter, or why there is none. */
export async function webGpuAdapter(): Promise<GpuAdapterInfo | { error: string }> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { error: 'this browser has no WebGPU' };
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return { error: 'no WebGPU adapter is available' };
    return { adapter, shaderF16: adapter.features.has('shader-f16') };
  } catch (err) {
    return { error: `the WebGPU adapter request failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

export interface BackendOutcome<T> {
  value: T;
  backend: Backend;
  /** The adapter, when WebGPU runs. */
  gpu: GpuAdapterInfo | null;
  /** Why WASM runs although WebGPU was preferred; null otherwise. */
  notice: string | null;
}

/**
 * Opens `what` on WebGPU first when preferred, else (or when that fails) on WASM. `open` must release
 * whatever it created before it throws.
 */
export async function openWithFallback<T>(
  prefer: Backend,
  what: string,
  open: (backend: Backend, gpu: GpuAdapterInfo | null) => Promise<T>,
): Promise<BackendOutcome<T>> {
  let notice: string | null = null;
  if (prefer === 'webgpu') {
    const gpu = await webGpuAdapter();
    if ('error' in gpu) notice = `WebGPU is not available (${gpu.error}): running on WASM`;
    else {
      try {
        return { value: await open('webgpu', gpu), backend: 'webgpu', gpu, notice: null };
      } catch (err) {
        notice = `WebGPU failed to load ${what} (${err instanceof Error ? err.message : String(err)}): running on WASM`;
      }
    }
  }
  return { value: await open('wasm', null), backend: 'wasm', gpu: null, notice };
}
