// Mounts the Bench page alone, with its real worker, for test/browser/bench.spec.ts. `?pack=URL`
// stands in for a neural pack chosen in Settings (run on WASM).
import { mount } from 'svelte';
import BenchPage from '../../../src/app/components/BenchPage.svelte';

const pack = new URLSearchParams(location.search).get('pack');
mount(BenchPage, {
  target: document.getElementById('bench')!,
  props: { neuralPack: pack ? { url: pack, prefer: 'wasm' } : null },
});
