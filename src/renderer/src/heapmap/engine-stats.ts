/** Counters the engine keeps (engine.ts), in a file of its own so code without pixi can name them. */
export interface EngineStats {
  /** Frames drawn. */
  frames: number;
  /** Texels of the state texture uploaded by `setStates` (full uploads included). */
  uploadedTexels: number;
  /** `setStates` calls that uploaded the whole array. */
  fullUploads: number;
  /** Atlas rows written. */
  blockRows: number;
  contextLosses: number;
  contextRestores: number;
  /** World-cache texels redrawn by the cache pass (the whole world once, then what changed). */
  worldTexelsDrawn: number;
}
