// Mounts the Bench page alone, with its real worker, for test/browser/bench.spec.ts. `?pack=URL`
// stands in for a neural pack chosen in Settings (run on WASM); `?broken` swaps in a worker that dies mid-run.
import { mount } from 'svelte';
import BenchPage from '../../../src/app/components/BenchPage.svelte';

const query = new URLSearchParams(location.search);
const pack = query.get('pack');
mount(BenchPage, {
  target: document.getElementById('bench')!,
  props: {
    neuralPack: pack ? { url: pack, prefer: 'wasm' } : null,
    ...(query.has('broken')
      ? { createWorker: () => new Worker(new URL('./broken-bench.worker.ts', import.meta.url), { type: 'module' }) }
      : {}),
  },
});
