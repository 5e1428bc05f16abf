import { mount } from 'svelte';
import App from './app/App.svelte';
import './app/styles.css';

const target = document.getElementById('app');
if (!target) throw new Error('index.html lacks the #app element');
mount(App, { target });
