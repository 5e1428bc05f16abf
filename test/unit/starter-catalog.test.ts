/**
 * The starter catalog ships in the repo (public/models/starter) and is what the default engine retrieves over
 * when nothing else is imported, so it must load cleanly through the same importer a user's import goes through
 * and hold enough well-formed demonstrations for every model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import type { CatalogModel, Demonstration } from '../../src/core/catalog/types.ts';
import { validateArguments } from '../../src/core/plan.ts';

const starterDir = fileURLToPath(new URL('../../public/models/starter/', import.meta.url));
const catalogText = readFileSync(starterDir + 'catalog.jsonl', 'utf8');
const demonstrationsText = readFileSync(starterDir + 'demonstrations.jsonl', 'utf8');
const { catalog, errors } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: catalogText },
    demonstrations: { file: 'demonstrations.jsonl', text: demonstrationsText },
  },
  'starter',
);

const CATEGORY_TAGS = ['photoreal', 'anime', '3d', 'painting', 'illustration', 'pixel art', 'architecture', 'product'];

function demonstrationsOf(model: CatalogModel): Demonstration[] {
  return catalog.demonstrations.filter((d) => d.model_id === model.id);
}

function fileStem(file: string): string {
  return file.replace(/\.(safetensors|ckpt|pt)$/, '');
}

const isSdxl = (base: string) => base.startsWith('SDXL');

describe('starter catalog', () => {
  it('loads every line of both files without a single error', () => {
    expect(errors).toEqual([]);
    const nonBlank = (text: string) => text.split('\n').filter((line) => line.trim() !== '').length;
    expect(catalog.models).toHaveLength(nonBlank(catalogText));
    expect(catalog.demonstrations).toHaveLength(nonBlank(demonstrationsText));
  });

  it('holds at least 48 models of both types and both SD 1.5 and SDXL families', () => {
    expect(catalog.models.length).toBeGreaterThanOrEqual(48);
    const types = new Set(catalog.models.map((m) => m.type));
    expect(types).toEqual(new Set(['Checkpoint', 'LORA']));
    expect(catalog.models.filter((m) => m.base_model === 'SD 1.5').length).toBeGreaterThanOrEqual(12);
    expect(catalog.models.filter((m) => isSdxl(m.base_model)).length).toBeGreaterThanOrEqual(12);
    const loras = catalog.models.filter((m) => m.type === 'LORA').length;
    // Roughly a third LoRAs: enough style and detail add-ons without crowding out the checkpoints.
    expect(loras / catalog.models.length).toBeGreaterThan(0.2);
    expect(loras / catalog.models.length).toBeLessThan(0.45);
  });

  it('has unique model ids, file names and image ids', () => {
    const modelIds = catalog.models.map((m) => m.id);
    expect(new Set(modelIds).size).toBe(modelIds.length);
    const files = catalog.models.map((m) => m.file);
    expect(new Set(files).size).toBe(files.length);
    const imageIds = catalog.demonstrations.map((d) => d.image_id);
    expect(new Set(imageIds).size).toBe(imageIds.length);
  });

  it('describes every model in plain text within the format limit', () => {
    for (const m of catalog.models) {
      expect(m.description.length, m.name).toBeGreaterThan(80);
      expect(m.description.length, m.name).toBeLessThanOrEqual(1200);
      // Plain text: the only angle brackets allowed are A1111's <lora:name:weight> syntax.
      expect(m.description, m.name).not.toMatch(/<(?!lora:)[a-z/][^>]*>/i);
      expect(m.file, m.name).toMatch(/\.(safetensors|ckpt)$/);
      expect(m.tags.length, m.name).toBeGreaterThan(0);
    }
  });

  it('gives every model at least 4 demonstrations that agree with its catalog record', () => {
    for (const m of catalog.models) {
      const demos = demonstrationsOf(m);
      expect(demos.length, m.name).toBeGreaterThanOrEqual(4);
      for (const d of demos) {
        expect(d.model, `image ${d.image_id}`).toBe(m.name);
        expect(d.model_type, `image ${d.image_id}`).toBe(m.type);
        expect(d.base_model, `image ${d.image_id}`).toBe(m.base_model);
      }
    }
  });

  it('uses arguments every endpoint accepts, sized for the model family', () => {
    const byId = new Map(catalog.models.map((m) => [m.id, m]));
    for (const d of catalog.demonstrations) {
      expect(validateArguments({ ...d.arguments, seed: 0 }), `image ${d.image_id}`).toEqual([]);
      const base = byId.get(d.model_id)?.base_model ?? '';
      const pixels = d.arguments.width * d.arguments.height;
      // SD 1.5 was trained at 512 px and SDXL at about one megapixel; off-family sizes give broken images.
      if (isSdxl(base)) expect(pixels, `image ${d.image_id}`).toBeGreaterThanOrEqual(900_000);
      else expect(Math.max(d.arguments.width, d.arguments.height), `image ${d.image_id}`).toBeLessThanOrEqual(768);
    }
  });

  it('shows how to call every LoRA: its file in a <lora:> tag, its trigger words, and a base checkpoint of its family', () => {
    const checkpointsByFile = new Map(catalog.models.filter((m) => m.type === 'Checkpoint').map((m) => [m.file, m]));
    for (const m of catalog.models.filter((x) => x.type === 'LORA')) {
      const demos = demonstrationsOf(m);
      const tag = `<lora:${fileStem(m.file)}:`;
      expect(m.trained_words.length > 0 || demos.some((d) => d.prompt.includes('<lora:')), m.name).toBe(true);
      for (const d of demos) {
        expect(d.prompt, `image ${d.image_id}`).toContain(tag);
        const base = checkpointsByFile.get(d.checkpoint ?? '');
        expect(base?.base_model, `image ${d.image_id} checkpoint ${d.checkpoint}`).toBe(m.base_model);
      }
      if (m.trained_words.length > 0) {
        const usesTrigger = demos.some((d) =>
          m.trained_words.some((w) => d.prompt.toLowerCase().includes(w.toLowerCase())),
        );
        expect(usesTrigger, m.name).toBe(true);
      }
    }
    for (const m of catalog.models.filter((x) => x.type === 'Checkpoint')) {
      for (const d of demonstrationsOf(m)) expect(d.prompt, `image ${d.image_id}`).not.toContain('<lora:');
    }
  });

  it('carries each category tag on at least 2 models', () => {
    for (const tag of CATEGORY_TAGS) {
      const carriers = catalog.models.filter((m) => m.tags.includes(tag));
      expect(carriers.length, tag).toBeGreaterThanOrEqual(2);
    }
  });

  it('covers everyday requests with at least one demonstration each', () => {
    const requests: [string, string[]][] = [
      ['a cozy watercolor fox reading in a library', ['fox', 'read', 'library']],
      ['make my cat look like a Ghibli hero', ['cat', 'ghibli', 'hero']],
      ['a product shot of a perfume bottle on marble', ['perfume', 'marble']],
      ['pixel art castle at night', ['pixel', 'castle', 'night']],
      ['a modern kitchen interior', ['kitchen', 'interior']],
    ];
    for (const [request, words] of requests) {
      const hit = catalog.demonstrations.some((d) => words.every((w) => d.prompt.toLowerCase().includes(w)));
      expect(hit, request).toBe(true);
    }
  });

  it('links to no Civitai page', () => {
    for (const line of (catalogText + '\n' + demonstrationsText).split('\n')) {
      expect(line).not.toMatch(/civitai\.com/i);
    }
  });
});
