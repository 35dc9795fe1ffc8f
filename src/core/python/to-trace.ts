/**
 * Turns the heap events of a Python session into an allocation trace (trace-format.md), so a
 * console session can be replayed, stepped and compared exactly like any other trace: each
 * block gets an id when allocated; a reallocation keeps its id; a free ends it. Sizes are what
 * the allocator was asked for, with the debug hooks' bytes when they are on.
 */
import type { HeapEvent } from '../objects/space';

export function eventsToTrace(events: readonly HeapEvent[], debugOverhead = 0): string {
  const ids = new Map<number, number>(); // live handle -> trace id
  let next = 1;
  const out: string[] = [];
  let line = -1;
  for (const e of events) {
    if (e.kind !== 'alloc' && e.kind !== 'realloc' && e.kind !== 'free') continue;
    if (e.line !== line) {
      line = e.line;
      out.push(`# line ${line}`);
    }
    if (e.kind === 'alloc') {
      ids.set(e.handle, next);
      out.push(`a ${next++} ${e.size + debugOverhead}`);
    } else if (e.kind === 'realloc') {
      const id = ids.get(e.oldHandle) ?? next++;
      ids.delete(e.oldHandle);
      ids.set(e.handle, id);
      out.push(`r ${id} ${e.size + debugOverhead}`);
    } else {
      const id = ids.get(e.handle);
      if (id === undefined) throw new Error(`event log frees a block it never allocated (0x${e.address.toString(16)})`);
      ids.delete(e.handle);
      out.push(`f ${id}`);
    }
  }
  return out.join('\n') + '\n';
}
