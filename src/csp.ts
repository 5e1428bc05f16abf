/**
 * The app's Content-Security-Policy, in one place: vite.config.ts puts it in the built index.html (a
 * meta tag) and sends it as a header from the dev and preview servers; test/unit/reliability-csp.test.ts
 * checks both.
 *
 * Why each source is there:
 * - script-src 'self' 'wasm-unsafe-eval' blob:: only the app's own scripts; onnxruntime-web compiles
 *   WASM, and with several threads it imports its runtime module from a blob: URL it made from the
 *   app's own file (a blob: URL can only be made by script already running in this origin). No
 *   'unsafe-inline' and no 'unsafe-eval', so text from a catalog, a server or a URL can never run.
 * - worker-src 'self' blob:: the app's workers; onnxruntime-web and transformers.js start workers from blob: URLs.
 * - connect-src 'self' http: https: ws: wss:: endpoints are URLs the user types (any host, any port,
 *   http on a LAN); a policy fixed at build time cannot list them, and a meta policy cannot be widened
 *   at run time. So any http(s)/ws(s) origin is allowed for fetch and sockets, while script, style,
 *   object, frame, base and form sources stay closed: an injected script cannot run to use it. blob:
 *   and data: are fetched by the ONNX runtime for model bytes it already holds.
 * - img-src 'self' blob: data:: generated images are blob: URLs, reference images data: URLs.
 * - style-src 'self': the built app's CSS is a file; Svelte sets dynamic styles through the CSSOM,
 *   which CSP allows. The dev server injects <style> elements, so dev alone adds 'unsafe-inline'.
 * - frame-ancestors 'none' (headers only: a meta tag cannot carry it): the app is never framed.
 */
const SHARED: Record<string, string[]> = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'", 'blob:'],
  'worker-src': ["'self'", 'blob:'],
  'connect-src': ["'self'", 'http:', 'https:', 'ws:', 'wss:', 'blob:', 'data:'],
  'img-src': ["'self'", 'blob:', 'data:'],
  'media-src': ["'self'", 'blob:'],
  'style-src': ["'self'"],
  'font-src': ["'self'"],
  'manifest-src': ["'self'"],
  'object-src': ["'none'"],
  'frame-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
};

export type CspTarget = 'meta' | 'preview-header' | 'dev-header';

/** The policy text for a place it is delivered. */
export function contentSecurityPolicy(target: CspTarget, options: { reportUri?: string } = {}): string {
  const directives: Record<string, string[]> = { ...SHARED };
  if (target === 'dev-header') directives['style-src'] = ["'self'", "'unsafe-inline'"];
  if (target !== 'meta') directives['frame-ancestors'] = ["'none'"];
  if (target !== 'meta' && options.reportUri) directives['report-uri'] = [options.reportUri];
  return Object.entries(directives)
    .map(([name, sources]) => `${name} ${sources.join(' ')}`)
    .join('; ');
}

/** Where the dev server takes violation reports (printed on its console, so every e2e run shows them). */
export const CSP_REPORT_PATH = '/__csp-report';
