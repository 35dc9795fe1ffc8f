/**
 * IPC handlers of the main process, free of `electron` imports: `index.ts` registers them with
 * `ipcMain.handle`, passing the sender's frame URL. Every handler validates its sender and its
 * arguments before doing anything.
 */
import { PROFILE_IDS } from '../core/profiles';
import type { AppInfo } from '../shared/protocol';

export class IpcRejected extends Error {}

/** Only the app's own renderer may call: the packaged file:// document or the dev server. */
export function assertTrustedSender(senderUrl: string | undefined, rendererFileUrl: string, devServerUrl: string | undefined): void {
  if (senderUrl === undefined || senderUrl === '') throw new IpcRejected('IPC from an unknown sender');
  const url = senderUrl.split('#')[0]!.split('?')[0]!;
  if (url === rendererFileUrl) return;
  if (devServerUrl !== undefined && devServerUrl !== '') {
    try {
      if (new URL(senderUrl).origin === new URL(devServerUrl).origin) return;
    } catch {
      // fall through
    }
  }
  throw new IpcRejected(`IPC from an untrusted sender: ${senderUrl}`);
}

/** Validates that a call carries no arguments (for argument-less operations). */
export function assertNoArgs(args: readonly unknown[], op: string): void {
  if (args.length !== 0) throw new IpcRejected(`${op}: expected no arguments, got ${args.length}`);
}

export function appInfo(version: string): AppInfo {
  return { name: 'PyHeap Lab', version, pythonVersions: [...PROFILE_IDS] };
}
