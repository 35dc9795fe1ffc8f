/**
 * Window and content-security settings for every PyHeap Lab window.
 *
 * Kept free of `electron` imports so that Node tests can check them: the
 * Electron glue in `index.ts` passes these objects straight to BrowserWindow.
 */

/** The Content-Security-Policy sent with every renderer document. No remote content. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export interface SecureWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  spellcheck: false;
}

export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  title: string;
  backgroundColor: string;
  webPreferences: SecureWebPreferences;
}

export function mainWindowOptions(preloadPath: string): MainWindowOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 1280,
    minHeight: 800,
    show: false,
    title: 'PyHeap Lab',
    backgroundColor: '#14161a',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  };
}

/**
 * Only the app's own documents may be shown: the dev server during `electron-vite dev`
 * and the packaged `file://` renderer. Everything else (links, redirects) is refused.
 */
export function isAllowedNavigation(url: string, devServerUrl: string | undefined, rendererFileUrl: string): boolean {
  if (devServerUrl !== undefined && devServerUrl !== '') {
    try {
      const target = new URL(url);
      const dev = new URL(devServerUrl);
      if (target.origin === dev.origin) return true;
    } catch {
      return false;
    }
  }
  return url === rendererFileUrl || url.startsWith(rendererFileUrl + '#') || url.startsWith(rendererFileUrl + '?');
}
