/**
 * Builds the `pyheap` CLI bundle once before the suite, so CLI tests run the real entry
 * point (out/cli/pyheap.mjs) in a child process, as a user would.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

export default function setup(): void {
  execFileSync(process.execPath, [resolve(__dirname, '../scripts/build-cli.mjs')], { stdio: 'inherit' });
}
