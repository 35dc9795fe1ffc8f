/**
 * Electron glue for the main process: the thin layer that hands Electron objects to the
 * platform-free modules beside it (window options, navigation rules). Kept small on purpose:
 * Electron cannot be launched in CI, so everything with logic lives in modules tested under Node.
 */
import { app, BrowserWindow, ipcMain, session } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IPC_CHANNELS } from '../shared/protocol';
import { appInfo, assertNoArgs, assertTrustedSender } from './ipc';
import { CONTENT_SECURITY_POLICY, isAllowedNavigation, mainWindowOptions } from './window-options';

const devServerUrl = process.env['ELECTRON_RENDERER_URL'];
const rendererFile = join(__dirname, '../renderer/index.html');
const rendererFileUrl = pathToFileURL(rendererFile).href;

function createWindow(): void {
  const win = new BrowserWindow(mainWindowOptions(join(__dirname, '../preload/index.cjs')));
  win.once('ready-to-show', () => win.show());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAllowedNavigation(url, devServerUrl, rendererFileUrl)) event.preventDefault();
  });
  if (devServerUrl) void win.loadURL(devServerUrl);
  else void win.loadFile(rendererFile);
}

void app.whenReady().then(() => {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CONTENT_SECURITY_POLICY] },
    });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
  ipcMain.handle(IPC_CHANNELS.appInfo, (event, ...args: unknown[]) => {
    assertTrustedSender(event.senderFrame?.url, rendererFileUrl, devServerUrl);
    assertNoArgs(args, 'appInfo');
    return appInfo(app.getVersion());
  });
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
