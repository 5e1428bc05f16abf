import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { CSP_REPORT_PATH, contentSecurityPolicy } from './src/csp.ts';

// Cross-origin isolation gives SharedArrayBuffer, which multi-threaded WASM inference needs.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The Content-Security-Policy (src/csp.ts): a meta tag in the built index.html, so any static host
 * serves the app under it, and violation reports printed by the dev server.
 */
function contentSecurityPolicyPlugin(): Plugin {
  return {
    name: 'chatgen-csp',
    transformIndexHtml: {
      order: 'post',
      handler(_html, context) {
        if (context.server) return [];
        return [{ tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy('meta') }, injectTo: 'head-prepend' }];
      },
    },
    configureServer(server) {
      server.middlewares.use(CSP_REPORT_PATH, (req, res) => {
        let body = '';
        req.on('data', (chunk: Buffer) => (body += chunk.toString()));
        req.on('end', () => {
          let report: Record<string, unknown> = {};
          try {
            report = (JSON.parse(body) as { 'csp-report'?: Record<string, unknown> })['csp-report'] ?? {};
          } catch {
            report = { body };
          }
          console.error(`[csp] violation: ${String(report['effective-directive'])} blocked ${String(report['blocked-uri'])} in ${String(report['document-uri'])}`);
          res.statusCode = 204;
          res.end();
        });
      });
    },
  };
}

export default defineConfig({
  plugins: [svelte(), contentSecurityPolicyPlugin()],
  server: { headers: { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy('dev-header', { reportUri: CSP_REPORT_PATH }) } },
  preview: { headers: { ...isolationHeaders, 'Content-Security-Policy': contentSecurityPolicy('preview-header') } },
  worker: { format: 'es' },
  build: { target: 'es2022' },
  // Pre-bundle up front: a dependency discovered late makes the dev server reload the page mid-test.
  optimizeDeps: {
    entries: ['index.html', 'workers/*.worker.ts', 'test/browser/pages/*.html'],
    include: ['comlink', 'idb', '@huggingface/transformers > @huggingface/tokenizers'],
    exclude: ['@huggingface/transformers', 'onnxruntime-web'],
  },
});
