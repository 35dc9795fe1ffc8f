import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';

const target = document.getElementById('app');
if (!target) throw new Error('PyHeap Lab: #app element missing from index.html');
mount(App, { target });
