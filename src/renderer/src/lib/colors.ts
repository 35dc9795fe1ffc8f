/**
 * Colours of size classes and pool states in the panels (legends, the block strip, the size
 * class table, the arena's pools): the heap map's own palette (heapmap/palette.ts), so a class
 * has one colour everywhere.
 */
import { classColor, cssRgb, poolColor, type Theme } from '../heapmap/palette';

export function classCss(theme: Theme, alignment: number, szidx: number): string {
  return cssRgb(classColor(theme, alignment, szidx));
}

export function poolCss(theme: Theme, alignment: number, state: number): string {
  return cssRgb(poolColor(theme, alignment, state));
}
