/**
 * Public types of the heap map component (HeapMap.svelte). Kept free of Svelte and pixi so the
 * rest of the UI, the tests and the benchmark can import them.
 */

/** What the user picked on the heap map. `slot` = arena index * poolsPerArena + pool ordinal. */
export type HeapSelection =
  | { kind: 'arena'; arena: number }
  | { kind: 'pool'; slot: number }
  | { kind: 'block'; slot: number; block: number };

/** A half-open range of pool slots [start, end). */
export interface SlotRange {
  start: number;
  end: number;
}

/** Reported after every frame the heap map draws (for instrumentation and tests). */
export interface RenderInfo {
  /** Frames drawn since the component was created. */
  frame: number;
  /** Version of the pool states drawn: bumped on every `states` update the map has applied. */
  statesVersion: number;
  /** Whether pool blocks were drawn (deep zoom). */
  blocks: boolean;
}
