// Bundles the headless CLI (src/cli/main.ts) into out/cli/pyheap.mjs with rolldown, the bundler
// vite 8 ships: one file, no runtime TypeScript loader needed.
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
