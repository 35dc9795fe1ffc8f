import { describe, expect, it } from 'vitest';
import { fileKind, filesFromArgv, menuTemplate, type MenuActions, type MenuItemSpec } from '../../src/main/menu';

function actions(log: string[]): MenuActions {
  return {
    newSession: () => log.push('new'),
    open: () => log.push('open'),
    openRecent: (p) => log.push(`recent ${p}`),
    clearRecent: () => log.push('clear'),
    save: () => log.push('save'),
    saveAs: () => log.push('saveAs'),
    close: () => log.push('close'),
    importTrace: () => log.push('import'),
    quit: () => log.push('quit'),
  };
}

function find(items: MenuItemSpec[], label: string): MenuItemSpec {
  for (const i of items) {
    if (i.label === label) return i;
    const sub = i.submenu ? find(i.submenu, label) : undefined;
    if (sub !== undefined && sub.label === label) return sub;
  }
  return { label: '<none>' };
}

describe('menu', () => {
  it('has the usual file items and shortcuts, wired to their actions', () => {
    const log: string[] = [];
    const t = menuTemplate(actions(log), ['/a/one.pyheap'], 'linux');
    const expected: [string, string | undefined, string][] = [
      ['New Session', 'CmdOrCtrl+N', 'new'],
      ['Open…', 'CmdOrCtrl+O', 'open'],
      ['Save', 'CmdOrCtrl+S', 'save'],
      ['Save As…', 'CmdOrCtrl+Shift+S', 'saveAs'],
      ['Close Session', 'CmdOrCtrl+W', 'close'],
      ['Import Trace…', 'CmdOrCtrl+I', 'import'],
      ['Quit', 'CmdOrCtrl+Q', 'quit'],
      ['/a/one.pyheap', undefined, 'recent /a/one.pyheap'],
      ['Clear Recent', undefined, 'clear'],
    ];
    for (const [label, acc, action] of expected) {
      const item = find(t, label);
      expect(item.label).toBe(label);
      expect(item.accelerator).toBe(acc);
      item.click!();
      expect(log.pop()).toBe(action);
    }
    expect(find(t, 'No Recent Sessions').label).toBe('<none>');
  });

  it('shows an empty recent list, and the app menu on macOS', () => {
    const t = menuTemplate(actions([]), [], 'darwin');
    expect(t[0]!.label).toBe('PyHeap Lab');
    expect(find(t, 'No Recent Sessions').enabled).toBe(false);
    expect(find(t, 'Quit').label).toBe('<none>');
  });

  it('recognises the files it opens', () => {
    expect(fileKind('/x/a.pyheap')).toBe('session');
    expect(fileKind('C:\\x\\A.PYHEAP')).toBe('session');
    expect(fileKind('/x/a.trace')).toBe('trace');
    expect(fileKind('/x/a.png')).toBeNull();
    expect(filesFromArgv(['/usr/bin/pyheap-lab', '--no-sandbox', '/x/a.pyheap', '/x/b.png', '/x/t.txt'])).toEqual(['/x/a.pyheap', '/x/t.txt']);
  });
});
