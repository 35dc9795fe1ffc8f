/// <reference types="svelte" />
/// <reference types="vite/client" />
import type { PyHeapApi } from '../../shared/protocol';

declare global {
  interface Window {
    pyheap?: PyHeapApi;
  }
}
