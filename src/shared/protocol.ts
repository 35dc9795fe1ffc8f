/**
 * Every message between renderer, main and the simulation worker.
 * Later issues extend these unions; nothing else may define IPC shapes.
 */

/** What the preload exposes on `window.pyheap`. One function per operation. */
export interface PyHeapApi {
  /** Versions of the CPython profiles the simulation supports, e.g. `['3.7', ..., '3.14']`. */
  appInfo(): Promise<AppInfo>;
}

export interface AppInfo {
  name: string;
  version: string;
  pythonVersions: string[];
}

export const IPC_CHANNELS = {
  appInfo: 'pyheap:app-info',
} as const;
