/**
 * The application menu as data: `index.ts` hands it to `Menu.buildFromTemplate`. Kept free of
 * `electron` imports so tests can check every item, accelerator and action.
 */

export interface MenuActions {
  newSession(): void;
  open(): void;
  openRecent(path: string): void;
  clearRecent(): void;
  save(): void;
  saveAs(): void;
  close(): void;
  importTrace(): void;
  quit(): void;
}

/** The subset of Electron's MenuItemConstructorOptions this menu uses. */
export interface MenuItemSpec {
  label?: string;
  accelerator?: string;
  role?: string;
  type?: 'separator' | 'submenu' | 'normal';
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemSpec[];
}

export function menuTemplate(actions: MenuActions, recent: readonly string[], platform: string): MenuItemSpec[] {
  const sep: MenuItemSpec = { type: 'separator' };
  const recentItems: MenuItemSpec[] =
    recent.length === 0
      ? [{ label: 'No Recent Sessions', enabled: false }]
      : [...recent.map((p) => ({ label: p, click: () => actions.openRecent(p) })), sep, { label: 'Clear Recent', click: () => actions.clearRecent() }];
  const file: MenuItemSpec = {
    label: 'File',
    submenu: [
      { label: 'New Session', accelerator: 'CmdOrCtrl+N', click: () => actions.newSession() },
      { label: 'Open…', accelerator: 'CmdOrCtrl+O', click: () => actions.open() },
      { label: 'Open Recent', submenu: recentItems },
      sep,
      { label: 'Save', accelerator: 'CmdOrCtrl+S', click: () => actions.save() },
      { label: 'Save As…', accelerator: 'CmdOrCtrl+Shift+S', click: () => actions.saveAs() },
      sep,
      { label: 'Import Trace…', accelerator: 'CmdOrCtrl+I', click: () => actions.importTrace() },
      sep,
      { label: 'Close Session', accelerator: 'CmdOrCtrl+W', click: () => actions.close() },
      ...(platform === 'darwin' ? [] : [sep, { label: 'Quit', accelerator: 'CmdOrCtrl+Q', click: () => actions.quit() }]),
    ],
  };
  const edit: MenuItemSpec = {
    label: 'Edit',
    submenu: [{ role: 'undo' }, { role: 'redo' }, sep, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }],
  };
  const view: MenuItemSpec = {
    label: 'View',
    submenu: [{ role: 'resetZoom' }, { role: 'zoomIn' }, { role: 'zoomOut' }, sep, { role: 'togglefullscreen' }],
  };
  const app: MenuItemSpec[] = platform === 'darwin' ? [{ label: 'PyHeap Lab', submenu: [{ role: 'about' }, sep, { role: 'quit' }] }] : [];
  return [...app, file, edit, view, { role: 'windowMenu' }];
}

/** File extensions the app opens: sessions, and traces to import. */
export const SESSION_EXTENSION = 'pyheap';
export const TRACE_EXTENSIONS = ['trace', 'txt'];

/** What a path given on the command line, dropped or opened is. */
export function fileKind(path: string): 'session' | 'trace' | null {
  const m = /\.([A-Za-z0-9]+)$/.exec(path);
  if (m === null) return null;
  const ext = m[1]!.toLowerCase();
  if (ext === SESSION_EXTENSION) return 'session';
  if (TRACE_EXTENSIONS.includes(ext)) return 'trace';
  return null;
}

/** The files among the arguments of a (second) instance: absolute paths of known kinds. */
export function filesFromArgv(argv: readonly string[]): string[] {
  return argv.slice(1).filter((a) => !a.startsWith('-') && fileKind(a) !== null);
}
