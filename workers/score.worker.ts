/**
 * The image-scoring worker (separate from the LLM worker): serves the score host (src/runtime/score-host.ts:
 * scorer packs from URLs, WebGPU first with a WASM fallback) over comlink. Protocol: ./score-api.ts.
 */
import * as Comlink from 'comlink';
import { ScoreHost } from '../src/runtime/score-host.ts';

Comlink.expose(new ScoreHost());
