// Entry of the heap map's test page (src/renderer/bench-heapmap.html): see harness.svelte.ts.
import type { HarnessApi } from './harness-api';
import { installHarness } from './harness.svelte';

const root = document.getElementById('root');
if (!root) throw new Error('bench-heapmap.html: #root missing');
(globalThis as unknown as { heapmapHarness: HarnessApi }).heapmapHarness = installHarness(root);
