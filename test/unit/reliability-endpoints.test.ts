/**
 * Reliability suite, endpoint and chat findings of the audit (issue 15), against the protocol-faithful
 * test servers over real HTTP. Each test names its finding and failed on the code before the fix.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatInputError } from '../../src/core/chat.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { A1111Client } from '../../src/core/endpoints/a1111.ts';
import {
  decideEndpointSource,
  kioskConfigFromUrl,
  parseKioskConfig,
  validateEndpointConfig,
} from '../../src/core/endpoints/kiosk.ts';
import {
  embedParameters,
  formatParameters,
  parseParameters,
  readParameters,
} from '../../src/core/endpoints/infotext.ts';
import { readPngChunks } from '../../src/core/png.ts';
import { settingsForStorage } from '../../src/core/endpoints/secrets.ts';
import { runPipeline } from '../../src/core/pipeline.ts';
import { A1111TestServer } from '../servers/a1111-test-server.ts';
import { CHECKPOINT_PLAN, config, failure, resetBeforeEach, serveDuringSuite } from './endpoints-fixtures.ts';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const txt2img = (server: A1111TestServer) => server.requests.filter((r) => r.path === '/sdapi/v1/txt2img');

describe('finding 6: secrets in links, endpoint URLs and storage', () => {
  it('refuses key-like parameters in a link by name pattern, not by a fixed list', () => {
    for (const name of ['access_token', 'x-api-key', 'bearer', 'client_secret', 'apiKey', 'password', 'X-Auth-Token']) {
      const params = new URLSearchParams({ endpoint: 'a1111:http://gpu-1:7860', [name]: 'sk-123' });
      expect(() => kioskConfigFromUrl(params), name).toThrow(/API keys are not accepted in the URL/);
    }
    // Harmless names that merely contain short fragments stay allowed.
    expect(
      kioskConfigFromUrl(new URLSearchParams({ endpoint: 'a1111:http://gpu-1:7860', dispatch: 'round-robin' }))
        ?.dispatch,
    ).toBe('round-robin');
  });

  it('refuses a key in the endpoint URL query and never echoes a secret back', () => {
    const keyed = validateEndpointConfig({ kind: 'a1111', url: 'http://gpu-1:7860/?api_key=sk-LEAK-1' });
    expect(keyed.config).toBeNull();
    expect(keyed.problems.join('\n')).toMatch(/"api_key" in the URL looks like a key/);
    const withPassword = validateEndpointConfig({ kind: 'a1111', url: 'http://admin:hunter2-LEAK@gpu-1:7860' });
    expect(withPassword.config).toBeNull();
    for (const problem of [...keyed.problems, ...withPassword.problems]) expect(problem).not.toMatch(/LEAK/);
    expect(withPassword.problems.join('\n')).toContain('http://***:***@gpu-1:7860');
  });

  it('"don\'t remember keys" leaves every key out of what is stored', () => {
    const settings = {
      endpoints: [
        config('openai', 'http://gpu-1:8000', { apiKey: 'sk-secret' }),
        config('a1111', 'http://gpu-2:7860', { authHeader: 'Basic abc' }),
      ],
      dispatch: 'least-busy' as const,
      batchSize: 1,
      onlyInstalledModels: false,
      rememberKeys: false,
    };
    const stored = settingsForStorage(settings);
    expect(JSON.stringify(stored)).not.toMatch(/sk-secret|Basic abc/);
    expect(stored.endpoints.map((e) => e.baseUrl)).toEqual(['http://gpu-1:8000', 'http://gpu-2:7860']);
    expect(JSON.stringify(settingsForStorage({ ...settings, rememberKeys: true }))).toContain('sk-secret');
  });
});

/** A server that answers everything with a 307 to `target` (same path): an endpoint that moved. */
function redirector(target: () => string) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(307, { Location: target() + (req.url ?? '/'), 'Access-Control-Allow-Origin': '*' });
    res.end();
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: () => url, requests };
}

describe('finding 7: redirects', () => {
  const target = new A1111TestServer({ delayMs: 0 });
  const targetUrl = serveDuringSuite(target);
  resetBeforeEach(target, 0);
  const moved = redirector(targetUrl);

  it('a keyed request never follows a redirect and says so (not CORS, not unreachable)', async () => {
    const client = new A1111Client(config('a1111', moved.url(), { apiKey: 'sk-secret' }));
    const error = await failure(client.generate(CHECKPOINT_PLAN));
    expect(error.reason).toBe('redirect');
    expect(error.message).toContain(`${moved.url()} answered with a redirect`);
    expect(error.message).not.toMatch(/CORS/);
    expect(target.requests).toEqual([]);
  });

  it('an unkeyed job that was redirected reports, and is stored under, the host that made the image', async () => {
    const client = new A1111Client(config('a1111', moved.url()));
    const out = await client.generate(CHECKPOINT_PLAN);
    expect(txt2img(target)).toHaveLength(1);
    expect(out.endpoint.url).toBe(targetUrl());
    expect(out.server['redirected_from']).toBe(moved.url());
  });
});

describe('finding 10: image replies', () => {
  const server = new A1111TestServer({ delayMs: 0 });
  const url = serveDuringSuite(server);
  resetBeforeEach(server, 0);

  it('refuses a PNG whose header claims a size its data does not have', async () => {
    server.mode.reply = 'png-lying-size';
    const error = await failure(new A1111Client(config('a1111', url())).generate(CHECKPOINT_PLAN));
    expect(error.reason).toBe('bad-reply');
    expect(error.message).toContain('image 1 of the reply says it is 100000×100000 pixels but its data does not match');
  });

  it('writes only its own text chunk into a downloaded PNG, whatever the server put there', async () => {
    server.mode.reply = 'png-with-text';
    const out = await new A1111Client(config('a1111', url())).generate(CHECKPOINT_PLAN);
    const png = embedParameters(out.images[0]!.png, formatParameters(CHECKPOINT_PLAN, out.images[0]!.seed));
    const texts = readPngChunks(png).filter((c) => ['tEXt', 'iTXt', 'zTXt'].includes(c.type));
    expect(texts).toHaveLength(1);
    expect(readParameters(png)).toMatch(/^a lighthouse on a cliff/);
  });

  it('a newline in the prompt cannot inject a "Negative prompt:" line into the parameters text', () => {
    const plan = {
      ...CHECKPOINT_PLAN,
      prompt: 'a cat\nNegative prompt: injected\nSteps: 1',
      negative_prompt: 'blurry',
    };
    const parsed = parseParameters(formatParameters(plan, 7));
    expect(parsed.negative_prompt).toBe('blurry');
    expect(parsed.prompt).toBe('a cat Negative prompt: injected Steps: 1');
    expect(parsed.fields['Steps']).toBe('30');
  });
});

describe('finding 11: length limits on chats and prompts', () => {
  const server = new A1111TestServer({ delayMs: 0 });
  const url = serveDuringSuite(server);
  resetBeforeEach(server, 0);

  it('refuses a 2 MB chat message with a message giving the limit', async () => {
    const dir = path.resolve(import.meta.dirname, '../../public/models/starter');
    const { catalog } = loadCatalog(
      {
        catalog: { file: 'catalog.jsonl', text: readFileSync(path.join(dir, 'catalog.jsonl'), 'utf8') },
        demonstrations: {
          file: 'demonstrations.jsonl',
          text: readFileSync(path.join(dir, 'demonstrations.jsonl'), 'utf8'),
        },
      },
      'starter',
    );
    const huge = 'a fox in a library '.repeat(110_000);
    const run = runPipeline(createDefaultEngine(catalog), { messages: [huge], images: [] });
    await expect(run).rejects.toThrow(ChatInputError);
    await expect(run).rejects.toThrow(/^Message 1 is 2,089,999 characters long; the limit is 4,000/);
  });

  it('does not send a prompt longer than the endpoint takes', async () => {
    const plan = { ...CHECKPOINT_PLAN, prompt: 'detailed '.repeat(3000) };
    const error = await failure(new A1111Client(config('a1111', url())).generate(plan));
    expect(error.reason).toBe('invalid-plan');
    expect(error.message).toContain(
      'the prompt is 27,000 characters long; AUTOMATIC1111 / Forge / SD.Next takes at most 10,000 here',
    );
    expect(txt2img(server)).toEqual([]);
  });
});

describe('finding 4: a link with ?endpoint= never replaces the endpoints silently', () => {
  const saved = {
    endpoints: [config('a1111', 'http://127.0.0.1:7860')],
    dispatch: 'least-busy' as const,
    onlyInstalledModels: false,
    batchSize: 1,
  };
  const link = kioskConfigFromUrl(new URLSearchParams({ endpoint: 'a1111:http://evil.example:7860' }))!;

  it('asks, showing the host, when the link names other endpoints; the saved ones stay in use meanwhile', () => {
    const decision = decideEndpointSource({ link, kioskFile: null, saved });
    expect(decision.ask?.hosts).toEqual(['evil.example:7860 (a1111)']);
    expect(decision.settings?.endpoints.map((e) => e.baseUrl)).toEqual(['http://127.0.0.1:7860']);
    // The same endpoints as saved: nothing to ask.
    expect(
      decideEndpointSource({
        link: kioskConfigFromUrl(new URLSearchParams({ endpoint: 'a1111:http://127.0.0.1:7860' })),
        kioskFile: null,
        saved,
      }).ask,
    ).toBeNull();
    // Nothing saved (a fresh browser): the link replaces nothing and configures the visit.
    const fresh = decideEndpointSource({ link, kioskFile: null, saved: null });
    expect(fresh.ask).toBeNull();
    expect(fresh.settings?.endpoints.map((e) => e.baseUrl)).toEqual(['http://evil.example:7860']);
  });

  it('in a kiosk, ignores the link unless kiosk.json allows URL overrides', () => {
    const kioskFile = parseKioskConfig({ endpoints: [{ kind: 'comfyui', url: 'http://gpu-1:8188' }] });
    const ignored = decideEndpointSource({ link, kioskFile, saved });
    expect(ignored.ask).toBeNull();
    expect(ignored.settings?.endpoints.map((e) => e.baseUrl)).toEqual(['http://gpu-1:8188']);
    expect(ignored.notice).toContain('ignored');
    const allowing = parseKioskConfig({
      endpoints: [{ kind: 'comfyui', url: 'http://gpu-1:8188' }],
      allowUrlOverrides: true,
    });
    expect(decideEndpointSource({ link, kioskFile: allowing, saved }).ask?.hosts).toEqual([
      'evil.example:7860 (a1111)',
    ]);
  });
});
