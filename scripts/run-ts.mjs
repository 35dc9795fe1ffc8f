// Runs a TypeScript entry (a benchmark) by bundling it with rolldown into out/run/ first.
// Usage: node [node flags] scripts/run-ts.mjs ENTRY.ts [args...]
import { build } from 'rolldown';
import { basename, dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = process.argv[2];
if (!entry) {
  process.stderr.write('usage: node scripts/run-ts.mjs ENTRY.ts [args...]\n');
  process.exit(2);
}
const file = resolve(root, 'out/run', basename(entry).replace(/\.ts$/, '.mjs'));
await build({ input: resolve(entry), platform: 'node', logLevel: 'warn', output: { file, format: 'esm' } });
process.argv.splice(2, 1);
await import(pathToFileURL(file).href);
