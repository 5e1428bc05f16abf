/** The three endpoint test servers run inside a Playwright spec's own process, so its tests can flip their modes directly. */
import { test } from '@playwright/test';
import type { A1111TestServer } from './a1111-test-server.ts';
import type { ComfyTestServer } from './comfyui-test-server.ts';
import type { OpenAITestServer } from './openai-test-server.ts';
import { DEFAULT_MODE } from './test-server-common.ts';

export interface SpecServers {
  a1111: A1111TestServer;
  comfyui: ComfyTestServer;
  openai: OpenAITestServer;
}

export type SpecServerUrls = Record<keyof SpecServers, string>;

/**
 * Starts the servers before the spec's tests and closes them after; before each test their modes go
 * back to the defaults (each keeping its reply delay) and their recorded requests are cleared. The
 * returned URLs are filled in once the servers listen.
 */
export function serveDuringSpec(servers: SpecServers): SpecServerUrls {
  const urls: SpecServerUrls = { a1111: '', comfyui: '', openai: '' };
  const all = [servers.a1111, servers.comfyui, servers.openai];
  test.beforeAll(async () => {
    Object.assign(urls, {
      a1111: await servers.a1111.listen(),
      comfyui: await servers.comfyui.listen(),
      openai: await servers.openai.listen(),
    });
  });
  test.afterAll(async () => {
    await Promise.all(all.map((s) => s.close()));
  });
  test.beforeEach(() => {
    for (const s of all) {
      s.mode = { ...DEFAULT_MODE, delayMs: s.mode.delayMs };
      s.requests.length = 0;
    }
  });
  return urls;
}
