import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Main and preload are built for Node/Electron; the renderer is a plain web bundle.
// The sandboxed preload must be CommonJS (Electron cannot load an ES module preload
// when `sandbox: true`).
export default defineConfig({
  main: {
    build: {
      rolldownOptions: {
        // The simulation worker is a second entry: main starts it with worker_threads.
        input: { index: resolve(__dirname, 'src/main/index.ts'), 'sim-worker': resolve(__dirname, 'src/main/sim-worker.ts') },
      },
    },
  },
  preload: {
    build: {
      externalizeDeps: false,
      rolldownOptions: {
        input: { index: resolve(__dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(__dirname, 'src/renderer'),
    plugins: [svelte({ configFile: resolve(__dirname, 'svelte.config.js') })],
    build: {
      rolldownOptions: {
        // bench-heapmap.html: the heap map alone, for its browser tests and bench:render (not linked from the app).
        input: { index: resolve(__dirname, 'src/renderer/index.html'), 'bench-heapmap': resolve(__dirname, 'src/renderer/bench-heapmap.html') },
      },
    },
  },
});
