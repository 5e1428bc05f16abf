/**
 * Exports of a plan round-trip: JSON and the Markdown handout read back into the same chat and plan,
 * A1111 parameters text parses back into the same plan (models resolved against the catalog), the
 * ComfyUI workflow is accepted by the ComfyUI test server, and a share link decodes to the same plan.
 * What-if: stage 3 re-run for another model gives that model's habits and trigger words.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/core/catalog/load.ts';
import { plannedModelOf } from '../../src/core/catalog/types.ts';
import { createDefaultEngine } from '../../src/core/engines/default/index.ts';
import { explainPlan } from '../../src/core/explain.ts';
import {
  catalogResolver,
  escapeMarkdown,
  decodeShare,
  encodeShare,
  jsonToPlanDocument,
  markdownToPlanDocument,
  parametersToPlan,
  ParametersError,
  PlanDocumentError,
  planToComfyWorkflow,
  planToJson,
  planToMarkdown,
  planToParameters,
  shareUrl,
  shareValueOf,
} from '../../src/core/export/index.ts';
import { runPipeline, type PlanResult } from '../../src/core/pipeline.ts';
import type { GenerationPlan } from '../../src/core/plan.ts';
import { diffPlans, refitForModel } from '../../src/core/whatif.ts';
import { ComfyTestServer } from '../servers/comfyui-test-server.ts';

const starterDir = fileURLToPath(new URL('../../public/models/starter/', import.meta.url));
const { catalog } = loadCatalog(
  {
    catalog: { file: 'catalog.jsonl', text: readFileSync(starterDir + 'catalog.jsonl', 'utf8') },
    demonstrations: { file: 'demonstrations.jsonl', text: readFileSync(starterDir + 'demonstrations.jsonl', 'utf8') },
  },
  'starter',
);
const engine = createDefaultEngine(catalog);
const planned = catalog.models.map(plannedModelOf);
const model = (id: number) => planned.find((m) => m.id === id)!;
const messages = ['an oil painting of a mountain landscape at sunset', 'make it "stormy" <b>please</b>'];

let result: PlanResult;
beforeAll(async () => {
  result = await runPipeline(engine, { messages, images: [] });
});

/** A LoRA plan with a base checkpoint and hashes, so the A1111 text must carry all of them. */
function loraPlan(): GenerationPlan {
  return {
    prompt: 'ghibli style, a girl on a hill, wind, clouds',
    negative_prompt: 'lowres, bad anatomy',
    model: { ...model(6526), hash: 'ABCDEF0123' },
    base_checkpoint: { ...model(4384), hash: '879db523c3' },
    arguments: { sampler: 'DPM++ 2M Karras', steps: 28, cfg_scale: 7.5, width: 512, height: 768, seed: 4242 },
  };
}

describe('exports round-trip', () => {
  it('JSON', () => {
    const json = planToJson({ messages, plan: result.plan, engine: result.engine, explanation: explainPlan(result) });
    expect(jsonToPlanDocument(json)).toEqual({
      format: 'chatgen-plan/1',
      messages,
      plan: result.plan,
      engine: result.engine,
    });
    expect(() => jsonToPlanDocument(json.replace('"steps": ', '"steps": 9'))).toThrow(PlanDocumentError);
    expect(() => jsonToPlanDocument('{"format":"other"}')).toThrow(/format/);
  });

  it('Markdown handout: explanations, escaped user text, glossary, and the plan back', () => {
    const md = planToMarkdown({ messages, plan: result.plan, engine: result.engine, explanation: explainPlan(result) });
    expect(md).toContain('## 1. The prompt');
    expect(md).toContain('The prompt keeps your');
    expect(md).toContain('**CFG scale**');
    expect(md).toContain('\\<b\\>please\\</b\\>');
    // Raw user text appears only inside fenced blocks, which Markdown never renders as HTML.
    expect(md.replace(/(`{3,})[\s\S]*?\n\1/g, '')).not.toContain('<b>');
    expect(md).toContain(`\`\`\`\n${result.plan.prompt}\n\`\`\``);
    expect(markdownToPlanDocument(md)).toEqual({
      format: 'chatgen-plan/1',
      messages,
      plan: result.plan,
      engine: result.engine,
    });
  });

  it('A1111 parameters text parses back into the same plan (checkpoint and LoRA with its checkpoint)', () => {
    const resolve = catalogResolver(planned);
    const text = planToParameters(result.plan);
    expect(text).toMatch(/\nSteps: \d+, Sampler: .+, CFG scale: .+, Seed: \d+, Size: \d+x\d+, Model: [\w.-]+$/);
    expect(parametersToPlan(text, resolve)).toEqual(result.plan);

    const lora = loraPlan();
    const loraText = planToParameters(lora);
    expect(loraText.split('\n')[0]).toBe('ghibli style, a girl on a hill, wind, clouds <lora:ghibli_style_offset:1>');
    expect(loraText).toContain(
      'Model hash: 879db523c3, Model: dreamshaper_8, Lora hashes: "ghibli_style_offset: abcdef0123"',
    );
    const withHashes = [...planned.filter((m) => m.id !== 6526 && m.id !== 4384), lora.model, lora.base_checkpoint!];
    expect(parametersToPlan(loraText, catalogResolver(withHashes))).toEqual(lora);
    // Text pasted from A1111 with Windows line ends reads the same.
    expect(parametersToPlan(loraText.replace(/\n/g, '\r\n'), catalogResolver(withHashes))).toEqual(lora);
    expect(() => parametersToPlan(text.replace(/Model: [\w.-]+$/, 'Model: notInCatalog'), resolve)).toThrow(
      ParametersError,
    );
    expect(() => parametersToPlan('a cat\nSteps: 20, Sampler: Euler a', resolve)).toThrow(/Size/);
  });

  describe('ComfyUI API workflow', () => {
    const server = new ComfyTestServer({
      checkpoints: planned.filter((m) => m.type === 'Checkpoint').map((m) => m.file),
      loras: planned.filter((m) => m.type === 'LORA').map((m) => m.file),
    });
    let url = '';
    beforeAll(async () => {
      url = await server.listen();
    });
    afterAll(() => server.close());

    for (const [name, plan] of [
      ['checkpoint', () => result.plan],
      ['LoRA', loraPlan],
    ] as const) {
      it(`is accepted by the ComfyUI test server (${name} plan)`, async () => {
        const workflow = planToComfyWorkflow(plan());
        const reply = await fetch(`${url}/prompt`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: workflow, client_id: 'export-test' }),
        });
        expect(reply.status, JSON.stringify(server.rejected)).toBe(200);
        expect(await reply.json()).toMatchObject({ prompt_id: expect.any(String) });
        expect(server.rejected).toEqual([]);
        const sampler = Object.values(workflow).find((n) => n.class_type === 'KSampler')!;
        expect(sampler.inputs).toMatchObject({
          seed: plan().arguments.seed,
          steps: plan().arguments.steps,
          cfg: plan().arguments.cfg_scale,
        });
      });
    }

    it('refuses a LoRA plan without a checkpoint unless one is given', () => {
      const { base_checkpoint: _, ...noBase } = loraPlan();
      expect(() => planToComfyWorkflow(noBase)).toThrow(/needs a checkpoint/);
      expect(
        planToComfyWorkflow(noBase, { fallbackCheckpoint: 'v1-5-pruned-emaonly.safetensors' })['4']!.inputs,
      ).toEqual({ ckpt_name: 'v1-5-pruned-emaonly.safetensors' });
    });
  });

  it('share link: the chat and plan in the fragment, no images, decoded the same', async () => {
    const shared = { messages, plan: result.plan, engine: result.engine };
    const url = await shareUrl('http://127.0.0.1:5173/app/?teach=1#old', shared);
    expect(url.startsWith('http://127.0.0.1:5173/app/#share=')).toBe(true);
    const value = shareValueOf(new URL(url).hash)!;
    expect(value).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(await decodeShare(value)).toEqual(shared);
    // The engine's version string is most of it; links stay far below what browsers accept.
    expect(value.length).toBeLessThan(2000);
    await expect(decodeShare(await encodeShare(shared).then((v) => v.slice(0, 40)))).rejects.toThrow();
    expect(shareValueOf('#other=1')).toBeNull();
    // The stage explanations may ride along (text only).
    const { prompt, model, arguments: args } = explainPlan(result);
    const withExplanation = { ...shared, explanation: { prompt, model, arguments: args } };
    expect(await decodeShare(await encodeShare(withExplanation))).toEqual(withExplanation);
  });
});

describe('what-if: another model re-runs stage 3', () => {
  it('an SDXL checkpoint gets an SDXL size and a LoRA its trigger words; the diff says what changed and why', async () => {
    const input = { messages: ['an oil painting of a mountain landscape at sunset'], images: [] };
    const start = await runPipeline(engine, input);
    const refit = (
      from: { prompt: PlanResult['prompt']; model: PlanResult['model']; plan: GenerationPlan },
      id: number,
    ) =>
      refitForModel(engine, {
        input,
        prompt: from.prompt,
        previous: from.model,
        model: model(id),
        seed: from.plan.arguments.seed,
        negative_prompt: from.plan.negative_prompt,
      });

    const lora = await refit(start, 7501);
    expect(lora.plan.model.name).toBe('Vivid Watercolors LoRA Extraction');
    expect(lora.plan.prompt).toContain('wtrcolor style');
    expect(lora.model.evidence.notes[0]).toMatch(/You picked Vivid Watercolors/);
    expect(lora.model.evidence.candidates).toEqual(start.model.evidence.candidates);
    expect(explainPlan({ ...lora, prompt: start.prompt }).model).toMatch(
      /^You picked Vivid Watercolors LoRA Extraction, a LoRA .*Its trigger words “wtrcolor style” were added to the prompt\./,
    );
    expect(diffPlans(start.plan, lora.plan).find((c) => c.label === 'Prompt')!.why).toContain('“wtrcolor style”');

    // From the LoRA plan to an SDXL checkpoint: an SDXL size, and the LoRA's trigger words leave with it.
    const sdxl = await refit({ ...lora, prompt: start.prompt }, 910002);
    expect(sdxl.plan.model.name).toBe('Juggernaut XL');
    expect(sdxl.plan.arguments.width * sdxl.plan.arguments.height).toBeGreaterThanOrEqual(1024 * 1024 * 0.75);
    expect(sdxl.plan.arguments.seed).toBe(start.plan.arguments.seed);
    expect(sdxl.plan.prompt).not.toContain('wtrcolor style');
    expect(sdxl.plan.base_checkpoint).toBeUndefined();
    const changes = diffPlans(lora.plan, sdxl.plan, sdxl.arguments.evidence.sources);
    expect(changes.map((c) => c.label)).toEqual(expect.arrayContaining(['Model', 'Size', 'Prompt']));
    const size = changes.find((c) => c.label === 'Size')!;
    expect(size.after).toMatch(/^\d+×\d+$/);
    expect(size.why.length).toBeGreaterThan(10);
    expect(diffPlans(start.plan, start.plan)).toEqual([]);
  });
});

describe('Markdown escaping', () => {
  it('neutralises markup anywhere and list or heading markers at the start, and leaves other punctuation', () => {
    expect(escapeMarkdown('a *bold* [link](x) <img src=x> `code` | pipe & amp')).toBe(
      'a \\*bold\\* \\[link\\](x) \\<img src=x\\> \\`code\\` \\| pipe \\& amp',
    );
    expect(escapeMarkdown('- not a list')).toBe('\\- not a list');
    expect(escapeMarkdown('1. not a list')).toBe('1\\. not a list');
    expect(escapeMarkdown('# not a heading')).toBe('\\# not a heading');
    expect(escapeMarkdown('SD 1.5 (a checkpoint), done.')).toBe('SD 1.5 (a checkpoint), done.');
    expect(escapeMarkdown('two\nlines')).toBe('two lines');
  });
});
