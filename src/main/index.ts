/**
 * Electron glue for the main process: the thin layer that hands Electron objects to the
 * platform-free modules beside it (window options, navigation rules, IPC handlers, the
 * simulation host, the app controller, the menu). Kept small on purpose: Electron cannot be
 * launched in CI, so everything with logic lives in modules tested under Node.
 */
import { app, BrowserWindow, dialog, ipcMain, Menu, session, type MenuItemConstructorOptions } from 'electron';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_CHANNELS, type HostEvent } from '../shared/protocol';
import { AppController, type Dialogs } from './app-controller';
import { SimulationHost, type WorkerLike } from './host';
import { assertTrustedSender, ipcHandlers } from './ipc';
import { fileKind, filesFromArgv, menuTemplate } from './menu';
import { nodeFileSystem } from './node-files';
import { CONTENT_SECURITY_POLICY, isAllowedNavigation, mainWindowOptions } from './window-options';

const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
const rendererFile = join(__dirname, '../renderer/index.html');
const rendererFileUrl = pathToFileURL(rendererFile).href;

let win: BrowserWindow | null = null;
/** Files asked for before the window was ready (macOS open-file at launch). */
const pendingFiles: string[] = filesFromArgv(process.argv);

function send(event: HostEvent): void {
  if (win !== null && !win.isDestroyed()) win.webContents.send(IPC_CHANNELS.event, event);
}

const host = new SimulationHost({
  // A worker that runs out of memory stops alone (and is restarted); main is not taken down.
  createWorker: () => new Worker(join(__dirname, 'sim-worker.js'), { resourceLimits: { maxOldGenerationSizeMb: 4096 } }) as unknown as WorkerLike,
  onEvent: (e) => {
    if (e.kind === 'state') controller.markDirty(e.state);
    send(e);
  },
});

const sessionFilters = [{ name: 'PyHeap Lab session', extensions: ['pyheap'] }];
const dialogs: Dialogs = {
  openSession: async () => {
    const r = await dialog.showOpenDialog(win!, { properties: ['openFile'], filters: sessionFilters });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  },
  openTrace: async () => {
    const r = await dialog.showOpenDialog(win!, { properties: ['openFile'], filters: [{ name: 'Allocation trace', extensions: ['trace', 'txt'] }] });
    return r.canceled ? null : (r.filePaths[0] ?? null);
  },
  saveSessionAs: async (defaultName) => {
    const r = await dialog.showSaveDialog(win!, { defaultPath: defaultName, filters: sessionFilters });
    return r.canceled ? null : (r.filePath ?? null);
  },
  confirmRestore: async () => {
    const r = await dialog.showMessageBox({
      type: 'question',
      buttons: ['Restore', 'Discard'],
      defaultId: 0,
      message: 'PyHeap Lab did not close properly last time.',
      detail: 'Restore the session that was autosaved?',
    });
    return r.response === 0;
  },
  showError: (message) => dialog.showErrorBox('PyHeap Lab', message),
};

const controller = new AppController({
  host,
  dataDir: app.getPath('userData'),
  dialogs,
  files: nodeFileSystem,
  emit: send,
  onDocumentChanged: () => refreshMenu(),
});

function refreshMenu(): void {
  const template = menuTemplate(
    {
      // Document commands go through the renderer, which calls back over IPC and so knows the
      // file it shows; the worker announces each new state itself.
      newSession: () => send({ kind: 'command', command: 'new' }),
      open: () => send({ kind: 'command', command: 'open' }),
      openRecent: (path) => send({ kind: 'command', command: 'open', path }),
      clearRecent: () => void controller.clearRecent(),
      save: () => send({ kind: 'command', command: 'save' }),
      saveAs: () => send({ kind: 'command', command: 'saveAs' }),
      close: () => send({ kind: 'command', command: 'close' }),
      importTrace: () => void controller.importTraceFile(null),
      quit: () => app.quit(),
    },
    controller.recent,
    process.platform,
  );
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));
  if (win !== null) win.setTitle(`PyHeap Lab — ${controller.currentPath ?? 'untitled'}${controller.dirty ? ' •' : ''}`);
}

function openFiles(files: readonly string[]): void {
  for (const f of files) {
    // Through the renderer when there is one (it then shows the file's name).
    if (fileKind(f) === 'session') {
      if (win !== null && !win.isDestroyed()) send({ kind: 'command', command: 'open', path: f });
      else void controller.openSession(f);
    }
    else if (fileKind(f) === 'trace') void controller.importTraceFile(f);
  }
}

function createWindow(): void {
  win = new BrowserWindow(mainWindowOptions(join(__dirname, '../preload/index.cjs')));
  win.once('ready-to-show', () => win?.show());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, devServerUrl, rendererFileUrl)) event.preventDefault();
  });
  win.on('closed', () => {
    win = null;
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererFile);
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', (_e, argv) => {
    if (win !== null) {
      if (win.isMinimized()) win.restore();
      win.focus();
    }
    openFiles(filesFromArgv(argv));
  });
  app.on('open-file', (event, path) => {
    event.preventDefault();
    if (app.isReady()) openFiles([path]);
    else pendingFiles.push(path);
  });

  void app.whenReady().then(async () => {
    session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] } });
    });
    session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
    app.on('web-contents-created', (_e, contents) => {
      contents.on('will-attach-webview', (event) => event.preventDefault());
    });
    const handlers = ipcHandlers({ host, controller, version: app.getVersion() });
    for (const [channel, handler] of Object.entries(handlers)) {
      ipcMain.handle(channel, (event, ...args: unknown[]) => {
        assertTrustedSender(event.senderFrame?.url, rendererFileUrl, devServerUrl);
        return handler(args);
      });
    }
    await host.start();
    await controller.startup(pendingFiles.splice(0));
    refreshMenu();
    createWindow();
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createWindow();
    });
  });

  app.on('before-quit', () => {
    void controller.shutdown().finally(() => void host.dispose());
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
