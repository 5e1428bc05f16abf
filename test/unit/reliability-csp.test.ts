/**
 * Reliability suite, finding 13: the app ships a strict Content-Security-Policy (a meta tag in the
 * built index.html, headers from the dev and preview servers). The browser side, that the app, its
 * workers and the WASM runtime run under it, is test/e2e/reliability.spec.ts.
 */
import type { IndexHtmlTransformContext, Plugin } from 'vite';
import { describe, expect, it } from 'vitest';
import viteConfig from '../../vite.config.ts';

const policy = (text: string) =>
  new Map(
    text
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...sources]) => [name!, sources]),
  );

function builtHeadTags(): { tag: string; attrs?: Record<string, string | boolean | undefined> }[] {
  const plugins = (viteConfig.plugins ?? []).flat() as Plugin[];
  const csp = plugins.find((p) => p && typeof p === 'object' && 'name' in p && p.name === 'chatgen-csp');
  expect(csp, 'vite.config.ts has the CSP plugin').toBeDefined();
  const hook = csp!.transformIndexHtml as { handler: (html: string, ctx: IndexHtmlTransformContext) => unknown };
  return hook.handler('<html><head></head><body></body></html>', {
    path: '/index.html',
    filename: 'index.html',
  } as IndexHtmlTransformContext) as ReturnType<typeof builtHeadTags>;
}

describe('finding 13: Content-Security-Policy', () => {
  it('the built index.html carries a strict policy in a meta tag', () => {
    const meta = builtHeadTags().find((t) => t.tag === 'meta' && t.attrs?.['http-equiv'] === 'Content-Security-Policy');
    expect(meta).toBeDefined();
    const p = policy(String(meta!.attrs!['content']));
    expect(p.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'", 'blob:']);
    expect(p.get('style-src')).toEqual(["'self'"]);
    expect(p.get('object-src')).toEqual(["'none'"]);
    expect(p.get('worker-src')).toEqual(["'self'", 'blob:']);
    expect(p.get('base-uri')).toEqual(["'self'"]);
    // Directives a meta tag cannot carry are left to the headers.
    expect(p.has('frame-ancestors')).toBe(false);
  });

  it('the dev and preview servers send it as a header, with frame-ancestors', () => {
    for (const headers of [viteConfig.server?.headers, viteConfig.preview?.headers]) {
      const p = policy(String((headers as Record<string, string> | undefined)?.['Content-Security-Policy'] ?? ''));
      expect(p.get('script-src')).toEqual(["'self'", "'wasm-unsafe-eval'", 'blob:']);
      expect(p.get('frame-ancestors')).toEqual(["'none'"]);
      expect(p.get('connect-src')).toEqual(expect.arrayContaining(['http:', 'https:', 'ws:', 'wss:']));
    }
  });
});
