import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
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
        return [
          {
            tag: 'meta',
            attrs: { 'http-equiv': 'Content-Security-Policy', content: contentSecurityPolicy('meta') },
            injectTo: 'head-prepend',
          },
        ];
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
          console.error(
            `[csp] violation: ${String(report['effective-directive'])} blocked ${String(report['blocked-uri'])} in ${String(report['document-uri'])}`,
          );
          res.statusCode = 204;
          res.end();
        });
      });
    },
  };
}

// The service worker (Workbox, built by vite-plugin-pwa) precaches the app shell, the workers, the
// onnxruntime-web WASM (about 27 MB) and the starter catalog, so the app starts offline after one visit.
// registerType 'prompt': a new version waits until the user accepts it (never a swap mid-chat).
const pwa = VitePWA({
  registerType: 'prompt',
  injectRegister: false,
  includeAssets: ['favicon.ico', 'icons/*.svg', 'icons/apple-touch-icon.png'],
  manifest: {
    name: 'ChatGen Web',
    short_name: 'ChatGen',
    description: 'From a freestyle chat to a finished text-to-image job, step by step, in your browser.',
    start_url: '.',
    scope: '.',
    display: 'standalone',
    theme_color: '#3857d6',
    background_color: '#f6f5f2',
    icons: [
      { src: 'icons/icon-192.png', sizes: '192x192', type: 'image/png' },
      { src: 'icons/icon-512.png', sizes: '512x512', type: 'image/png' },
      { src: 'icons/maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
    ],
  },
  workbox: {
    // The curated pack list and its packs' manifests are read at start (Settings -> Engine), so they are
    // precached with the shell; the packs' weights are not (they download only when a pack is chosen).
    globPatterns: [
      '**/*.{html,js,mjs,css,wasm,ico,png,svg,webmanifest}',
      'models/starter/*.jsonl',
      'models/packs/index.json',
      'models/packs/*/manifest.json',
    ],
    maximumFileSizeToCacheInBytes: 40 * 1024 * 1024,
    navigateFallback: 'index.html',
    runtimeCaching: [
      // An operator's kiosk.json must keep working offline: fresh when online, the last copy when not.
      {
        urlPattern: ({ url, sameOrigin }) => sameOrigin && url.pathname.endsWith('/kiosk.json'),
        handler: 'NetworkFirst',
        options: { cacheName: 'kiosk-config' },
      },
      // A model pack's own small files (manifest.json, head, tokenizer, config) so a downloaded pack opens
      // offline; its ONNX weights are kept by transformers.js in its own Cache Storage, not twice.
      {
        urlPattern: ({ url, sameOrigin }) =>
          sameOrigin &&
          url.pathname.includes('/models/') &&
          !url.pathname.includes('/models/starter/') &&
          !/\.onnx(_data)?$/.test(url.pathname),
        handler: 'NetworkFirst',
        options: { cacheName: 'model-pack-files' },
      },
    ],
  },
});

export default defineConfig({
  plugins: [svelte(), pwa, contentSecurityPolicyPlugin()],
  server: {
    headers: {
      ...isolationHeaders,
      'Content-Security-Policy': contentSecurityPolicy('dev-header', { reportUri: CSP_REPORT_PATH }),
    },
  },
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
