// Mounts the generation components (settings, panel, gallery) alone for test/browser/generation.spec.ts.
import { mount } from 'svelte';
import GenerationHarness from './GenerationHarness.svelte';

mount(GenerationHarness, { target: document.getElementById('generation')! });
