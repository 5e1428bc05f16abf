/**
 * The curated packs Settings lists: every manifest in public/models/packs parses, names a hub export,
 * has no head (hybrid planning until one is trained) and lists a download size for each dtype it offers;
 * the index reader reports a broken pack without hiding the others.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { downloadSize, dtypeFor, loadCuratedPacks } from '../../src/core/engines/neural/curated.ts';
import { parsePackManifest } from '../../src/core/engines/neural/manifest.ts';

const packsDir = path.resolve(import.meta.dirname, '../../public/models/packs');
const base = 'http://app.test/models/packs/';
const fromDisk = async (url: string) =>
  readFileSync(path.join(packsDir, decodeURIComponent(url.slice(base.length))), 'utf8');

describe('curated packs', () => {
  it('lists every pack of index.json with a hub export, no head and a size per dtype', async () => {
    const { packs, problems } = await loadCuratedPacks(`${base}index.json`, fromDisk);
    expect(problems).toEqual([]);
    expect(packs.map((p) => p.manifest.name)).toEqual([
      'Qwen2.5-0.5B-Instruct',
      'SmolLM2-360M-Instruct',
      'SmolVLM-256M-Instruct',
    ]);
    for (const { url, manifest } of packs) {
      expect(url).toMatch(/^http:\/\/app\.test\/models\/packs\/[\w.-]+\/$/);
      expect('hub_id' in manifest.base_model).toBe(true);
      expect(manifest.head).toBeNull();
      for (const dtype of manifest.dtypes) expect(manifest.listing?.download_mb[dtype]).toBeGreaterThan(0);
    }
    const qwen = packs[0]!.manifest;
    expect(downloadSize(qwen, 'wasm', false)).toEqual({ dtype: 'q4', mb: 786 });
    expect(downloadSize(qwen, 'webgpu', false)).toEqual({ dtype: 'q4', mb: 786 });
    expect(downloadSize(qwen, 'webgpu', true)).toEqual({ dtype: 'q4f16', mb: 483 });
    // The vision-language pack: its three graphs per dtype; WASM takes q8 (its q4 export keeps fp32 embeddings).
    const smolvlm = packs[2]!.manifest;
    expect(smolvlm.architecture).toBe('vision-language');
    expect(smolvlm.listing?.adds[0]).toBe('reading a reference image (the first one attached) in stage 1');
    expect(downloadSize(smolvlm, 'wasm', false)).toEqual({ dtype: 'q8', mb: 260 });
    expect(downloadSize(smolvlm, 'webgpu', true)).toEqual({ dtype: 'q4f16', mb: 189 });
  });

  it('reports a broken pack by name and keeps the others', async () => {
    const files: Record<string, string> = {
      [`${base}index.json`]: JSON.stringify({ format: 'chatgen-pack-index/1', packs: ['good', 'bad'] }),
      [`${base}good/manifest.json`]: readFileSync(path.join(packsDir, 'qwen2.5-0.5b-instruct/manifest.json'), 'utf8'),
      [`${base}bad/manifest.json`]: JSON.stringify({ format: 'chatgen-pack/1', name: 'bad', listing: { adds: [] } }),
    };
    const { packs, problems } = await loadCuratedPacks(`${base}index.json`, async (url) => files[url]!);
    expect(packs.map((p) => p.url)).toEqual([`${base}good/`]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^bad: .*"listing.adds" must be a non-empty list/s);
    await expect(loadCuratedPacks(`${base}index.json`, async () => '{"packs": []}')).rejects.toThrow(
      /not a pack index/,
    );
  });

  it('chooses the first dtype a backend runs: fp16 variants only on WebGPU with shader-f16', () => {
    expect(dtypeFor(['q4f16', 'q4', 'q8'], 'wasm', true)).toBe('q4');
    expect(dtypeFor(['fp16', 'q4f16'], 'webgpu', false)).toBeNull();
    expect(dtypeFor(['fp16', 'q8'], 'webgpu', true)).toBe('fp16');
  });

  it('accepts a manifest without "head" and refuses a malformed one', () => {
    const raw = JSON.parse(readFileSync(path.join(packsDir, 'smollm2-360m-instruct/manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(parsePackManifest(raw).head).toBeNull();
    expect(() => parsePackManifest({ ...raw, head: 'head.f32' })).toThrow(
      /"head" must be an object .* \(or left out for hybrid planning\)/,
    );
    expect(() =>
      parsePackManifest({ ...raw, listing: { ...(raw['listing'] as object), download_mb: { q5: 10 } } }),
    ).toThrow(/unknown dtype "q5"/);
  });
});
