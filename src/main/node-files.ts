/**
 * The app controller's file system on Node: atomic saves and checked session reads from
 * `files.ts`, plus the small reads and writes of the data folder.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileSystem } from './app-controller';
import { loadSessionFile, saveFileAtomic } from './files';

export const nodeFileSystem: FileSystem = {
  saveAtomic: async (path, bytes) => {
    await mkdir(dirname(path), { recursive: true });
    await saveFileAtomic(path, bytes);
  },
  readSession: (path) => loadSessionFile(path),
  readText: async (path, maxBytes) => {
    const st = await stat(path);
    if (st.size > maxBytes) throw new Error(`the file is ${st.size} bytes, more than the ${maxBytes} allowed`);
    return readFile(path, 'utf8');
  },
  exists: async (path) => {
    try {
      await stat(path);
      return true;
    } catch {
      return false;
    }
  },
  remove: (path) => rm(path, { force: true }),
  writeSmall: async (path, text) => {
    await mkdir(dirname(path), { recursive: true });
    await saveFileAtomic(path, new TextEncoder().encode(text));
  },
};
