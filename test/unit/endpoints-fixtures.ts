/** Plans and helpers shared by the endpoint unit tests. */
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import WebSocket from 'ws';
import { EndpointError } from '../../src/core/endpoints/errors.ts';
import type { GenerationPlan } from '../../src/core/plan.ts';
import { DEFAULT_MODE, type TestServerBase } from '../servers/test-server-common.ts';
import type { EndpointConfig, EndpointKind, WebSocketFactory, WebSocketLike } from '../../src/core/endpoints/types.ts';

export const CHECKPOINT_PLAN: GenerationPlan = {
  prompt: 'a lighthouse on a cliff at dusk, dramatic sky, highly detailed',
  negative_prompt: 'blurry, lowres, watermark',
  model: {
    id: 4201,
    name: 'Realistic Vision V5.1',
    type: 'Checkpoint',
    file: 'realisticVisionV51_v51VAE.safetensors',
    base_model: 'SD 1.5',
    trained_words: [],
    hash: '15012C538F',
  },
  arguments: { sampler: 'DPM++ 2M Karras', steps: 30, cfg_scale: 7, width: 512, height: 768, seed: 123456789 },
};

export const LORA_PLAN: GenerationPlan = {
  prompt: 'portrait of an old fisherman, rim light',
  negative_prompt: 'blurry',
  model: {
    id: 58390,
    name: 'Detail Tweaker LoRA',
    type: 'LORA',
    file: 'add_detail.safetensors',
    base_model: 'SD 1.5',
    trained_words: ['add_detail', 'rim light'],
    hash: null,
  },
  arguments: { sampler: 'Euler a', steps: 20, cfg_scale: 6.5, width: 512, height: 512, seed: 42 },
};

export function config(kind: EndpointKind, baseUrl: string, extra: Partial<EndpointConfig> = {}): EndpointConfig {
  return { kind, baseUrl, timeoutMs: 10_000, concurrency: 1, pollMs: 40, ...extra };
}

/** The `ws` package as the WebSocket a browser would provide. */
export const nodeWebSocket: WebSocketFactory = (url) => new WebSocket(url) as unknown as WebSocketLike;

/** A port nothing listens on (bound then released). */
export async function deadPort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** The EndpointError a call fails with; the test fails when the call succeeds or fails otherwise. */
export async function failure(p: Promise<unknown>): Promise<EndpointError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EndpointError);
    return e as EndpointError;
  }
  throw new Error('expected the call to fail');
}

/** Runs `server` for the enclosing describe block; the returned function gives its base URL once it listens. */
export function serveDuringSuite(server: TestServerBase): () => string {
  let url = '';
  beforeAll(async () => {
    url = await server.listen();
  });
  afterAll(() => server.close());
  return () => url;
}

/** Before each test: the default modes (with the given reply delay) and no recorded requests. */
export function resetBeforeEach(server: TestServerBase, delayMs: number): void {
  beforeEach(() => {
    server.mode = { ...DEFAULT_MODE, delayMs };
    server.requests.length = 0;
    server.rejected.length = 0;
  });
}
