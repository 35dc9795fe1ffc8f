/**
 * Public types of the heap map component (HeapMap.svelte). Kept free of Svelte and pixi so the
 * rest of the UI, the tests and the benchmark can import them.
 */

/** What the user picked on the heap map. `slot` = arena index * poolsPerArena + pool ordinal. */
export type HeapSelection =
  | { kind: 'arena'; arena: number }
  | { kind: 'pool'; slot: number }
  | { kind: 'block'; slot: number; block: number }
  /** A chunk of the C library's malloc (the raw region): `address` is the pointer malloc returned, chunk + 16. */
  | { kind: 'raw'; address: number };

/** Region kinds of the raw region (RawRegions.regionKind). */
export const RAW_BRK = 1;
export const RAW_MMAP = 2;

/**
 * The C library's memory, for the map's raw region (raw.ts lays it out): the regions it has
 * (the brk heap, each mmapped chunk's mapping) and its live chunks, all in address order.
 */
export interface RawRegions {
  /** Bytes per world cell: the pool size, so raw memory is drawn at the scale of the pools. */
  cellBytes: number;
  regionStart: Float64Array;
  regionLength: Float64Array;
  /** RAW_BRK or RAW_MMAP. */
  regionKind: Uint8Array;
  /** Chunk addresses (the chunk header; malloc returned chunk + 16), sizes in bytes, 1 if mmapped. */
  chunkAddress: Float64Array;
  chunkSize: Float64Array;
  chunkMmapped: Uint8Array;
}

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
