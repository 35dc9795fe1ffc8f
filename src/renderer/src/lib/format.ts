/**
 * Pure formatting helpers of the UI: numbers, addresses, byte counts, and the console's error
 * positions. No DOM here, so unit tests run them under Node.
 */

/** 1234567 -> "1,234,567". */
export function thousands(n: number): string {
  const neg = n < 0;
  const digits = String(Math.abs(Math.trunc(n)));
  let out = '';
  for (let i = 0; i < digits.length; i++) {
    if (i > 0 && (digits.length - i) % 3 === 0) out += ',';
    out += digits[i];
  }
  return neg ? '-' + out : out;
}

/** An address as C prints %p: "0x5e0000000070". */
export function hexAddress(n: number): string {
  return '0x' + n.toString(16);
}

/** Bytes in the largest binary unit that keeps a number >= 1: "1.5 MiB", "512 B". */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  if (u === 0) return `${n} B`;
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[u]}`;
}

/** A share as a percentage with one decimal: 0.1234 -> "12.3%". */
export function percent(part: number, whole: number): string {
  if (whole === 0) return '0%';
  return `${((100 * part) / whole).toFixed(1)}%`;
}

export interface ErrorPosition {
  line: number;
  col: number;
  message: string;
}

/**
 * The position the simulation gives an error: `line L col C: message` (RunResult.error), or
 * `line L: message` for traces. Columns are 1-based as CPython prints them (col 0 or no col:
 * the whole line).
 */
export function parseErrorPosition(error: string): ErrorPosition | null {
  const m = /^line (\d+)(?: col (\d+))?: ([\s\S]*)$/.exec(error);
  if (m === null) return null;
  return { line: Number(m[1]), col: m[2] === undefined ? 0 : Number(m[2]), message: m[3]! };
}

/**
 * The document offsets [from, to) an error position marks in `text`: from the column to the
 * end of the token there (a word, or one character), or the whole line when the column is 0.
 * Lines past the end mark the last line.
 */
export function errorRange(text: string, pos: ErrorPosition): { from: number; to: number } {
  const lines = text.split('\n');
  const li = Math.min(Math.max(pos.line, 1), lines.length) - 1;
  let start = 0;
  for (let i = 0; i < li; i++) start += lines[i]!.length + 1;
  const line = lines[li]!;
  if (pos.col <= 0) return { from: start, to: start + line.length };
  const c = Math.min(pos.col - 1, line.length);
  const word = /^[A-Za-z0-9_]+/.exec(line.slice(c));
  const len = word !== null ? word[0].length : Math.min(1, line.length - c);
  return { from: start + c, to: start + c + len };
}
