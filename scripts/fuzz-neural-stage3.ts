/**
 * Stage 3 of the neural engine on the tiny fixture pack over many seeded random chats (a benchmark that
 * prints figures; the unit test runs the first 60 of the same chats):
 *
 *   npx tsx scripts/fuzz-neural-stage3.ts [--chats 1000] [--seed 99]
 *
 * Prints how many chats gave arguments that fail validateArguments or exceed the pack's demonstrations
 * (exit code 1 when any did) and the wall time of stage 3 per chat (p50, p95, max).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadCatalog } from '../src/core/catalog/load.ts';
import { createNeuralEngine } from '../src/core/engines/neural/index.ts';
import { loadNodePack } from '../src/node/neural.ts';
import { fuzzStage3, randomChats } from './lib/stage3-fuzz.ts';

const root = path.resolve(import.meta.dirname, '..');
const { values } = parseArgs({
  options: { chats: { type: 'string', default: '1000' }, seed: { type: 'string', default: '99' } },
});
const chats = Number(values.chats);
if (!Number.isInteger(chats) || chats < 1) throw new Error(`--chats must be a whole number >= 1, got ${values.chats}`);

const starterDir = path.join(root, 'public/models/starter');
const read = (file: string) => ({ file, text: readFileSync(path.join(starterDir, file), 'utf8') });
const { catalog } = loadCatalog(
  { catalog: read('catalog.jsonl'), demonstrations: read('demonstrations.jsonl') },
  'starter',
);
const pack = await loadNodePack(path.join(root, 'test/fixtures/pack-tiny'));
try {
  const engine = createNeuralEngine({ session: pack.session, catalog, head: pack.head, pack: pack.manifest });
  const started = performance.now();
  const { failures, ms } = await fuzzStage3({
    engine,
    models: catalog.models,
    chats: randomChats(chats, Number(values.seed)),
    maxDemonstrations: pack.manifest.demonstrations.arguments,
  });
  const sorted = [...ms].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!.toFixed(1);
  console.log(`stage 3 on the tiny pack: ${chats} chats in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  console.log(`per chat: p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`);
  console.log(`invalid: ${failures.length}`);
  for (const f of failures.slice(0, 20)) console.log(`  ${f}`);
  if (failures.length > 0) process.exitCode = 1;
} finally {
  await pack.session.dispose();
}
