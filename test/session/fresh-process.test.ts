/**
 * A saved session, loaded by a fresh process, gives the identical heap and timeline: a session
 * of every kind of input (console code, a cancelled run, a workload, a trace, bookmarks) is
 * built here, saved, and rebuilt by `pyheap session dump` in a child process.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LiveSession } from '../../src/core/session/live';
import { encodeSession } from '../../src/core/session/format';
import { formatSummary } from '../../src/core/trace/replay';
import { formatTimeline } from '../../src/cli/session-commands';

const CLI = resolve(__dirname, '../../out/cli/pyheap.mjs');

function dump(path: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, 'session', 'dump', path, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
}

describe('a session in a fresh process', () => {
  for (const [python, pythonMalloc] of [
    ['3.8', 'pymalloc'],
    ['3.12', 'debug'],
  ] as const) {
    it(`rebuilds the identical heap and timeline (${python}, PYTHONMALLOC=${pythonMalloc})`, () => {
      const s = new LiveSession({ python, pythonMalloc, placement: { kind: 'aslr', seed: 11 }, memoryLimit: null });
      s.runPython('xs = [str(i) for i in range(3000)]\nd = dict.fromkeys(xs)\n');
      let polls = 0;
      const cut = s.runPython('ys = []\nfor i in range(100000):\n    ys.append([i])\n', { shouldCancel: () => ++polls > 2 });
      expect(cut.error).toMatch(/KeyboardInterrupt/);
      s.runWorkload({ kind: 'fragmentation', seed: 5, blocks: 20000, sizeMin: 8, sizeMax: 400, distribution: 'log-uniform', releaseFraction: 0.9 });
      s.importTrace('t.trace', 'a 1 48\na 2 4096\nr 1 700\nf 2\n');
      s.runPython('del xs[::3]\n');
      s.ui = { view: 'heap', selection: null, bookmarks: [{ op: 1234, label: 'here' }] };
      const path = join(mkdtempSync(join(tmpdir(), 'pyheap-fresh-')), 's.pyheap');
      writeFileSync(path, encodeSession(s.toDoc()));

      const r = dump(path, '--internals');
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(formatTimeline(s) + formatSummary(s.viewHeap(), true));
      expect(r.stdout).toContain(`input 1 python ${s.inputs[1]!.start}..${s.inputs[1]!.end} interrupted_at=`);

      const at = Math.floor(s.total / 3);
      s.seek(at);
      const r2 = dump(path, '--at', String(at));
      expect(r2.stdout).toBe(formatTimeline(s) + formatSummary(s.viewHeap(), false));
    });
  }

  it('refuses a damaged file with one error line and status 2', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'pyheap-fresh-')), 'bad.pyheap');
    writeFileSync(path, 'PYHEAP but not really');
    const r = dump(path);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: /);
  });
});
