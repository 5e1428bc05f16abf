/**
 * Trains a pack's ModelToken head in Node with the same code the browser worker runs: h is computed
 * once per demonstration with the frozen decoder, then only W_m is trained (AdamW). Writes the head
 * file and the model ids into the pack's manifest.
 *
 *   npx tsx scripts/neural-train-head.ts --pack DIR --catalog DIR [--epochs 60] [--lr 0.02]
 *
 * The catalog directory holds catalog.jsonl and demonstrations.jsonl. Each demonstration gives one
 * training pair: its prompt's content words stand in for the chat, its prompt and negative prompt
 * for the assistant's stage 1 reply.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { PackHeadTrainer } from '../src/core/engines/neural/head-training.ts';
import { encodeHeadFile } from '../src/core/engines/neural/manifest.ts';
import { loadNodePack } from '../src/node/neural.ts';

const { values } = parseArgs({
  options: {
    pack: { type: 'string' },
    catalog: { type: 'string' },
    epochs: { type: 'string', default: '60' },
    lr: { type: 'string', default: '0.02' },
  },
});
if (!values.pack || !values.catalog) {
  console.error('usage: tsx scripts/neural-train-head.ts --pack DIR --catalog DIR [--epochs N] [--lr X]');
  process.exit(2);
}
const read = (f: string) => ({ file: f, text: readFileSync(path.join(values.catalog!, f), 'utf8') });
const { catalog } = loadCatalog(
  { catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') },
  values.catalog,
);
const pack = await loadNodePack(values.pack);
const { session, manifest } = pack;
const started = performance.now();
let trainingFrom = 0;
const result = await new PackHeadTrainer(session, manifest, catalog).train(
  { epochs: Number(values.epochs), learningRate: Number(values.lr) },
  {
    onProgress: (p) => {
      if (p.phase === 'encoding' && p.done === p.total) {
        trainingFrom = performance.now();
        console.log(`h for ${p.total} demonstrations in ${((trainingFrom - started) / 1000).toFixed(1)} s`);
      } else if (p.phase === 'training' && p.epoch % 10 === 0) {
        console.log(`epoch ${p.epoch}: loss ${p.loss.toFixed(3)}, train accuracy ${(p.accuracy * 100).toFixed(1)}%`);
      }
    },
  },
);
console.log(
  `trained in ${((performance.now() - trainingFrom) / 1000).toFixed(1)} s; final train accuracy ${(result.accuracy * 100).toFixed(1)}%`,
);
// A pack without a head gets one named head.f32.
const headFile = manifest.head?.file ?? 'head.f32';
writeFileSync(path.join(values.pack, headFile), encodeHeadFile(result.head));
const manifestPath = path.join(values.pack, 'manifest.json');
const raw = JSON.parse(readFileSync(manifestPath, 'utf8')) as {
  head?: { file: string; model_ids: number[]; dim: number };
};
raw.head = { file: headFile, dim: result.head.dim, model_ids: result.head.modelIds };
writeFileSync(manifestPath, JSON.stringify(raw, null, 2) + '\n');
await session.dispose();
