/// <reference lib="webworker" />
/**
 * The bench worker: serves the bench host (src/runtime/bench-host.ts: `npm run bench` over files the user
 * picked, the neural engine on the pack chosen in Settings) over comlink. Protocol: ./bench-api.ts.
 */
import * as Comlink from 'comlink';
// onnxruntime-web's WASM build, served by the app itself: transformers.js would otherwise fetch it from a CDN.
import ortWasmMjs from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import ortWasm from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import { BenchHost } from '../src/runtime/bench-host.ts';
import { headStore } from '../src/storage/heads.ts';

Comlink.expose(new BenchHost({ wasmPaths: { mjs: ortWasmMjs, wasm: ortWasm }, heads: headStore() }));
