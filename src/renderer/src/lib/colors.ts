/**
 * Colours of size classes and pool states for the panels (legends, the block strip, the size
 * class table), in step with the per-pool state bits of core/pymalloc/pool-state.ts.
 */

/** A hue per size class, spread around the wheel so neighbours differ. */
export function classHue(szidx: number): number {
  return (szidx * 137.508) % 360;
}

export function classColor(szidx: number, theme: 'dark' | 'light', fullness = 15): string {
  const l = theme === 'dark' ? 38 + (fullness / 15) * 22 : 70 - (fullness / 15) * 24;
  return `hsl(${classHue(szidx).toFixed(1)} 65% ${l.toFixed(1)}%)`;
}
