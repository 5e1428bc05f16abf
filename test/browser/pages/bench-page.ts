// Mounts the Bench page alone, with its real worker, for test/browser/bench.spec.ts.
import { mount } from 'svelte';
import BenchPage from '../../../src/app/components/BenchPage.svelte';

mount(BenchPage, { target: document.getElementById('bench')! });
