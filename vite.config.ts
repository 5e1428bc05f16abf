import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// Cross-origin isolation gives SharedArrayBuffer, which multi-threaded WASM inference needs.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  // Pre-bundle up front: a dependency discovered late makes the dev server reload the page mid-test.
  optimizeDeps: {
    entries: ['index.html', 'workers/*.worker.ts', 'test/browser/pages/*.html'],
    include: ['comlink', 'idb', '@huggingface/transformers > @huggingface/tokenizers'],
    exclude: ['@huggingface/transformers', 'onnxruntime-web'],
  },
});
