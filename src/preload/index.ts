/**
 * The smallest possible typed API over IPC: one function per operation, no raw ipcRenderer.
 */
import { contextBridge, ipcRenderer } from 'electron';
import { IPC_CHANNELS, type AppInfo, type PyHeapApi } from '../shared/protocol';

const api: PyHeapApi = {
  appInfo: () => ipcRenderer.invoke(IPC_CHANNELS.appInfo) as Promise<AppInfo>,
};

contextBridge.exposeInMainWorld('pyheap', api);
