/**
 * The smallest possible typed API over IPC: one function per operation, no raw ipcRenderer.
 * Events arrive on one channel and are handed to subscribers without the IPC event object.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { IPC_CHANNELS, type HostEvent, type PyHeapApi } from '../shared/protocol';

const C = IPC_CHANNELS;
const invoke = (channel: string, ...args: unknown[]): Promise<never> => ipcRenderer.invoke(channel, ...args) as Promise<never>;

const api: PyHeapApi = {
  appInfo: () => invoke(C.appInfo),
  newSession: (settings) => invoke(C.newSession, settings),
  openSession: (path) => invoke(C.openSession, path),
  saveSession: (saveAs) => invoke(C.saveSession, saveAs),
  runPython: (code) => invoke(C.runPython, code),
  importTrace: (name, text) => invoke(C.importTrace, name, text),
  startWorkload: (spec) => invoke(C.startWorkload, spec),
  cancel: () => invoke(C.cancel),
  step: (delta) => invoke(C.step, delta),
  seek: (position) => invoke(C.seek, position),
  seekMarker: (direction) => invoke(C.seekMarker, direction),
  play: (opsPerSecond) => invoke(C.play, opsPerSecond),
  pause: () => invoke(C.pause),
  setUi: (ui) => invoke(C.setUi, ui),
  query: (query) => invoke(C.query, query),
  pathForFile: (file) => webUtils.getPathForFile(file as File),
  onEvent: (listener) => {
    const wrapped = (_e: unknown, event: HostEvent): void => listener(event);
    ipcRenderer.on(C.event, wrapped);
    return () => {
      ipcRenderer.removeListener(C.event, wrapped);
    };
  },
};

contextBridge.exposeInMainWorld('pyheap', api);
