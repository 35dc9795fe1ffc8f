// Bundles the headless entry points with rolldown, the bundler vite 8 ships (one file each, no
// runtime TypeScript loader needed): the CLI (src/cli/main.ts -> out/cli/pyheap.mjs) and the
// simulation worker (src/main/sim-worker.ts -> out/worker/sim-worker.mjs), which the tests of
// the main-process host start with real worker_threads (the app's own copy is built by
// electron-vite into out/main).
import { build } from 'rolldown';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  input: resolve(root, 'src/cli/main.ts'),
  platform: 'node',
  logLevel: 'warn',
  output: { file: resolve(root, 'out/cli/pyheap.mjs'), format: 'esm', sourcemap: true },
});
await build({
  input: resolve(root, 'src/main/sim-worker.ts'),
  platform: 'node',
  logLevel: 'warn',
  output: { file: resolve(root, 'out/worker/sim-worker.mjs'), format: 'esm', sourcemap: true },
});
