import { mount } from 'svelte';
import App from './app/App.svelte';
import './app/styles.css';
import { theme } from './app/stores/theme.svelte.ts';

theme.start();

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
mount(App, { target });
