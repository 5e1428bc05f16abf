/// <reference lib="webworker" />
/**
 * The LLM worker: serves the LLM host (src/runtime/llm-host.ts: one lazily loaded model pack running the
 * neural engine's stages, WebGPU first with a WASM fallback) over comlink; trained heads are kept in
 * IndexedDB. Protocol: ./llm-api.ts.
 */
import * as Comlink from 'comlink';
import { LlmHost } from '../src/runtime/llm-host.ts';
import { headStore } from '../src/storage/heads.ts';

Comlink.expose(new LlmHost(headStore()));
