/**
 * The renderer's only door to the app: `window.pyheap`, the preload API (or, in the browser
 * tests, a stand-in bridged to a real simulation host). Nothing else talks to main.
 */
import type { PyHeapApi } from '../../../shared/protocol';

export function getApi(): PyHeapApi {
  const api = window.pyheap;
  if (api === undefined) throw new Error('PyHeap Lab: window.pyheap is missing (the preload did not run)');
  return api;
}
