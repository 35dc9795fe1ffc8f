#!/usr/bin/env node
// The `pyheap` command: runs the bundled CLI (built by `npm run build`).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = resolve(dirname(fileURLToPath(import.meta.url)), '../out/cli/pyheap.mjs');
if (!existsSync(bundle)) {
  process.stderr.write('error: the CLI is not built; run `npm run build` first\n');
  process.exit(2);
}
await import(pathToFileURL(bundle).href);
