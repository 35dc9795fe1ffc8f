/**
 * The hardened Electron shell, tested without Electron: the options every window gets, the
 * navigation rule, the CSP, and IPC sender/argument validation.
 */
import { describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, isAllowedNavigation, mainWindowOptions } from '../../src/main/window-options';
import { IpcRejected, appInfo, assertNoArgs, assertTrustedSender } from '../../src/main/ipc';

describe('window options', () => {
  it('isolate and sandbox the renderer', () => {
    const o = mainWindowOptions('/app/out/preload/index.cjs');
    expect(o.webPreferences).toEqual({
      preload: '/app/out/preload/index.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    });
    expect([o.minWidth, o.minHeight]).toEqual([1280, 800]);
  });

  it('send a CSP that allows only the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("object-src 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/https?:|\*|unsafe-eval/);
  });
});

describe('navigation', () => {
  const file = 'file:///app/out/renderer/index.html';
  it('allows only the app document and the dev server', () => {
    expect(isAllowedNavigation(file, undefined, file)).toBe(true);
    expect(isAllowedNavigation(`${file}#/stats`, undefined, file)).toBe(true);
    expect(isAllowedNavigation('https://example.com/', undefined, file)).toBe(false);
    expect(isAllowedNavigation('file:///etc/passwd', undefined, file)).toBe(false);
    expect(isAllowedNavigation('http://localhost:5173/x', 'http://localhost:5173', file)).toBe(true);
    expect(isAllowedNavigation('http://localhost:5174/x', 'http://localhost:5173', file)).toBe(false);
  });
});

describe('IPC validation', () => {
  const file = 'file:///app/out/renderer/index.html';
  it('accepts the app renderer and refuses other senders', () => {
    expect(() => assertTrustedSender(file, file, undefined)).not.toThrow();
    expect(() => assertTrustedSender(`${file}#x`, file, undefined)).not.toThrow();
    expect(() => assertTrustedSender('https://evil.example/', file, undefined)).toThrow(IpcRejected);
    expect(() => assertTrustedSender(undefined, file, undefined)).toThrow('IPC from an unknown sender');
  });
  it('refuses unexpected arguments', () => {
    expect(() => assertNoArgs([], 'appInfo')).not.toThrow();
    expect(() => assertNoArgs([1], 'appInfo')).toThrow('appInfo: expected no arguments, got 1');
  });
  it('reports the versions the simulation knows', () => {
    expect(appInfo('0.1.0')).toEqual({
      name: 'PyHeap Lab',
      version: '0.1.0',
      pythonVersions: ['3.7.0-3.7.3', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13', '3.14'],
    });
  });
});
