/**
 * Atomic saves and checked loads with real files in a temporary folder. Failures are injected
 * through the file-system parameter: a write that stops half-way (disk full), a failed flush,
 * a failed rename. Each must leave the previous file byte for byte as it was and no temporary
 * file behind.
 */
import * as fsp from 'node:fs/promises';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SessionFileError, loadSession, loadSessionFile, saveFileAtomic, type FileHandleLike, type FileSystemLike } from '../../src/main/files';

const FIX = resolve(__dirname, '../fixtures/session');
const dir = mkdtempSync(join(tmpdir(), 'pyheap-files-'));
let n = 0;
function freshDir(): string {
  const d = join(dir, `case${n++}`);
  mkdirSync(d);
  return d;
}

const OLD = new Uint8Array(Buffer.from('the previous session, intact\n'));
const NEW = new Uint8Array(200_000).map((_, i) => (i * 31) & 0xff);

function errno(code: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: injected`) as NodeJS.ErrnoException;
  e.code = code;
  return e;
}

/** Real node:fs/promises, with one step made to fail. */
function failing(step: 'write' | 'sync' | 'rename' | 'open', code = 'ENOSPC'): FileSystemLike & { tmpSeen: string[] } {
  const tmpSeen: string[] = [];
  return {
    tmpSeen,
    async open(path, flags, mode) {
      if (step === 'open' && flags === 'wx') throw errno(code);
      if (flags === 'wx') tmpSeen.push(path);
      const fh = await fsp.open(path, flags, mode);
      const h: FileHandleLike = {
        async write(buffer, offset, length, position) {
          if (step === 'write') {
            // Half of it reaches the disk, then the disk is full.
            await fh.write(buffer, offset, length >> 1, position);
            throw errno(code);
          }
          return fh.write(buffer, offset, length, position);
        },
        async sync() {
          if (step === 'sync' && flags === 'wx') throw errno(code);
          return fh.sync();
        },
        chmod: (m) => fh.chmod(m),
        close: () => fh.close(),
      };
      return h;
    },
    async rename(from, to) {
      if (step === 'rename') throw errno(code);
      return fsp.rename(from, to);
    },
    unlink: (p) => fsp.unlink(p),
    stat: (p) => fsp.stat(p),
    readFile: (p) => fsp.readFile(p),
  };
}

describe('saveFileAtomic', () => {
  it('writes a new file and leaves nothing else in the folder', async () => {
    const d = freshDir();
    const p = join(d, 'a.pyheap');
    await saveFileAtomic(p, NEW);
    expect(Buffer.from(readFileSync(p)).equals(Buffer.from(NEW))).toBe(true);
    expect(readdirSync(d)).toEqual(['a.pyheap']);
  });

  it('replaces an existing file and keeps its permissions', async () => {
    const d = freshDir();
    const p = join(d, 'a.pyheap');
    writeFileSync(p, OLD);
    chmodSync(p, 0o640);
    await saveFileAtomic(p, NEW);
    expect(readFileSync(p).length).toBe(NEW.length);
    expect(statSync(p).mode & 0o777).toBe(0o640);
    expect(readdirSync(d)).toEqual(['a.pyheap']);
  });

  for (const [step, code, message] of [
    ['write', 'ENOSPC', 'no space left on the device'],
    ['sync', 'EIO', 'input/output error'],
    ['rename', 'EACCES', 'permission denied'],
    ['open', 'EROFS', 'the file system is read-only'],
  ] as const) {
    it(`a failed ${step} (${code}) leaves the previous file intact and no temporary file`, async () => {
      const d = freshDir();
      const p = join(d, 'a.pyheap');
      writeFileSync(p, OLD);
      const fs = failing(step, code);
      const err = await saveFileAtomic(p, NEW, fs).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SessionFileError);
      expect((err as Error).message).toBe(`cannot save '${p}': ${message}`);
      expect(Buffer.from(readFileSync(p)).equals(Buffer.from(OLD))).toBe(true);
      expect(readdirSync(d)).toEqual(['a.pyheap']);
      // The temporary file was in the same folder (so the rename cannot cross file systems).
      if (step !== 'open') expect(fs.tmpSeen.length === 1 && fs.tmpSeen[0]!.startsWith(join(d, '.a.pyheap.'))).toBe(true);
    });
  }

  it('names a missing folder', async () => {
    const p = join(dir, 'no-such-folder', 'a.pyheap');
    await expect(saveFileAtomic(p, NEW)).rejects.toThrow(`cannot save '${p}': no such file or folder`);
  });
});

describe('loadSessionFile / loadSession', () => {
  const good = join(FIX, 'v1/mixed.pyheap');

  it('returns the bytes of an intact file, and loadSession its document', async () => {
    const bytes = await loadSessionFile(good);
    expect(bytes.length).toBe(1460);
    const f = await loadSession(good);
    expect(f.version).toBe(1);
    expect(f.doc.settings.python).toBe('3.8');
    expect(f.doc.inputs.map((x) => x.kind)).toEqual(['python', 'trace', 'workload', 'workload', 'workload']);
  });

  it('refuses damaged and foreign files with one line naming the file', async () => {
    const bad = async (name: string): Promise<SessionFileError> => {
      const p = join(FIX, 'invalid', name);
      const e = await loadSessionFile(p).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SessionFileError);
      return e as SessionFileError;
    };
    const p = (name: string): string => join(FIX, 'invalid', name);
    expect((await bad('bitflip-blob.pyheap')).message).toBe(`session file '${p('bitflip-blob.pyheap')}': checksum mismatch: the file is damaged`);
    expect((await bad('png-image.pyheap')).message).toBe(`session file '${p('png-image.pyheap')}': not a PyHeap Lab session file (it looks like a PNG image)`);
    expect((await bad('version-2.pyheap')).reason).toBe('format');
    expect((await bad('empty.pyheap')).message).toBe(`session file '${p('empty.pyheap')}': the file is empty`);
    // The frame is intact but the header is not: loadSessionFile passes it, loadSession refuses.
    const seed = p('header-seed-fraction.pyheap');
    expect((await loadSessionFile(seed)).length).toBeGreaterThan(0);
    await expect(loadSession(seed)).rejects.toThrow(`session file '${seed}': header.inputs[2].spec.seed: expected an integer from 0 to 4294967295, got 1.5`);
  });

  it('names missing files, folders and files over the size limit', async () => {
    const missing = join(dir, 'missing.pyheap');
    await expect(loadSessionFile(missing)).rejects.toThrow(`cannot open '${missing}': no such file or folder`);
    await expect(loadSessionFile(dir)).rejects.toThrow(`cannot open '${dir}': it is a folder`);
    await expect(loadSessionFile(good, { maxBytes: 1000 })).rejects.toThrow(`'${good}' is 1460 bytes, more than the 1000 a session file may have`);
  });
});
