/**
 * The AST of the Python subset PyHeap Lab runs: what `parse.ts` produces from a real Python
 * grammar (@lezer/python) and what the interpreter executes. Positions are 1-based line and
 * column of the node's first character in the source.
 */

export interface Pos {
  line: number;
  col: number;
}

export type BinOp = '+' | '-' | '*' | '/' | '//' | '%' | '**' | '<<' | '>>' | '&' | '|' | '^' | '@';
export type UnaryOp = '-' | '+' | '~' | 'not';
export type CmpOp = '<' | '<=' | '==' | '!=' | '>' | '>=' | 'in' | 'not in' | 'is' | 'is not';

export type Expr =
  | { k: 'int'; value: bigint; pos: Pos }
  | { k: 'float'; value: number; pos: Pos }
  /** An imaginary literal `2j`: value is the imaginary part. */
  | { k: 'imag'; value: number; pos: Pos }
  /** A str literal (adjacent literals concatenated, escapes decoded, raw strings kept raw). */
  | { k: 'str'; value: string; pos: Pos }
  | { k: 'bytes'; value: Uint8Array; pos: Pos }
  | { k: 'const'; value: 'None' | 'True' | 'False' | 'Ellipsis'; pos: Pos }
  | { k: 'name'; id: string; pos: Pos }
  | { k: 'attr'; obj: Expr; name: string; pos: Pos }
  | { k: 'subscript'; obj: Expr; index: Expr; pos: Pos }
  | { k: 'slice'; lower: Expr | null; upper: Expr | null; step: Expr | null; pos: Pos }
  | { k: 'call'; func: Expr; args: Expr[]; kwargs: Keyword[]; pos: Pos }
  | { k: 'binop'; op: BinOp; left: Expr; right: Expr; pos: Pos }
  | { k: 'unary'; op: UnaryOp; operand: Expr; pos: Pos }
  | { k: 'boolop'; op: 'and' | 'or'; values: Expr[]; pos: Pos }
  | { k: 'compare'; left: Expr; ops: CmpOp[]; comparators: Expr[]; pos: Pos }
  | { k: 'ifexp'; test: Expr; body: Expr; orelse: Expr; pos: Pos }
  | { k: 'tuple'; elts: Expr[]; pos: Pos }
  | { k: 'list'; elts: Expr[]; pos: Pos }
  | { k: 'set'; elts: Expr[]; pos: Pos }
  /** `keys[i] === null` marks a `**mapping` entry whose mapping is `values[i]`. */
  | { k: 'dict'; keys: (Expr | null)[]; values: Expr[]; pos: Pos }
  | { k: 'listcomp'; elt: Expr; generators: Comprehension[]; pos: Pos }
  | { k: 'setcomp'; elt: Expr; generators: Comprehension[]; pos: Pos }
  | { k: 'genexp'; elt: Expr; generators: Comprehension[]; pos: Pos }
  | { k: 'dictcomp'; key: Expr; value: Expr; generators: Comprehension[]; pos: Pos }
  | { k: 'lambda'; params: Param[]; body: Expr; pos: Pos }
  /** `*x` in a call's arguments, a display, or an assignment target. */
  | { k: 'starred'; value: Expr; pos: Pos }
  /** `**x` in a call's arguments. */
  | { k: 'doublestarred'; value: Expr; pos: Pos };

export interface Keyword {
  name: string;
  value: Expr;
  pos: Pos;
}

export interface Comprehension {
  target: Expr;
  iter: Expr;
  ifs: Expr[];
}

export interface Param {
  name: string;
  default: Expr | null;
  kind: 'normal' | 'varargs' | 'kwargs' | 'kwonly';
  pos: Pos;
}

export type Stmt =
  | { k: 'expr'; value: Expr; pos: Pos }
  /** `a = b = value`: targets are names, attributes, subscripts, tuples/lists of targets, starred. */
  | { k: 'assign'; targets: Expr[]; value: Expr; pos: Pos }
  | { k: 'augassign'; target: Expr; op: BinOp; value: Expr; pos: Pos }
  /** An annotated assignment `x: int = 5` (the annotation is parsed and ignored). */
  | { k: 'annassign'; target: Expr; value: Expr | null; pos: Pos }
  | { k: 'del'; targets: Expr[]; pos: Pos }
  | { k: 'pass'; pos: Pos }
  | { k: 'break'; pos: Pos }
  | { k: 'continue'; pos: Pos }
  | { k: 'if'; test: Expr; body: Stmt[]; orelse: Stmt[]; pos: Pos }
  | { k: 'while'; test: Expr; body: Stmt[]; orelse: Stmt[]; pos: Pos }
  | { k: 'for'; target: Expr; iter: Expr; body: Stmt[]; orelse: Stmt[]; pos: Pos }
  | { k: 'def'; name: string; params: Param[]; body: Stmt[]; pos: Pos }
  | { k: 'return'; value: Expr | null; pos: Pos }
  | { k: 'class'; name: string; bases: Expr[]; body: Stmt[]; pos: Pos }
  | { k: 'import'; names: { name: string; asname: string | null }[]; pos: Pos }
  | { k: 'from'; module: string; names: { name: string; asname: string | null }[]; pos: Pos }
  | { k: 'global'; names: string[]; pos: Pos }
  | { k: 'nonlocal'; names: string[]; pos: Pos }
  | { k: 'assert'; test: Expr; msg: Expr | null; pos: Pos }
  | { k: 'raise'; exc: Expr | null; pos: Pos };

export interface Module {
  body: Stmt[];
}

/** A syntax error or a construct outside the subset; printed as `error: line L col C: message`. */
export class PySyntaxError extends Error {
  readonly line: number;
  readonly col: number;
  readonly detail: string;
  constructor(line: number, col: number, detail: string) {
    super(`line ${line} col ${col}: ${detail}`);
    this.name = 'PySyntaxError';
    this.line = line;
    this.col = col;
    this.detail = detail;
  }
}
