/**
 * Python source → the AST of `ast.ts`, using the real Python grammar of @lezer/python.
 *
 * Three stages:
 * 1. `prescan` is a small tokenizer-level pass: it finds what lezer is lenient about or reports
 *    badly (indentation, unterminated strings, unbalanced brackets, a stray backslash), and it
 *    rewrites `1.` to `10` (same length) for lezer, whose Number token lacks a trailing-dot float.
 * 2. lezer parses (with its Python 2 `print` statement tokenizer switched off).
 * 3. `Builder` walks the syntax tree and builds the AST, checking what the grammar leaves open
 *    (assignment targets, parameter and argument order, literals, `return`/`break` placement)
 *    and rejecting constructs outside the subset with "... is not supported".
 *
 * Which error wins, in the spirit of CPython: a tokenizer-level error beats a generic "invalid
 * syntax" anywhere in the file; otherwise the earliest syntax error wins; "not supported" (valid
 * Python outside the subset) only when the file has no syntax error.
 */

import { parser as basePythonParser } from '@lezer/python';
import { ExternalTokenizer, type LRParser } from '@lezer/lr';
import type { SyntaxNode, Tree } from '@lezer/common';
import {
  PySyntaxError,
  type BinOp,
  type CmpOp,
  type Comprehension,
  type Expr,
  type Keyword,
  type Module,
  type Param,
  type Pos,
  type Stmt,
} from './ast';

/** Parses Python source into a Module; throws PySyntaxError (1-based line and column). */
export function parsePython(source: string): Module {
  let src = source.replace(/\r\n?/g, '\n');
  if (src.charCodeAt(0) === 0xfeff) src = src.slice(1);
  const lines = new LineIndex(src);
  const pre = prescan(src, lines);
  const tree = pythonParser().parse(pre.text);

  // The syntax error to report if the builder finds nothing earlier.
  let syn: { offset: number; detail: string } | null = null;
  if (pre.error && pre.error.tokenizer) {
    syn = pre.error;
  } else {
    const lez = firstLezerError(tree, src);
    // lezer reports a bad indentation at the start of the line, before the prescan's position.
    const preFirst =
      pre.error && (!lez || pre.error.offset <= lez.offset || /^[ \t\f]*$/.test(src.slice(lez.offset, pre.error.offset)));
    syn = preFirst ? pre.error : lez;
  }

  let module: Module | null = null;
  let failure: Failure | null = null;
  const builder = new Builder(src, lines);
  try {
    module = { body: builder.module(tree.topNode) };
  } catch (e) {
    if (e instanceof Failure) failure = e;
    else if (syn) throw lines.error(syn.offset, syn.detail);
    else if (e instanceof RangeError && builder.stmtStart >= 0) {
      // A stack overflow on a pathologically nested expression.
      throw lines.error(builder.stmtStart, 'expression too deeply nested');
    } else throw e;
  }
  if (failure) {
    // A builder error beats an earlier-found syntax error only if it is in an earlier
    // statement (lezer's error recovery can make the statement holding its error look odd).
    const wins = !syn || (failure.kind === 'syntax' && failure.offset < syn.offset && failure.stmtEnd <= syn.offset);
    if (wins) throw lines.error(failure.offset, failure.detail);
  }
  if (syn) throw lines.error(syn.offset, syn.detail);
  return module as Module;
}

// ---------------------------------------------------------------------------------------------
// The lezer parser, without the legacy `print x` statement.

let cachedParser: LRParser | null = null;

/**
 * @lezer/python recognises Python 2's `print x` statement with an external tokenizer, which
 * turns valid Python 3 like `print -1` or `print[0]` into a PrintStatement. Replace that
 * tokenizer by one that never matches. It is not exported, so find it among the parser's
 * tokenizers by behaviour; if none works, keep the parser as is (`print x` then fails cleanly).
 */
function pythonParser(): LRParser {
  if (cachedParser) return cachedParser;
  const noop = new ExternalTokenizer(() => {});
  const tokenizers = (basePythonParser as unknown as { tokenizers?: readonly unknown[] }).tokenizers ?? [];
  for (const t of tokenizers) {
    if (!(t instanceof ExternalTokenizer)) continue;
    const p = basePythonParser.configure({ tokenizers: [{ from: t, to: noop }] });
    fastProperties(p);
    let clean = true;
    p.parse('print -1\nif x:\n  y = "a"\n').iterate({
      enter(n) {
        if (n.type.isError || n.name === 'PrintStatement') clean = false;
      },
    });
    if (clean) return (cachedParser = p);
  }
  return (cachedParser = basePythonParser);
}

/**
 * `configure` copies the parser with `Object.assign(Object.create(...), parser)`; with its 22
 * properties V8 leaves that copy in dictionary mode, which makes lezer ~40% slower. An object
 * that becomes a prototype is switched back to fast properties.
 */
function fastProperties(o: object): void {
  function F(): void {}
  F.prototype = o;
  Reflect.construct(F, []);
}

function firstLezerError(tree: Tree, src: string): { offset: number; detail: string } | null {
  let found: SyntaxNode | null = null;
  tree.iterate({
    enter(n) {
      if (found) return false;
      if (n.type.isError) {
        found = n.node;
        return false;
      }
      return undefined;
    },
  });
  if (!found) return null;
  const err: SyntaxNode = found;
  // `print x` / `exec x`: CPython's hint.
  const prev = err.prevSibling;
  if (prev && prev.name === 'ExpressionStatement') {
    const only = prev.firstChild;
    if (only && only.name === 'VariableName' && !only.nextSibling) {
      const word = src.slice(only.from, only.to);
      if ((word === 'print' || word === 'exec') && !src.slice(prev.from, err.from).includes('\n')) {
        return { offset: prev.from, detail: `Missing parentheses in call to '${word}'. Did you mean ${word}(...)?` };
      }
    }
  }
  // A bare `yield` (no value) is valid Python but outside lezer's grammar.
  const before = /(?:^|[^\w])(yield)[ \t]*$/.exec(src.slice(Math.max(0, err.from - 40), err.from));
  if (before && /^[ \t]*(?:$|[\n)\]};#])/.test(src.slice(err.from, err.from + 40))) return { offset: err.from - before[0].length + before[0].indexOf('yield'), detail: "'yield' is not supported" };
  return { offset: err.from, detail: 'invalid syntax' };
}

// ---------------------------------------------------------------------------------------------
// Positions.

class LineIndex {
  private readonly starts: number[] = [0];
  private readonly astral: boolean;
  constructor(private readonly src: string) {
    for (let i = src.indexOf('\n'); i >= 0; i = src.indexOf('\n', i + 1)) this.starts.push(i + 1);
    this.astral = /[\uD800-\uDBFF][\uDC00-\uDFFF]/.test(src);
  }

  line(offset: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  }

  /** 1-based line and column; the column counts code points. */
  pos(offset: number): Pos {
    const line = this.line(offset);
    const start = this.starts[line - 1];
    let col = offset - start + 1;
    if (this.astral) {
      for (let i = start; i < offset - 1; i++) {
        const c = this.src.charCodeAt(i);
        if (c >= 0xd800 && c <= 0xdbff) {
          const d = this.src.charCodeAt(i + 1);
          if (d >= 0xdc00 && d <= 0xdfff) {
            col--;
            i++;
          }
        }
      }
    }
    return { line, col };
  }

  /** The inverse of `pos`. */
  offset(p: Pos): number {
    const start = this.starts[p.line - 1];
    if (!this.astral) return start + p.col - 1;
    let off = start;
    for (let col = 1; col < p.col; col++) {
      const c = this.src.charCodeAt(off);
      off += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
    }
    return off;
  }

  error(offset: number, detail: string): PySyntaxError {
    const p = this.pos(offset);
    return new PySyntaxError(p.line, p.col, detail);
  }
}

// ---------------------------------------------------------------------------------------------
// Prescan: a tokenizer-level pass over the source.

interface ScanError {
  offset: number;
  detail: string;
  /** Raised by CPython's tokenizer (beats a generic "invalid syntax" anywhere in the file). */
  tokenizer: boolean;
}

const BLOCK_NAMES = new Map<string, string>([
  ['if', "'if' statement"],
  ['elif', "'elif' statement"],
  ['else', "'else' statement"],
  ['while', "'while' statement"],
  ['for', "'for' statement"],
  ['with', "'with' statement"],
  ['try', "'try' statement"],
  ['except', "'except' statement"],
  ['finally', "'finally' statement"],
  ['def', 'function definition'],
  ['class', 'class definition'],
  ['match', "'match' statement"],
  ['case', "'case' statement"],
]);

/** CPython's tokenizer limits (MAXINDENT, MAXLEVEL); they also bound the builder's recursion. */
const MAX_INDENT = 100;
const MAX_NESTING = 200;

const STRING_PREFIXES = new Set(['r', 'u', 'b', 'br', 'rb', 'f', 'fr', 'rf']);
const OPENERS: Record<string, string> = { ')': '(', ']': '[', '}': '{' };

function isIdentChar(c: number): boolean {
  return (
    (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || (c >= 0x80 && c !== 0xa0)
  );
}

/** Keywords CPython accepts right after a number literal (`1if x else 2`). */
const NUMBER_FOLLOWERS = new Set(['and', 'else', 'for', 'if', 'in', 'is', 'not', 'or']);

const RE_IDENT = /^[\p{XID_Start}_][\p{XID_Continue}]*$/u;

/** For a word with non-ASCII characters that is not an identifier: the first bad character. */
function badIdentifierChar(word: string): { at: number; detail: string } | null {
  if (/^[\x00-\x7f]*$/.test(word) || RE_IDENT.test(word.normalize('NFKC'))) return null;
  let at = 0;
  for (const ch of word) {
    const norm = ch.normalize('NFKC');
    const ok = at === 0 ? /^[\p{XID_Start}_]/u.test(norm) : /^[\p{XID_Continue}]/u.test(norm);
    if (!ok) {
      const cp = ch.codePointAt(0) ?? 0;
      return { at, detail: `invalid character '${ch}' (U+${cp.toString(16).toUpperCase().padStart(4, '0')})` };
    }
    at += ch.length;
  }
  return { at: 0, detail: 'invalid syntax' };
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function prescan(src: string, lines: LineIndex): { text: string; error: ScanError | null } {
  const n = src.length;
  const brackets: number[] = []; // offsets of open brackets
  const indents = [0];
  const altIndents = [0];
  const dotFixes: number[] = [];
  let atLineStart = true;
  let expectIndent = false; // the previous logical line ended with ':'
  let lastColon = false;
  let header = ''; // the block kind of the current logical line
  let headerLine = 0;
  let firstWord = '';
  let wordCount = 0;
  let i = 0;

  const done = (error: ScanError | null): { text: string; error: ScanError | null } => {
    let text = src;
    if (dotFixes.length) {
      const parts: string[] = [];
      let from = 0;
      for (const at of dotFixes) {
        parts.push(src.slice(from, at), '0');
        from = at + 1;
      }
      parts.push(src.slice(from));
      text = parts.join('');
    }
    return { text, error };
  };
  const expected = (offset: number): ScanError => ({
    offset,
    detail: header
      ? `expected an indented block after ${header} on line ${headerLine}`
      : 'expected an indented block',
    tokenizer: false,
  });

  for (;;) {
    if (atLineStart && brackets.length === 0) {
      // Measure the indentation of the next non-blank line (tab stops of 8; CPython also
      // checks the line with tabs as 1 column, to detect inconsistent tabs and spaces).
      let col = 0;
      let alt = 0;
      let j = i;
      for (; j < n; j++) {
        const c = src.charCodeAt(j);
        if (c === 32) {
          col++;
          alt++;
        } else if (c === 9) {
          col = (Math.floor(col / 8) + 1) * 8;
          alt++;
        } else if (c === 12) {
          col = 0;
          alt = 0;
        } else break;
      }
      if (j >= n) {
        i = n;
        break;
      }
      const c = src.charCodeAt(j);
      if (c === 10) {
        i = j + 1;
        continue;
      }
      if (c === 35) {
        const nl = src.indexOf('\n', j);
        i = nl < 0 ? n : nl + 1;
        if (nl < 0) break;
        continue;
      }
      const top = indents[indents.length - 1];
      const altTop = altIndents[altIndents.length - 1];
      if (col === top) {
        if (alt !== altTop) return done({ offset: j, detail: 'inconsistent use of tabs and spaces in indentation', tokenizer: true });
        if (expectIndent) return done(expected(j));
      } else if (col > top) {
        if (!expectIndent) return done({ offset: j, detail: 'unexpected indent', tokenizer: false });
        if (alt <= altTop) return done({ offset: j, detail: 'inconsistent use of tabs and spaces in indentation', tokenizer: true });
        if (indents.length > MAX_INDENT) return done({ offset: j, detail: 'too many levels of indentation', tokenizer: true });
        indents.push(col);
        altIndents.push(alt);
      } else {
        if (expectIndent) return done(expected(j));
        while (indents.length > 1 && col < indents[indents.length - 1]) {
          indents.pop();
          altIndents.pop();
        }
        if (col !== indents[indents.length - 1]) {
          return done({ offset: j, detail: 'unindent does not match any outer indentation level', tokenizer: true });
        }
        if (alt !== altIndents[altIndents.length - 1]) {
          return done({ offset: j, detail: 'inconsistent use of tabs and spaces in indentation', tokenizer: true });
        }
      }
      expectIndent = false;
      atLineStart = false;
      lastColon = false;
      header = '';
      headerLine = lines.line(j);
      firstWord = '';
      wordCount = 0;
      i = j;
    }
    if (i >= n) break;
    const c = src.charCodeAt(i);
    if (c === 10) {
      i++;
      if (brackets.length === 0) {
        expectIndent = lastColon;
        atLineStart = true;
      }
      continue;
    }
    if (c === 32 || c === 9 || c === 12) {
      i++;
      continue;
    }
    if (c === 35) {
      const nl = src.indexOf('\n', i);
      i = nl < 0 ? n : nl;
      continue;
    }
    if (c === 92) {
      if (i + 1 >= n) return done({ offset: i, detail: 'unexpected EOF while parsing', tokenizer: true });
      if (src.charCodeAt(i + 1) !== 10) {
        return done({ offset: i + 1, detail: 'unexpected character after line continuation character', tokenizer: true });
      }
      i += 2;
      continue;
    }
    lastColon = c === 58;
    if (c === 39 || c === 34) {
      const err = scanString(i, i);
      if (err) return done(err);
      continue;
    }
    if (isIdentChar(c) && !isDigit(c)) {
      const start = i;
      while (i < n && isIdentChar(src.charCodeAt(i))) i++;
      const word = src.slice(start, i);
      const q = src.charCodeAt(i);
      if ((q === 39 || q === 34) && word.length <= 2 && STRING_PREFIXES.has(word.toLowerCase())) {
        const err = scanString(start, i);
        if (err) return done(err);
        continue;
      }
      const bad = badIdentifierChar(word);
      if (bad) return done({ offset: start + bad.at, detail: bad.detail, tokenizer: true });
      wordCount++;
      if (wordCount === 1) {
        firstWord = word;
        header = BLOCK_NAMES.get(word) ?? '';
      } else if (wordCount === 2 && firstWord === 'async') {
        header = BLOCK_NAMES.get(word) ?? '';
      }
      continue;
    }
    if (isDigit(c) || (c === 46 && isDigit(src.charCodeAt(i + 1)))) {
      const start = i;
      scanNumber();
      let detail: string | null = null;
      const text = src.slice(start, i);
      const base = /^0[xob]/i.test(text) ? ({ x: 'hexadecimal', o: 'octal', b: 'binary' } as const)[text[1].toLowerCase() as 'x' | 'o' | 'b'] : null;
      const literal = numberLiteral(text);
      if (base && base !== 'hexadecimal' && isDigit(src.charCodeAt(i))) {
        detail = `invalid digit '${src[i]}' in ${base} literal`;
      } else if (typeof literal === 'string') detail = literal;
      else if (i < n && isIdentChar(src.charCodeAt(i))) {
        // `1abc` is an error; `1if x else y` and friends are accepted (CPython warns).
        let j = i;
        while (j < n && isIdentChar(src.charCodeAt(j))) j++;
        if (!NUMBER_FOLLOWERS.has(src.slice(i, j))) {
          detail = base ? `invalid ${base} literal` : literal.k === 'imag' ? 'invalid imaginary literal' : 'invalid decimal literal';
        }
      }
      if (detail) return done({ offset: start, detail, tokenizer: true });
      continue;
    }
    if (c === 40 || c === 91 || c === 123) {
      if (brackets.length >= MAX_NESTING) return done({ offset: i, detail: 'too many nested parentheses', tokenizer: true });
      brackets.push(i);
      i++;
      continue;
    }
    if (c === 41 || c === 93 || c === 125) {
      const ch = src[i];
      const open = brackets.pop();
      if (open === undefined) return done({ offset: i, detail: `unmatched '${ch}'`, tokenizer: true });
      if (src[open] !== OPENERS[ch]) {
        const openLine = lines.line(open);
        const where = openLine !== lines.line(i) ? ` on line ${openLine}` : '';
        return done({
          offset: i,
          detail: `closing parenthesis '${ch}' does not match opening parenthesis '${src[open]}'${where}`,
          tokenizer: true,
        });
      }
      i++;
      continue;
    }
    i++;
  }

  if (brackets.length) {
    const open = brackets[brackets.length - 1];
    return done({ offset: open, detail: `'${src[open]}' was never closed`, tokenizer: true });
  }
  if (expectIndent) return done(expected(n));
  return done(null);

  /** Scans a string literal starting at `start` (its prefix) with the quote at `q`. */
  function scanString(start: number, q: number): ScanError | null {
    const quote = src.charCodeAt(q);
    const triple = src.charCodeAt(q + 1) === quote && src.charCodeAt(q + 2) === quote;
    let j = q + (triple ? 3 : 1);
    for (;;) {
      if (j >= n) {
        const last = lines.line(Math.max(0, n - 1));
        const detail = triple
          ? `unterminated triple-quoted string literal (detected at line ${last})`
          : `unterminated string literal (detected at line ${last})`;
        return { offset: start, detail, tokenizer: true };
      }
      const c = src.charCodeAt(j);
      if (c === 92) {
        j += 2;
      } else if (c === quote) {
        if (!triple) {
          i = j + 1;
          return null;
        }
        if (src.charCodeAt(j + 1) === quote && src.charCodeAt(j + 2) === quote) {
          i = j + 3;
          return null;
        }
        j++;
      } else if (c === 10 && !triple) {
        return { offset: start, detail: `unterminated string literal (detected at line ${lines.line(j)})`, tokenizer: true };
      } else {
        j++;
      }
    }
  }

  /** Skips a number; a `1.` not followed by a digit gets its dot rewritten for lezer. */
  function scanNumber(): void {
    const c1 = src.charCodeAt(i + 1) | 32;
    if (src.charCodeAt(i) === 48 && (c1 === 120 || c1 === 111 || c1 === 98)) {
      // Like CPython, `0x1for` is `0x1f or`.
      const digit = c1 === 120 ? /[0-9a-fA-F_]/ : c1 === 111 ? /[0-7_]/ : /[01_]/;
      i += 2;
      while (i < n && digit.test(src[i])) i++;
      return;
    }
    while (i < n && (isDigit(src.charCodeAt(i)) || src.charCodeAt(i) === 95)) i++;
    if (src.charCodeAt(i) === 46) {
      if (isDigit(src.charCodeAt(i + 1))) {
        i++;
        while (i < n && (isDigit(src.charCodeAt(i)) || src.charCodeAt(i) === 95)) i++;
      } else {
        // `1.`, `1.e5`, `1.j`: lezer's Number has no trailing-dot form; `10` has the same length.
        dotFixes.push(i);
        i++;
      }
    }
    const e = src.charCodeAt(i) | 32;
    if (e === 101) {
      let j = i + 1;
      const s = src.charCodeAt(j);
      if (s === 43 || s === 45) j++;
      if (isDigit(src.charCodeAt(j))) {
        i = j;
        while (i < n && (isDigit(src.charCodeAt(i)) || src.charCodeAt(i) === 95)) i++;
      }
    }
    if ((src.charCodeAt(i) | 32) === 106) i++;
  }
}

// ---------------------------------------------------------------------------------------------
// Literals.

const DIGITS = '\\d(?:_?\\d)*';
const RE_DEC = /^(?:[1-9](?:_?\d)*|0(?:_?0)*)$/;
const RE_HEX = /^0[xX](?:_?[0-9a-fA-F])+$/;
const RE_OCT = /^0[oO](?:_?[0-7])+$/;
const RE_BIN = /^0[bB](?:_?[01])+$/;
const RE_FLOAT = new RegExp(
  `^(?:(?:(?:${DIGITS})?\\.${DIGITS}|${DIGITS}\\.)(?:[eE][+-]?${DIGITS})?|${DIGITS}[eE][+-]?${DIGITS})$`,
);
const RE_IMAG_BODY = new RegExp(`^(?:${RE_FLOAT.source.slice(1, -1)}|${DIGITS})$`);

type NumberValue = { k: 'int'; value: bigint } | { k: 'float'; value: number } | { k: 'imag'; value: number };

/** A Python number literal → its value, or an error message. */
function numberLiteral(text: string): NumberValue | string {
  const last = text.charCodeAt(text.length - 1) | 32;
  if (last === 106) {
    const body = text.slice(0, -1);
    if (!RE_IMAG_BODY.test(body)) return 'invalid imaginary literal';
    return { k: 'imag', value: Number(body.replace(/_/g, '')) };
  }
  const p = text.charCodeAt(1) | 32;
  if (text.charCodeAt(0) === 48 && (p === 120 || p === 111 || p === 98)) {
    const [re, what] = p === 120 ? [RE_HEX, 'hexadecimal'] : p === 111 ? [RE_OCT, 'octal'] : [RE_BIN, 'binary'];
    if (!re.test(text)) {
      const digit = p === 120 ? /[0-9a-fA-F_]/ : p === 111 ? /[0-7_]/ : /[01_]/;
      let k = 2;
      while (k < text.length && digit.test(text[k])) k++;
      const bad = text[k];
      if (bad !== undefined && bad >= '0' && bad <= '9') return `invalid digit '${bad}' in ${what} literal`;
      return `invalid ${what} literal`;
    }
    return { k: 'int', value: BigInt(text.replace(/_/g, '')) };
  }
  if (/^[\d_]+$/.test(text)) {
    if (RE_DEC.test(text)) return { k: 'int', value: BigInt(text.replace(/_/g, '')) };
    if (/^0[\d_]*$/.test(text) && /^\d(?:_?\d)*$/.test(text)) {
      return 'leading zeros in decimal integer literals are not permitted; use an 0o prefix for octal integers';
    }
    return 'invalid decimal literal';
  }
  if (!RE_FLOAT.test(text)) return 'invalid decimal literal';
  return { k: 'float', value: Number(text.replace(/_/g, '')) };
}

interface StringPiece {
  bytes: boolean;
  /** The decoded text (str), or the bytes as a string of char codes 0-255 (bytes). */
  value: string;
}

function hexValue(s: string, at: number, count: number): number {
  if (at + count > s.length) return -1;
  let v = 0;
  for (let k = 0; k < count; k++) {
    const d = parseInt(s[at + k], 16);
    if (Number.isNaN(d)) return -1;
    v = v * 16 + d;
  }
  return v;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Decodes one string literal token (prefix, quotes and body). */
function decodeString(raw: string): StringPiece | { error: string; unsupported?: boolean } {
  let q = 0;
  while (q < raw.length && raw[q] !== "'" && raw[q] !== '"') q++;
  const prefix = raw.slice(0, q).toLowerCase();
  const quote = raw[q];
  const ql = raw.startsWith(quote.repeat(3), q) && raw.length >= q + 6 ? 3 : 1;
  if (raw.length < q + 2 * ql || !raw.endsWith(quote.repeat(ql))) return { error: 'unterminated string literal' };
  const body = raw.slice(q + ql, raw.length - ql);
  const bytes = prefix.includes('b');
  const isRaw = prefix.includes('r');
  if (bytes && /[^\x00-\x7f]/.test(body)) return { error: 'bytes can only contain ASCII literal characters' };
  if (isRaw || !body.includes('\\')) return { bytes, value: body };
  let out = '';
  let from = 0;
  for (let j = body.indexOf('\\'); j >= 0; j = body.indexOf('\\', from)) {
    out += body.slice(from, j);
    const d = body[j + 1];
    from = j + 2;
    if (d === '\n') continue;
    const simple = SIMPLE_ESCAPES[d];
    if (simple !== undefined) {
      out += simple;
      continue;
    }
    if (d >= '0' && d <= '7') {
      let k = j + 1;
      let v = 0;
      while (k < j + 4 && k < body.length && body[k] >= '0' && body[k] <= '7') v = v * 8 + (body.charCodeAt(k++) - 48);
      from = k;
      out += String.fromCharCode(bytes ? v & 0xff : v);
      continue;
    }
    if (d === 'x') {
      const v = hexValue(body, j + 2, 2);
      if (v < 0) return { error: bytes ? 'invalid \\x escape' : '(unicode error) truncated \\xXX escape' };
      out += String.fromCharCode(v);
      from = j + 4;
      continue;
    }
    if (!bytes && (d === 'u' || d === 'U')) {
      const count = d === 'u' ? 4 : 8;
      const v = hexValue(body, j + 2, count);
      if (v < 0) return { error: `(unicode error) truncated \\${d}${'X'.repeat(count)} escape` };
      if (v > 0x10ffff) return { error: '(unicode error) illegal Unicode character' };
      out += String.fromCodePoint(v);
      from = j + 2 + count;
      continue;
    }
    if (!bytes && d === 'N') return { error: '\\N{...} escapes are not supported', unsupported: true };
    // An unknown escape keeps its backslash (CPython warns).
    out += '\\';
    from = j + 1;
  }
  out += body.slice(from);
  return { bytes, value: out };
}

// ---------------------------------------------------------------------------------------------
// The builder.

class Failure {
  constructor(
    readonly offset: number,
    readonly detail: string,
    readonly kind: 'syntax' | 'unsupported' | 'generic',
    /** End of the innermost statement (or compound statement header) being built. */
    readonly stmtEnd: number,
  ) {}
}

interface Scope {
  /** Inside a def (not reset by lambdas; reset by a class body). */
  fn: boolean;
  loop: boolean;
  /** Not inside any def or class. */
  module: boolean;
}

const KEYWORDS = new Set([
  'False', 'None', 'True', 'and', 'as', 'assert', 'async', 'await', 'break', 'class', 'continue', 'def', 'del',
  'elif', 'else', 'except', 'finally', 'for', 'from', 'global', 'if', 'import', 'in', 'is', 'lambda', 'nonlocal',
  'not', 'or', 'pass', 'raise', 'return', 'try', 'while', 'with', 'yield',
]);


const FUTURE_FEATURES = new Set([
  'nested_scopes', 'generators', 'division', 'absolute_import', 'with_statement', 'print_function',
  'unicode_literals', 'barry_as_FLUFL', 'generator_stop', 'annotations',
]);

const BIN_OPS = new Set<string>(['+', '-', '*', '/', '//', '%', '**', '<<', '>>', '&', '|', '^', '@']);
const CMP_OPS = new Set<string>(['<', '<=', '==', '!=', '>', '>=']);

function exprName(e: Expr): string {
  switch (e.k) {
    case 'attr':
      return 'attribute';
    case 'subscript':
      return 'subscript';
    case 'starred':
    case 'doublestarred':
      return 'starred';
    case 'name':
      return 'name';
    case 'list':
      return 'list';
    case 'tuple':
      return 'tuple';
    case 'lambda':
      return 'lambda';
    case 'call':
      return 'function call';
    case 'boolop':
    case 'binop':
    case 'unary':
      return 'expression';
    case 'genexp':
      return 'generator expression';
    case 'listcomp':
      return 'list comprehension';
    case 'setcomp':
      return 'set comprehension';
    case 'dictcomp':
      return 'dict comprehension';
    case 'dict':
      return 'dict literal';
    case 'set':
      return 'set display';
    case 'const':
      return e.value === 'Ellipsis' ? 'ellipsis' : e.value;
    case 'compare':
      return 'comparison';
    case 'ifexp':
      return 'conditional expression';
    case 'slice':
      return 'slice';
    default:
      return 'literal';
  }
}

/** Splits nodes at top-level ',' nodes; reports whether any comma was seen. */
function splitCommas(ns: SyntaxNode[]): { groups: SyntaxNode[][]; comma: boolean } {
  const groups: SyntaxNode[][] = [[]];
  let comma = false;
  for (const n of ns) {
    if (n.name === ',') {
      comma = true;
      groups.push([]);
    } else groups[groups.length - 1].push(n);
  }
  return { groups, comma };
}

class Builder {
  private scope: Scope = { fn: false, loop: false, module: true };
  private stmtEnd = 0;
  /** Start of the innermost statement being built (-1 outside statements). */
  stmtStart = -1;

  constructor(
    private readonly src: string,
    private readonly lines: LineIndex,
  ) {}

  module(top: SyntaxNode): Stmt[] {
    const body: Stmt[] = [];
    for (const n of this.kids(top)) this.stmt(n, body);
    return body;
  }

  // --- helpers ---

  private kids(n: SyntaxNode): SyntaxNode[] {
    const out: SyntaxNode[] = [];
    for (let c = n.firstChild; c; c = c.nextSibling) if (c.name !== 'Comment') out.push(c);
    return out;
  }

  private text(n: SyntaxNode): string {
    return this.src.slice(n.from, n.to);
  }

  private pos(offset: number): Pos {
    return this.lines.pos(offset);
  }

  private fail(offset: number, detail: string): never {
    throw new Failure(offset, detail, 'syntax', this.stmtEnd);
  }

  private invalid(n: SyntaxNode | undefined | null, fallback = 0): never {
    throw new Failure(n ? n.from : fallback, 'invalid syntax', 'generic', this.stmtEnd);
  }

  private unsupported(offset: number, detail: string): never {
    throw new Failure(offset, detail, 'unsupported', this.stmtEnd);
  }

  private offsetOf(e: Expr): number {
    return this.lines.offset(e.pos);
  }

  private identifier(n: SyntaxNode): string {
    const t = this.text(n);
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(t)) return t;
    const bad = badIdentifierChar(t);
    if (bad) this.fail(n.from + bad.at, bad.detail);
    return t.normalize('NFKC');
  }

  private withScope<T>(scope: Scope, f: () => T): T {
    const saved = this.scope;
    this.scope = scope;
    try {
      return f();
    } finally {
      this.scope = saved;
    }
  }

  // --- statements ---

  private body(n: SyntaxNode | undefined): Stmt[] {
    if (!n || n.name !== 'Body') this.invalid(n);
    const out: Stmt[] = [];
    const ks = this.kids(n);
    for (let i = 1; i < ks.length; i++) this.stmt(ks[i], out);
    if (out.length === 0) this.invalid(n, n.to);
    return out;
  }

  private stmt(n: SyntaxNode, out: Stmt[]): void {
    const savedEnd = this.stmtEnd;
    const savedStart = this.stmtStart;
    this.stmtEnd = n.getChild('Body')?.from ?? n.to;
    this.stmtStart = n.from;
    this.stmtInner(n, out);
    this.stmtEnd = savedEnd;
    this.stmtStart = savedStart;
  }

  private stmtInner(n: SyntaxNode, out: Stmt[]): void {
    const pos = this.pos(n.from);
    switch (n.name) {
      case 'StatementGroup':
        for (const k of this.kids(n)) if (k.name !== ';') this.stmt(k, out);
        return;
      case 'ExpressionStatement': {
        out.push({ k: 'expr', value: this.valueList(this.kids(n)), pos });
        return;
      }
      case 'AssignStatement':
        out.push(this.assign(n, pos));
        return;
      case 'UpdateStatement':
        out.push(this.augassign(n, pos));
        return;
      case 'DeleteStatement': {
        const ks = this.kids(n).slice(1);
        const { groups } = splitCommas(ks);
        if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
        const targets = groups.map((g) => this.single(g, n));
        for (const t of targets) this.checkTarget(t, 'del', false);
        out.push({ k: 'del', targets, pos });
        return;
      }
      case 'PassStatement':
        out.push({ k: 'pass', pos });
        return;
      case 'BreakStatement':
        if (!this.scope.loop) this.fail(n.from, "'break' outside loop");
        out.push({ k: 'break', pos });
        return;
      case 'ContinueStatement':
        if (!this.scope.loop) this.fail(n.from, "'continue' not properly in loop");
        out.push({ k: 'continue', pos });
        return;
      case 'ReturnStatement': {
        if (!this.scope.fn) this.fail(n.from, "'return' outside function");
        const ks = this.kids(n).slice(1);
        out.push({ k: 'return', value: ks.length ? this.valueList(ks) : null, pos });
        return;
      }
      case 'YieldStatement':
        return this.unsupported(n.from, "'yield' is not supported");
      case 'PrintStatement':
        return this.fail(n.from, "Missing parentheses in call to 'print'. Did you mean print(...)?");
      case 'RaiseStatement': {
        const ks = this.kids(n);
        if (ks.length === 1) {
          out.push({ k: 'raise', exc: null, pos });
          return;
        }
        const exc = this.expr(ks[1]);
        if (ks.length > 2) {
          if (ks[2].name === 'from') this.unsupported(ks[2].from, "'raise ... from' is not supported");
          this.invalid(ks[2]);
        }
        out.push({ k: 'raise', exc, pos });
        return;
      }
      case 'ImportStatement':
        out.push(this.importStmt(n, pos));
        return;
      case 'ScopeStatement': {
        const ks = this.kids(n);
        const kw = ks[0].name;
        const { groups } = splitCommas(ks.slice(1));
        const names = groups.map((g) => {
          if (g.length !== 1 || g[0].name !== 'VariableName') this.invalid(g[0], n.to);
          return this.identifier(g[0]);
        });
        if (kw === 'nonlocal') {
          if (this.scope.module) this.fail(n.from, 'nonlocal declaration not allowed at module level');
          out.push({ k: 'nonlocal', names, pos });
        } else out.push({ k: 'global', names, pos });
        return;
      }
      case 'AssertStatement': {
        const { groups } = splitCommas(this.kids(n).slice(1));
        if (groups.length > 2 || groups.some((g) => g.length !== 1)) this.invalid(groups[groups.length - 1][0], n.to);
        const test = this.expr(groups[0][0]);
        const msg = groups.length === 2 ? this.expr(groups[1][0]) : null;
        out.push({ k: 'assert', test, msg, pos });
        return;
      }
      case 'TypeDefinition':
        return this.unsupported(n.from, "'type' statements are not supported");
      case 'IfStatement':
        out.push(this.ifStmt(n));
        return;
      case 'WhileStatement': {
        const ks = this.kids(n);
        const test = this.expr(ks[1]);
        const body = this.withScope({ ...this.scope, loop: true }, () => this.body(ks[2]));
        const orelse = ks.length > 3 ? this.elseBody(ks, 3) : [];
        out.push({ k: 'while', test, body, orelse, pos });
        return;
      }
      case 'ForStatement':
        out.push(this.forStmt(n, pos));
        return;
      case 'FunctionDefinition':
        out.push(this.def(n, pos));
        return;
      case 'ClassDefinition':
        out.push(this.classDef(n, pos));
        return;
      case 'TryStatement':
        if (!n.getChild('except') && !n.getChild('finally')) return this.fail(n.to, "expected 'except' or 'finally' block");
        return this.unsupported(n.from, "'try' statements are not supported");
      case 'WithStatement': {
        const async = n.firstChild?.name === 'async';
        return this.unsupported(n.from, async ? "'async with' statements are not supported" : "'with' statements are not supported");
      }
      case 'DecoratedStatement':
        return this.unsupported(n.from, 'decorators are not supported');
      case 'MatchStatement':
        return this.unsupported(n.from, "'match' statements are not supported");
      default:
        return this.invalid(n);
    }
  }

  private elseBody(ks: SyntaxNode[], i: number): Stmt[] {
    if (ks[i].name !== 'else' || ks.length !== i + 2) this.invalid(ks[i]);
    return this.body(ks[i + 1]);
  }

  private ifStmt(n: SyntaxNode): Stmt {
    const ks = this.kids(n);
    const clauses: { test: Expr; body: Stmt[]; offset: number }[] = [];
    let orelse: Stmt[] = [];
    let i = 0;
    while (i < ks.length) {
      const kw = ks[i];
      if (kw.name === 'if' || kw.name === 'elif') {
        if (ks[i + 1]?.name === 'Body') this.invalid(ks[i + 1]);
        const test = this.expr(ks[i + 1]);
        const body = this.body(ks[i + 2]);
        clauses.push({ test, body, offset: kw.from });
        i += 3;
      } else if (kw.name === 'else') {
        orelse = this.elseBody(ks, i);
        i += 2;
      } else this.invalid(kw);
    }
    let result: Stmt | null = null;
    for (let c = clauses.length - 1; c >= 0; c--) {
      const { test, body, offset } = clauses[c];
      result = { k: 'if', test, body, orelse: result ? [result] : orelse, pos: this.pos(offset) };
    }
    if (!result) this.invalid(n);
    return result;
  }

  private forStmt(n: SyntaxNode, pos: Pos): Stmt {
    const ks = this.kids(n);
    if (ks[0].name === 'async') this.unsupported(n.from, "'async for' loops are not supported");
    const inAt = ks.findIndex((k) => k.name === 'in');
    const bodyAt = ks.findIndex((k) => k.name === 'Body');
    if (inAt < 0 || bodyAt < inAt) this.invalid(n);
    const target = this.exprList(ks.slice(1, inAt));
    this.checkTarget(target, 'assign', false);
    const iter = this.valueList(ks.slice(inAt + 1, bodyAt));
    const body = this.withScope({ ...this.scope, loop: true }, () => this.body(ks[bodyAt]));
    const orelse = ks.length > bodyAt + 1 ? this.elseBody(ks, bodyAt + 1) : [];
    return { k: 'for', target, iter, body, orelse, pos };
  }

  private def(n: SyntaxNode, pos: Pos): Stmt {
    const ks = this.kids(n);
    if (ks[0].name === 'async') this.unsupported(n.from, "'async def' functions are not supported");
    const nameNode = ks[1];
    if (!nameNode || nameNode.name !== 'VariableName') this.invalid(nameNode, n.to);
    const name = this.identifier(nameNode);
    let i = 2;
    if (ks[i]?.name === 'TypeParamList') this.unsupported(ks[i].from, 'type parameters are not supported');
    if (ks[i]?.name !== 'ParamList') this.invalid(ks[i], n.to);
    const params = this.params(ks[i], false);
    i++;
    if (ks[i]?.name === 'TypeDef') {
      const ann = this.kids(ks[i]);
      if (ann.length !== 1) this.invalid(ks[i]);
      this.expr(ann[0]);
      i++;
    }
    if (ks.length !== i + 1) this.invalid(ks[i]);
    const body = this.withScope({ fn: true, loop: false, module: false }, () => this.body(ks[i]));
    return { k: 'def', name, params, body, pos };
  }

  private classDef(n: SyntaxNode, pos: Pos): Stmt {
    const ks = this.kids(n);
    const nameNode = ks[1];
    if (!nameNode || nameNode.name !== 'VariableName') this.invalid(nameNode, n.to);
    const name = this.identifier(nameNode);
    let i = 2;
    if (ks[i]?.name === 'TypeParamList') this.unsupported(ks[i].from, 'type parameters are not supported');
    const bases: Expr[] = [];
    if (ks[i]?.name === 'ArgList') {
      const call = this.argList(ks[i]);
      if (call.bareGenexp !== undefined) this.invalid(null, call.bareGenexp); // `class A(x for x in y)`
      for (const a of call.args) {
        if (a.k === 'starred' || a.k === 'doublestarred') {
          this.unsupported(this.offsetOf(a), `'${a.k === 'starred' ? '*' : '**'}' in class bases is not supported`);
        }
        bases.push(a);
      }
      if (call.kwargs.length) this.unsupported(call.kwOffsets[0], 'class keyword arguments are not supported');
      i++;
    }
    if (ks.length !== i + 1) this.invalid(ks[i]);
    const body = this.withScope({ fn: false, loop: false, module: false }, () => this.body(ks[i]));
    return { k: 'class', name, bases, body, pos };
  }

  private assign(n: SyntaxNode, pos: Pos): Stmt {
    const segs: SyntaxNode[][] = [[]];
    const ops: SyntaxNode[] = [];
    let typeDef: SyntaxNode | null = null;
    for (const k of this.kids(n)) {
      if (k.name === 'AssignOp') {
        ops.push(k);
        segs.push([]);
      } else if (k.name === 'TypeDef') {
        if (typeDef || segs.length !== 1) this.invalid(k);
        typeDef = k;
      } else segs[segs.length - 1].push(k);
    }
    for (let s = 0; s < segs.length; s++) if (segs[s].length === 0) this.invalid(ops[s] ?? n, n.to);
    if (typeDef) {
      const first = segs[0];
      const { groups, comma } = splitCommas(first);
      if (comma) this.fail(first[0].from, 'only single target (not tuple) can be annotated');
      const target = this.single(groups[0], n);
      if (target.k === 'list') this.fail(first[0].from, 'only single target (not list) can be annotated');
      if (target.k === 'tuple') this.fail(first[0].from, 'only single target (not tuple) can be annotated');
      if (target.k !== 'name' && target.k !== 'attr' && target.k !== 'subscript') {
        this.fail(first[0].from, 'illegal target for annotation');
      }
      this.checkTarget(target, 'assign', false);
      const ann = this.kids(typeDef);
      if (ann.length !== 2) this.invalid(typeDef);
      this.expr(ann[1]);
      if (segs.length > 2) this.invalid(ops[1]);
      const value = segs.length === 2 ? this.valueList(segs[1]) : null;
      return { k: 'annassign', target, value, pos };
    }
    if (segs.length < 2) this.invalid(n);
    const targets: Expr[] = [];
    for (let s = 0; s < segs.length - 1; s++) {
      const t = this.exprList(segs[s]);
      this.checkTarget(t, 'assign', false);
      targets.push(t);
    }
    const value = this.valueList(segs[segs.length - 1]);
    return { k: 'assign', targets, value, pos };
  }

  private augassign(n: SyntaxNode, pos: Pos): Stmt {
    const ks = this.kids(n);
    const opAt = ks.findIndex((k) => k.name === 'UpdateOp');
    if (opAt <= 0 || opAt === ks.length - 1) this.invalid(ks[opAt] ?? n);
    const targetNodes = ks.slice(0, opAt);
    const target = this.exprList(targetNodes);
    if (target.k !== 'name' && target.k !== 'attr' && target.k !== 'subscript') {
      this.fail(targetNodes[0].from, `'${exprName(target)}' is an illegal expression for augmented assignment`);
    }
    this.checkTarget(target, 'assign', false);
    const op = this.text(ks[opAt]).slice(0, -1);
    if (!BIN_OPS.has(op)) this.invalid(ks[opAt]);
    const value = this.valueList(ks.slice(opAt + 1));
    return { k: 'augassign', target, op: op as BinOp, value, pos };
  }

  private importStmt(n: SyntaxNode, pos: Pos): Stmt {
    const ks = this.kids(n);
    if (ks[0].name === 'import') {
      const names = this.importNames(ks.slice(1), true, n);
      return { k: 'import', names, pos };
    }
    let i = 1;
    if (ks[i] && (ks[i].name === '.' || ks[i].name === 'Ellipsis')) {
      this.unsupported(ks[i].from, 'relative imports are not supported');
    }
    const parts: string[] = [];
    while (i < ks.length && ks[i].name !== 'import') {
      if (ks[i].name === 'VariableName') parts.push(this.identifier(ks[i]));
      else if (ks[i].name !== '.') this.invalid(ks[i]);
      i++;
    }
    if (i >= ks.length || parts.length === 0) this.invalid(ks[i], n.to);
    const rest = ks.slice(i + 1);
    if (rest.length === 1 && rest[0].name === '*') {
      this.unsupported(rest[0].from, "'from ... import *' is not supported");
    }
    const names = this.importNames(rest, false, n);
    const module = parts.join('.');
    if (module === '__future__') {
      for (const { name } of names) if (!FUTURE_FEATURES.has(name)) this.fail(n.from, `future feature ${name} is not defined`);
    }
    return { k: 'from', module, names, pos };
  }

  private importNames(ns: SyntaxNode[], dotted: boolean, stmt: SyntaxNode): { name: string; asname: string | null }[] {
    let items = ns;
    let parens = false;
    if (items[0]?.name === '(') {
      if (dotted || items[items.length - 1]?.name !== ')') this.invalid(items[0]);
      items = items.slice(1, -1);
      parens = true;
    }
    const { groups } = splitCommas(items);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) {
      if (!parens) this.fail(stmt.to, 'trailing comma not allowed without surrounding parentheses');
      groups.pop();
    }
    return groups.map((g) => {
      if (g.length === 0) this.invalid(null, stmt.to);
      const parts: string[] = [];
      let asname: string | null = null;
      for (let j = 0; j < g.length; j++) {
        const k = g[j];
        if (k.name === 'VariableName') {
          if (parts.length && g[j - 1].name !== '.') this.invalid(k);
          parts.push(this.identifier(k));
        } else if (k.name === '.' && dotted && parts.length) {
          continue;
        } else if (k.name === 'as' && g[j + 1]?.name === 'VariableName' && j + 2 === g.length) {
          asname = this.identifier(g[j + 1]);
          break;
        } else this.invalid(k);
      }
      return { name: parts.join('.'), asname };
    });
  }

  // --- targets and expression lists ---

  /** A comma-separated expression list in value position (a tuple if it has a comma). */
  private valueList(ns: SyntaxNode[]): Expr {
    if (ns.length === 1 && ns[0].name === 'YieldExpression') this.unsupported(ns[0].from, "'yield' is not supported");
    const e = this.exprList(ns);
    if (e.k === 'starred') this.fail(this.offsetOf(e), "can't use starred expression here");
    return e;
  }

  /** A comma-separated list (a tuple if it has a comma), in value or target position. */
  private exprList(ns: SyntaxNode[]): Expr {
    if (ns.length === 0) this.invalid(null);
    const { groups, comma } = splitCommas(ns);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    const elts = groups.map((g) => this.item(g, ns[0]));
    if (!comma) return elts[0];
    return { k: 'tuple', elts, pos: this.pos(ns[0].from) };
  }

  /** One list item: an expression or `*expression`. */
  private item(g: SyntaxNode[], near: SyntaxNode): Expr {
    if (g.length === 2 && g[0].name === '*') {
      return { k: 'starred', value: this.expr(g[1]), pos: this.pos(g[0].from) };
    }
    if (g.length !== 1) this.invalid(g[1] ?? near);
    return this.expr(g[0]);
  }

  /** Exactly one expression (no star). */
  private single(g: SyntaxNode[], near: SyntaxNode): Expr {
    if (g.length === 2 && g[0].name === '*' && near.name === 'DeleteStatement') {
      this.fail(g[0].from, 'cannot delete starred');
    }
    if (g.length !== 1) this.invalid(g[0] ?? near, near.to);
    return this.expr(g[0]);
  }

  private checkTarget(e: Expr, mode: 'assign' | 'del', inSeq: boolean): void {
    const verb = mode === 'del' ? 'delete' : 'assign to';
    switch (e.k) {
      case 'name':
        if (e.id === '__debug__') this.fail(this.offsetOf(e), `cannot ${verb} __debug__`);
        return;
      case 'attr':
      case 'subscript':
        return;
      case 'tuple':
      case 'list': {
        let stars = 0;
        for (const elt of e.elts) {
          if (elt.k === 'starred') stars++;
          this.checkTarget(elt, mode, true);
        }
        if (stars > 1) this.fail(this.offsetOf(e), 'multiple starred expressions in assignment');
        return;
      }
      case 'starred':
        if (mode === 'del') this.fail(this.offsetOf(e), 'cannot delete starred');
        if (!inSeq) this.fail(this.offsetOf(e), 'starred assignment target must be in a list or tuple');
        this.checkTarget(e.value, mode, false);
        return;
      default:
        this.fail(this.offsetOf(e), `cannot ${verb} ${exprName(e)}`);
    }
  }

  // --- expressions ---

  private expr(n: SyntaxNode | undefined): Expr {
    if (!n) this.invalid(null);
    const from = n.from;
    const pos = (): Pos => this.pos(from);
    switch (n.name) {
      case 'VariableName':
        return { k: 'name', id: this.identifier(n), pos: pos() };
      case 'Number': {
        const r = numberLiteral(this.text(n));
        if (typeof r === 'string') this.fail(from, r);
        return { ...r, pos: pos() };
      }
      case 'String':
        return this.strings([n], n);
      case 'ContinuedString':
        return this.strings(this.kids(n), n);
      case 'FormatString':
        return this.unsupported(from, 'f-strings are not supported');
      case 'Ellipsis':
        return { k: 'const', value: 'Ellipsis', pos: pos() };
      case 'None':
        return { k: 'const', value: 'None', pos: pos() };
      case 'Boolean':
        return { k: 'const', value: this.text(n) === 'True' ? 'True' : 'False', pos: pos() };
      case 'ParenthesizedExpression': {
        const ks = this.kids(n);
        if (ks.length === 4 && ks[1].name === '*') this.fail(ks[1].from, 'cannot use starred expression here');
        if (ks.length !== 3) this.invalid(ks[1] ?? n);
        if (ks[1].name === 'YieldExpression') this.unsupported(ks[1].from, "'yield' is not supported");
        return this.expr(ks[1]);
      }
      case 'TupleExpression': {
        const ks = this.kids(n);
        const elts = ks.length > 2 ? this.displayItems(ks.slice(1, -1)) : [];
        return { k: 'tuple', elts, pos: pos() };
      }
      case 'ArrayExpression': {
        const ks = this.kids(n);
        const elts = ks.length > 2 ? this.displayItems(ks.slice(1, -1)) : [];
        return { k: 'list', elts, pos: pos() };
      }
      case 'SetExpression': {
        const ks = this.kids(n);
        return { k: 'set', elts: this.displayItems(ks.slice(1, -1)), pos: pos() };
      }
      case 'DictionaryExpression':
        return this.dict(n);
      case 'ComprehensionExpression':
      case 'ArrayComprehensionExpression':
      case 'SetComprehensionExpression': {
        const ks = this.kids(n).slice(1, -1);
        if (ks[0]?.name === '*') this.fail(ks[0].from, 'iterable unpacking cannot be used in comprehension');
        const elt = this.expr(ks[0]);
        const gens = this.comprehension(ks, 1);
        const k = n.name === 'ComprehensionExpression' ? 'genexp' : n.name === 'ArrayComprehensionExpression' ? 'listcomp' : 'setcomp';
        return { k, elt, generators: gens, pos: pos() };
      }
      case 'DictionaryComprehensionExpression': {
        const ks = this.kids(n).slice(1, -1);
        if (ks[0]?.name === '**') this.fail(ks[0].from, 'dict unpacking cannot be used in dict comprehension');
        if (ks[1]?.name !== ':') this.invalid(ks[1] ?? n);
        const key = this.expr(ks[0]);
        const value = this.expr(ks[2]);
        const gens = this.comprehension(ks, 3);
        return { k: 'dictcomp', key, value, generators: gens, pos: pos() };
      }
      case 'CallExpression': {
        const ks = this.kids(n);
        if (ks.length !== 2 || ks[1].name !== 'ArgList') this.invalid(ks[1] ?? n);
        const func = this.expr(ks[0]);
        const { args, kwargs } = this.argList(ks[1]);
        return { k: 'call', func, args, kwargs, pos: pos() };
      }
      case 'MemberExpression':
        return this.member(n);
      case 'BinaryExpression':
        return this.binary(n);
      case 'UnaryExpression': {
        const ks = this.kids(n);
        if (ks.length !== 2) this.invalid(ks[2] ?? n);
        if (ks[0].name === 'not') return this.boolean(n);
        const op = this.text(ks[0]);
        if (op !== '-' && op !== '+' && op !== '~') this.invalid(ks[0]);
        return { k: 'unary', op, operand: this.expr(ks[1]), pos: pos() };
      }
      case 'ConditionalExpression': {
        const ks = this.kids(n);
        if (ks.length !== 5 || ks[1].name !== 'if' || ks[3].name !== 'else') this.invalid(ks[ks.length - 1] ?? n, n.to);
        const body = this.expr(ks[0]);
        const test = this.expr(ks[2]);
        const orelse = this.expr(ks[4]);
        return { k: 'ifexp', test, body, orelse, pos: pos() };
      }
      case 'LambdaExpression': {
        const ks = this.kids(n);
        if (ks.length !== 4 || ks[1].name !== 'ParamList' || ks[2].name !== ':') this.invalid(ks[ks.length - 1] ?? n, n.to);
        const params = this.params(ks[1], true);
        const body = this.expr(ks[3]);
        return { k: 'lambda', params, body, pos: pos() };
      }
      case 'AwaitExpression':
        return this.unsupported(from, "'await' is not supported");
      case 'YieldExpression':
        return this.unsupported(from, "'yield' is not supported");
      case 'NamedExpression':
        return this.unsupported(from, "assignment expressions (':=') are not supported");
      default:
        return this.invalid(n);
    }
  }

  private strings(parts: SyntaxNode[], whole: SyntaxNode): Expr {
    let bytes: boolean | null = null;
    const values: string[] = [];
    for (const p of parts) {
      if (p.name === 'FormatString') this.unsupported(p.from, 'f-strings are not supported');
      if (p.name !== 'String') this.invalid(p);
      const r = decodeString(this.text(p));
      if ('error' in r) {
        if (r.unsupported) this.unsupported(p.from, r.error);
        this.fail(p.from, r.error);
      }
      if (bytes === null) bytes = r.bytes;
      else if (bytes !== r.bytes) this.fail(whole.from, 'cannot mix bytes and nonbytes literals');
      values.push(r.value);
    }
    const value = values.join('');
    const pos = this.pos(whole.from);
    if (bytes) {
      const arr = new Uint8Array(value.length);
      for (let i = 0; i < value.length; i++) arr[i] = value.charCodeAt(i);
      return { k: 'bytes', value: arr, pos };
    }
    return { k: 'str', value, pos };
  }

  /** Items of a tuple/list/set display: expressions and `*expression`. */
  private displayItems(ns: SyntaxNode[]): Expr[] {
    const { groups } = splitCommas(ns);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    return groups.map((g) => {
      if (g.length === 0) this.invalid(null, ns[0]?.from ?? 0);
      return this.item(g, ns[0]);
    });
  }

  private dict(n: SyntaxNode): Expr {
    const ks = this.kids(n).slice(1, -1);
    const keys: (Expr | null)[] = [];
    const values: Expr[] = [];
    const { groups } = splitCommas(ks);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    for (const g of groups) {
      if (g.length === 0) continue; // `{}`
      if (g.length === 2 && g[0].name === '**') {
        keys.push(null);
        values.push(this.expr(g[1]));
      } else if (g.length === 3 && g[1].name === ':') {
        keys.push(this.expr(g[0]));
        values.push(this.expr(g[2]));
      } else this.invalid(g[1] ?? g[0]);
    }
    return { k: 'dict', keys, values, pos: this.pos(n.from) };
  }

  /** `for ... in ... [if ...]...` clauses starting at ks[i]. */
  private comprehension(ks: SyntaxNode[], i: number, callArgAt: number | null = null): Comprehension[] {
    const gens: Comprehension[] = [];
    while (i < ks.length) {
      const k = ks[i];
      if (k.name === 'async') this.unsupported(k.from, 'asynchronous comprehensions are not supported');
      if (k.name === 'for') {
        let j = i + 1;
        while (j < ks.length && ks[j].name !== 'in') j++;
        if (j >= ks.length || j === i + 1) this.invalid(ks[j] ?? k);
        const target = this.exprList(ks.slice(i + 1, j));
        this.checkTarget(target, 'assign', false);
        const iter = this.expr(ks[j + 1]);
        gens.push({ target, iter, ifs: [] });
        i = j + 2;
      } else if (k.name === 'if' && gens.length) {
        // lezer allows Python 2's `if lambda: ...` here; Python 3 needs parentheses.
        if (ks[i + 1]?.name === 'LambdaExpression') this.invalid(ks[i + 1]);
        gens[gens.length - 1].ifs.push(this.expr(ks[i + 1]));
        i += 2;
      } else if (callArgAt !== null && k.name === ',') {
        this.fail(callArgAt, 'Generator expression must be parenthesized');
      } else this.invalid(k);
    }
    if (!gens.length) this.invalid(ks[i - 1]);
    return gens;
  }

  /** A call's arguments; `bareGenexp` is the offset of `for` in `f(x for x in y)`. */
  private argList(n: SyntaxNode): { args: Expr[]; kwargs: Keyword[]; kwOffsets: number[]; bareGenexp?: number } {
    const ks = this.kids(n).slice(1, -1);
    const args: Expr[] = [];
    const kwargs: Keyword[] = [];
    const kwOffsets: number[] = [];
    const forAt = ks.findIndex((k) => k.name === 'for' || k.name === 'async');
    if (forAt >= 0) {
      // A generator expression argument must be the only argument.
      const { groups } = splitCommas(ks.slice(0, forAt));
      const eltNodes = groups[groups.length - 1];
      if (eltNodes.length !== 1) this.invalid(eltNodes[1] ?? ks[forAt]);
      if (groups.length > 1) this.fail(eltNodes[0].from, 'Generator expression must be parenthesized');
      const elt = this.expr(eltNodes[0]);
      const gens = this.comprehension(ks, forAt, eltNodes[0].from);
      args.push({ k: 'genexp', elt, generators: gens, pos: this.pos(n.from) });
      return { args, kwargs, kwOffsets, bareGenexp: ks[forAt].from };
    }
    const { groups } = splitCommas(ks);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    const names = new Set<string>();
    let sawKeyword = false;
    let sawDoubleStar = false;
    for (const g of groups) {
      if (g.length === 0) {
        if (groups.length === 1) break; // `f()`
        this.invalid(null, n.from);
      }
      const first = g[0];
      if (first.name === '*' && g.length === 2) {
        if (sawDoubleStar) this.fail(first.from, 'iterable argument unpacking follows keyword argument unpacking');
        args.push({ k: 'starred', value: this.expr(g[1]), pos: this.pos(first.from) });
      } else if (first.name === '**' && g.length === 2) {
        sawDoubleStar = true;
        args.push({ k: 'doublestarred', value: this.expr(g[1]), pos: this.pos(first.from) });
      } else if (g.length === 3 && g[1].name === 'AssignOp') {
        if (this.text(g[1]) === ':=') this.unsupported(first.from, "assignment expressions (':=') are not supported");
        if (first.name !== 'VariableName') this.invalid(first);
        const name = this.identifier(first);
        if (name === '__debug__') this.fail(first.from, 'cannot assign to __debug__');
        if (names.has(name)) this.fail(first.from, `keyword argument repeated: ${name}`);
        names.add(name);
        sawKeyword = true;
        kwargs.push({ name, value: this.expr(g[2]), pos: this.pos(first.from) });
        kwOffsets.push(first.from);
      } else if (g.length === 1) {
        if (sawDoubleStar) this.fail(first.from, 'positional argument follows keyword argument unpacking');
        if (sawKeyword) this.fail(first.from, 'positional argument follows keyword argument');
        args.push(this.expr(first));
      } else this.invalid(g[1]);
    }
    return { args, kwargs, kwOffsets };
  }

  private member(n: SyntaxNode): Expr {
    const ks = this.kids(n);
    const from = n.from;
    const obj = this.expr(ks[0]);
    if (ks[1]?.name === '.') {
      const prop = ks[2];
      if (ks.length !== 3 || prop.name !== 'PropertyName') this.invalid(prop ?? ks[1]);
      const name = this.identifier(prop);
      if (KEYWORDS.has(name)) this.invalid(prop);
      return { k: 'attr', obj, name, pos: this.pos(from) };
    }
    if (ks[1]?.name !== '[' || ks[ks.length - 1].name !== ']' || ks.length < 4) this.invalid(ks[1] ?? n);
    const inner = ks.slice(2, -1);
    const { groups, comma } = splitCommas(inner);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    const elts = groups.map((g) => this.subscriptItem(g, inner[0]));
    const index = comma ? { k: 'tuple', elts, pos: this.pos(inner[0].from) } as Expr : elts[0];
    return { k: 'subscript', obj, index, pos: this.pos(from) };
  }

  private subscriptItem(g: SyntaxNode[], near: SyntaxNode): Expr {
    if (g.length === 0) this.invalid(near);
    if (!g.some((k) => k.name === ':')) {
      if (g.length !== 1) this.invalid(g[1]);
      return this.expr(g[0]);
    }
    const parts: (Expr | null)[] = [null];
    let colons = 0;
    for (const k of g) {
      if (k.name === ':') {
        colons++;
        if (colons > 2) this.invalid(k);
        parts.push(null);
      } else {
        if (parts[colons] !== null) this.invalid(k);
        parts[colons] = this.expr(k);
      }
    }
    const [lower, upper, step = null] = parts;
    return { k: 'slice', lower, upper, step, pos: this.pos(g[0].from) };
  }

  private binary(n: SyntaxNode): Expr {
    const ks = this.kids(n);
    if (ks.length < 3) this.invalid(ks[ks.length - 1] ?? n, n.to);
    const opNode = ks[1];
    const from = n.from;
    switch (opNode.name) {
      case 'and':
      case 'or':
        return this.boolean(n);
      case 'ArithOp':
      case 'BitOp': {
        if (ks.length !== 3) this.invalid(ks[3]);
        const op = this.text(opNode);
        if (!BIN_OPS.has(op)) this.invalid(opNode);
        const left = this.expr(ks[0]);
        const right = this.expr(ks[2]);
        return { k: 'binop', op: op as BinOp, left, right, pos: this.pos(from) };
      }
      default: {
        const parsed = this.cmpOp(ks);
        if (!parsed) this.invalid(opNode);
        const left = ks[0];
        // lezer accepts `a == not b`; Python does not.
        if (parsed.right.name === 'UnaryExpression' && parsed.right.firstChild?.name === 'not') this.invalid(parsed.right);
        let base: { left: Expr; ops: CmpOp[]; comparators: Expr[] };
        if (left.name === 'BinaryExpression' && this.cmpOp(this.kids(left))) {
          const inner = this.binary(left);
          if (inner.k !== 'compare') this.invalid(left);
          base = { left: inner.left, ops: [...inner.ops], comparators: [...inner.comparators] };
        } else base = { left: this.expr(left), ops: [], comparators: [] };
        base.ops.push(parsed.op);
        base.comparators.push(this.expr(parsed.right));
        return { k: 'compare', ...base, pos: this.pos(from) };
      }
    }
  }

  /**
   * `and`, `or` and `not` (unparenthesized, from the node `n` down). lezer gives `not` no
   * precedence (`not a and b` comes out as `not (a and b)`), so flatten the operands and
   * operators in source order and parse them again: `or` < `and` < `not` < the operands.
   * `a and b and c` becomes one BoolOp, as in CPython.
   */
  private boolean(n: SyntaxNode): Expr {
    const items: SyntaxNode[] = [];
    const flatten = (m: SyntaxNode): void => {
      const ks = this.kids(m);
      if (m.name === 'UnaryExpression' && ks[0]?.name === 'not' && ks.length === 2) {
        items.push(ks[0]);
        flatten(ks[1]);
      } else if (m.name === 'BinaryExpression' && (ks[1]?.name === 'and' || ks[1]?.name === 'or') && ks.length === 3) {
        flatten(ks[0]);
        items.push(ks[1]);
        flatten(ks[2]);
      } else items.push(m);
    };
    flatten(n);
    let i = 0;
    const level = (op: 'or' | 'and' | null): { e: Expr; from: number } => {
      if (op === null) {
        const k = items[i++];
        if (!k) this.invalid(null, n.to);
        if (k.name === 'not') {
          const operand = level(null);
          return { e: { k: 'unary', op: 'not', operand: operand.e, pos: this.pos(k.from) }, from: k.from };
        }
        if (k.name === 'and' || k.name === 'or') this.invalid(k);
        return { e: this.expr(k), from: k.from };
      }
      const first = level(op === 'or' ? 'and' : null);
      const values = [first.e];
      while (items[i]?.name === op) {
        i++;
        values.push(level(op === 'or' ? 'and' : null).e);
      }
      if (values.length === 1) return first;
      return { e: { k: 'boolop', op, values, pos: this.pos(first.from) }, from: first.from };
    };
    const result = level('or');
    if (i !== items.length) this.invalid(items[i]);
    return result.e;
  }

  /** The comparison operator of a BinaryExpression's children, if it is a comparison. */
  private cmpOp(ks: SyntaxNode[]): { op: CmpOp; right: SyntaxNode } | null {
    const o = ks[1];
    if (!o) return null;
    if (o.name === 'CompareOp') {
      const t = this.text(o);
      if (!CMP_OPS.has(t) || ks.length !== 3) return null;
      return { op: t as CmpOp, right: ks[2] };
    }
    if (o.name === 'in' && ks.length === 3) return { op: 'in', right: ks[2] };
    if (o.name === 'not' && ks[2]?.name === 'in' && ks.length === 4) return { op: 'not in', right: ks[3] };
    if (o.name === 'is') {
      if (ks[2]?.name === 'not' && ks.length === 4) return { op: 'is not', right: ks[3] };
      if (ks.length === 3) return { op: 'is', right: ks[2] };
    }
    return null;
  }

  /** Parameters of a def (`(a, b=1, *c, d, **e)`) or a lambda (`a, b=1, *c, d, **e`). */
  private params(n: SyntaxNode, lambda: boolean): Param[] {
    const all = this.kids(n);
    let ks = all;
    if (!lambda) {
      if (ks[0]?.name !== '(' || ks[ks.length - 1]?.name !== ')') this.invalid(n);
      // `/` is an anonymous token: look for it in the gaps between the nodes.
      for (let c = n.firstChild; c && c.nextSibling; c = c.nextSibling) {
        const gap = this.src.slice(c.to, c.nextSibling.from);
        const slash = gap.indexOf('/');
        if (slash >= 0) this.unsupported(c.to + slash, "positional-only parameters ('/') are not supported");
      }
      ks = ks.slice(1, -1);
    }
    const params: Param[] = [];
    const seen = new Set<string>();
    let sawDefault = false;
    let star: 'none' | 'bare' | 'args' = 'none';
    let bareStarAt = -1;
    let kwonlyCount = 0;
    let sawKwargs = false;
    const { groups } = splitCommas(ks);
    if (groups.length > 1 && groups[groups.length - 1].length === 0) groups.pop();
    const addName = (node: SyntaxNode): string => {
      if (node.name !== 'VariableName') this.invalid(node);
      const name = this.identifier(node);
      if (name === '__debug__') this.fail(node.from, 'cannot assign to __debug__');
      if (seen.has(name)) this.fail(node.from, `duplicate argument '${name}' in function definition`);
      seen.add(name);
      return name;
    };
    for (const g of groups) {
      if (g.length === 0) {
        if (groups.length === 1) break;
        this.invalid(null, n.from);
      }
      const first = g[0];
      if (sawKwargs) this.fail(first.from, 'arguments cannot follow var-keyword argument');
      let j = 0;
      if (first.name === '*' || first.name === '**') {
        j = 1;
        if (first.name === '*' && star !== 'none') this.fail(first.from, '* argument may appear only once');
        if (first.name === '*' && g.length === 1) {
          star = 'bare';
          bareStarAt = first.from;
          continue;
        }
        if (first.name === '**' && star === 'bare' && kwonlyCount === 0) {
          this.fail(bareStarAt, 'named arguments must follow bare *');
        }
        const nameNode = g[1];
        if (!nameNode) this.invalid(first);
        const name = addName(nameNode);
        j = 2;
        if (g[j]?.name === 'TypeDef') this.annotation(g[j++]);
        if (j !== g.length) this.invalid(g[j]);
        const kind = first.name === '*' ? 'varargs' : 'kwargs';
        if (kind === 'varargs') star = 'args';
        else sawKwargs = true;
        params.push({ name, default: null, kind, pos: this.pos(nameNode.from) });
        continue;
      }
      const name = addName(first);
      j = 1;
      if (g[j]?.name === 'TypeDef') this.annotation(g[j++]);
      let def: Expr | null = null;
      if (g[j]?.name === 'AssignOp') {
        def = this.expr(g[j + 1]);
        j += 2;
      }
      if (j !== g.length) this.invalid(g[j]);
      if (star === 'none') {
        if (def) sawDefault = true;
        else if (sawDefault) this.fail(first.from, 'non-default argument follows default argument');
        params.push({ name, default: def, kind: 'normal', pos: this.pos(first.from) });
      } else {
        kwonlyCount++;
        params.push({ name, default: def, kind: 'kwonly', pos: this.pos(first.from) });
      }
    }
    if (star === 'bare' && kwonlyCount === 0) this.fail(bareStarAt, 'named arguments must follow bare *');
    return params;
  }

  private annotation(typeDef: SyntaxNode): void {
    const ks = this.kids(typeDef);
    if (ks.length !== 2) this.invalid(typeDef);
    this.expr(ks[1]);
  }
}
