/**
 * Compile-time constants, as CPython's compiler makes them: literals, and the results of the
 * AST optimizer's constant folding (unary minus, arithmetic on constants, tuples of constants,
 * str/bytes/tuple repetition and concatenation) within its size limits (ints up to 128 bits,
 * str/bytes up to 4096 items, tuples up to 256). Constants are created before the code runs
 * and live as long as the code object: for a console statement, until it has run; for a
 * function, as long as the function.
 *
 * Equal constants are shared within a code object (3.7) or across the whole compilation
 * (3.8+: the compiler's constant cache), so `a = 257; b = 257; a is b` is True in a script
 * and False when typed as two console statements, as in CPython.
 */
import { intBinop } from './arith';
import type { BinOp, Expr, Module, Stmt } from './ast';

/** A folded constant value: what the object space will build. */
export type ConstValue =
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'complex'; re: number; im: number }
  | { t: 'str'; v: string }
  | { t: 'bytes'; v: Uint8Array }
  | { t: 'tuple'; items: ConstValue[] }
  /** 3.9+: the constant of a set display of more than two constants (BUILD_SET 0 + SET_UPDATE). */
  | { t: 'frozenset'; items: ConstValue[] }
  | { t: 'singleton'; v: 'None' | 'True' | 'False' | 'Ellipsis' };

const MAX_INT_BITS = 128n;
const MAX_STR = 4096;
const MAX_COLLECTION = 256;

export function constKey(c: ConstValue): string {
  switch (c.t) {
    case 'int':
      return `i${c.v}`;
    case 'float':
      return `f${Object.is(c.v, -0) ? '-0' : String(c.v)}`;
    case 'complex':
      return `c${c.re},${c.im}`;
    case 'str':
      return `s${JSON.stringify(c.v)}`;
    case 'bytes':
      return `b${Array.from(c.v).join(',')}`;
    case 'tuple':
      return `t(${c.items.map(constKey).join(';')})`;
    case 'frozenset':
      return `F(${c.items.map(constKey).join(';')})`;
    case 'singleton':
      return c.v;
  }
}

function bitLength(v: bigint): bigint {
  return BigInt((v < 0n ? -v : v).toString(2).length);
}

/** The constant an expression folds to, or null. */
export function fold(e: Expr): ConstValue | null {
  switch (e.k) {
    case 'int':
      return { t: 'int', v: e.value };
    case 'float':
      return { t: 'float', v: e.value };
    case 'imag':
      return { t: 'complex', re: 0, im: e.value };
    case 'str':
      return { t: 'str', v: e.value };
    case 'bytes':
      return { t: 'bytes', v: e.value };
    case 'const':
      return { t: 'singleton', v: e.value };
    case 'tuple': {
      if (e.elts.length > MAX_COLLECTION) return null;
      const items: ConstValue[] = [];
      for (const x of e.elts) {
        const c = fold(x);
        if (c === null) return null;
        items.push(c);
      }
      return { t: 'tuple', items };
    }
    case 'unary': {
      const c = fold(e.operand);
      if (c === null) return null;
      if (e.op === '-' && c.t === 'int') return { t: 'int', v: -c.v };
      if (e.op === '-' && c.t === 'float') return { t: 'float', v: -c.v };
      if (e.op === '-' && c.t === 'complex') return { t: 'complex', re: -c.re, im: -c.im };
      if (e.op === '~' && c.t === 'int') return { t: 'int', v: -c.v - 1n };
      if (e.op === '+' && (c.t === 'int' || c.t === 'float')) return c;
      return null;
    }
    case 'binop': {
      const a = fold(e.left);
      const b = fold(e.right);
      if (a === null || b === null) return null;
      return foldBinop(e.op, a, b);
    }
    default:
      return null;
  }
}

function foldBinop(op: BinOp, a: ConstValue, b: ConstValue): ConstValue | null {
  if (a.t === 'int' && b.t === 'int') {
    const x = a.v;
    const y = b.v;
    // The AST optimizer's limits (safe_multiply, safe_power, safe_lshift): results stay small.
    if (op === '*' && x !== 0n && y !== 0n && bitLength(x) + bitLength(y) > MAX_INT_BITS) return null;
    if (op === '**' && (y < 0n || (x !== 0n && y > 0n && bitLength(x) * y > MAX_INT_BITS))) return null;
    if (op === '<<' && (y < 0n || (x !== 0n && (y > MAX_INT_BITS || bitLength(x) > MAX_INT_BITS - y)))) return null;
    if (op === '>>' && y < 0n) return null;
    if ((op === '//' || op === '%' || op === '/') && y === 0n) return null;
    if (op === '/') return { t: 'float', v: Number(x) / Number(y) };
    const r = intBinop(op, x, y);
    return r === null ? null : { t: 'int', v: r };
  }
  if ((a.t === 'int' || a.t === 'float') && (b.t === 'int' || b.t === 'float')) {
    const x = a.t === 'int' ? Number(a.v) : a.v;
    const y = b.t === 'int' ? Number(b.v) : b.v;
    switch (op) {
      case '+':
        return { t: 'float', v: x + y };
      case '-':
        return { t: 'float', v: x - y };
      case '*':
        return { t: 'float', v: x * y };
      case '/':
        return y === 0 ? null : { t: 'float', v: x / y };
      default:
        return null;
    }
  }
  if ((a.t === 'complex' || b.t === 'complex') && (op === '+' || op === '-')) {
    const [p, q] = a.t === 'complex' ? [a.re, a.im] : a.t === 'int' ? [Number(a.v), 0] : a.t === 'float' ? [a.v, 0] : [NaN, NaN];
    const [r, s] = b.t === 'complex' ? [b.re, b.im] : b.t === 'int' ? [Number(b.v), 0] : b.t === 'float' ? [b.v, 0] : [NaN, NaN];
    if (Number.isNaN(p) || Number.isNaN(r)) return null;
    return op === '+' ? { t: 'complex', re: p + r, im: q + s } : { t: 'complex', re: p - r, im: q - s };
  }
  if (op === '+') {
    if (a.t === 'str' && b.t === 'str' && a.v.length + b.v.length <= MAX_STR) return { t: 'str', v: a.v + b.v };
    if (a.t === 'bytes' && b.t === 'bytes' && a.v.length + b.v.length <= MAX_STR) {
      const v = new Uint8Array(a.v.length + b.v.length);
      v.set(a.v);
      v.set(b.v, a.v.length);
      return { t: 'bytes', v };
    }
    if (a.t === 'tuple' && b.t === 'tuple' && a.items.length + b.items.length <= MAX_COLLECTION) return { t: 'tuple', items: [...a.items, ...b.items] };
    return null;
  }
  if (op === '*') {
    const [seq, n] = b.t === 'int' ? [a, b.v] : a.t === 'int' ? [b, a.v] : [null, 0n];
    if (seq === null) return null;
    const k = n < 0n ? 0 : Number(n);
    if (seq.t === 'str' && [...seq.v].length * k <= MAX_STR) return { t: 'str', v: seq.v.repeat(k) };
    if (seq.t === 'bytes' && seq.v.length * k <= MAX_STR) {
      const v = new Uint8Array(seq.v.length * k);
      for (let i = 0; i < k; i++) v.set(seq.v, i * seq.v.length);
      return { t: 'bytes', v };
    }
    if (seq.t === 'tuple' && seq.items.length * k <= MAX_COLLECTION) {
      const items: ConstValue[] = [];
      for (let i = 0; i < k; i++) items.push(...seq.items);
      return { t: 'tuple', items };
    }
  }
  return null;
}

/** A code unit: the module or one function/lambda body. */
export interface CodeUnit {
  /** Constant expressions of this unit (outermost foldable nodes), in source order. */
  nodes: { expr: Expr; value: ConstValue }[];
}

/**
 * Finds the constants of a module: the outermost foldable expressions, skipping names and
 * calls. Function and lambda bodies are separate units (their code objects are constants of
 * the module, created with it).
 */
export function collectConstants(mod: Module, displaysExtend: boolean): CodeUnit[] {
  const units: CodeUnit[] = [];
  const walkUnit = (stmts: Stmt[], extraExprs: Expr[] = []): void => {
    const unit: CodeUnit = { nodes: [] };
    units.push(unit);
    const visitExpr = (e: Expr | null): void => {
      if (e === null) return;
      // 3.9+: a list or set display of more than two constants loads one tuple (frozenset)
      // constant and extends (updates) an empty list (set) with it.
      if (displaysExtend && (e.k === 'list' || e.k === 'set') && e.elts.length > 2) {
        const items = e.elts.map(fold);
        if (items.every((x) => x !== null)) {
          unit.nodes.push({ expr: e, value: { t: e.k === 'list' ? 'tuple' : 'frozenset', items: items as ConstValue[] } });
          return;
        }
      }
      const c = e.k === 'list' || e.k === 'set' || e.k === 'dict' ? null : fold(e);
      if (c !== null && !(c.t === 'singleton')) {
        unit.nodes.push({ expr: e, value: c });
        return;
      }
      switch (e.k) {
        case 'lambda':
          for (const p of e.params) visitExpr(p.default);
          walkUnit([], [e.body]);
          return;
        default:
          for (const child of childExprs(e)) visitExpr(child);
      }
    };
    const visitStmt = (s: Stmt): void => {
      if (s.k === 'def') {
        for (const p of s.params) visitExpr(p.default);
        walkUnit(s.body);
        return;
      }
      if (s.k === 'class') {
        for (const b of s.bases) visitExpr(b);
        walkUnit(s.body);
        return;
      }
      for (const e of stmtExprs(s)) visitExpr(e);
      for (const b of stmtBlocks(s)) for (const x of b) visitStmt(x);
    };
    for (const e of extraExprs) visitExpr(e);
    for (const s of stmts) visitStmt(s);
  };
  walkUnit(mod.body);
  return units;
}

function childExprs(e: Expr): (Expr | null)[] {
  switch (e.k) {
    case 'attr':
      return [e.obj];
    case 'subscript':
      return [e.obj, e.index];
    case 'slice':
      return [e.lower, e.upper, e.step];
    case 'call':
      return [e.func, ...e.args, ...e.kwargs.map((k) => k.value)];
    case 'binop':
      return [e.left, e.right];
    case 'unary':
      return [e.operand];
    case 'boolop':
      return e.values;
    case 'compare':
      return [e.left, ...e.comparators];
    case 'ifexp':
      return [e.test, e.body, e.orelse];
    case 'tuple':
    case 'list':
    case 'set':
      return e.elts;
    case 'dict':
      return [...e.keys, ...e.values];
    case 'listcomp':
    case 'setcomp':
    case 'genexp':
      return [e.elt, ...e.generators.flatMap((g) => [g.target, g.iter, ...g.ifs])];
    case 'dictcomp':
      return [e.key, e.value, ...e.generators.flatMap((g) => [g.target, g.iter, ...g.ifs])];
    case 'starred':
    case 'doublestarred':
      return [e.value];
    default:
      return [];
  }
}

function stmtExprs(s: Stmt): (Expr | null)[] {
  switch (s.k) {
    case 'expr':
      return [s.value];
    case 'assign':
      return [s.value, ...s.targets];
    case 'augassign':
      return [s.target, s.value];
    case 'annassign':
      return [s.target, s.value];
    case 'del':
      return s.targets;
    case 'if':
    case 'while':
      return [s.test];
    case 'for':
      return [s.target, s.iter];
    case 'return':
      return [s.value];
    case 'assert':
      return [s.test, s.msg];
    case 'raise':
      return [s.exc];
    default:
      return [];
  }
}

function stmtBlocks(s: Stmt): Stmt[][] {
  switch (s.k) {
    case 'if':
    case 'while':
    case 'for':
      return [s.body, s.orelse];
    default:
      return [];
  }
}
