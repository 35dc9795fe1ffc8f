/// <reference types="svelte" />
import type { PyHeapApi } from '../../shared/protocol';

declare global {
  interface Window {
    pyheap?: PyHeapApi;
  }
}
