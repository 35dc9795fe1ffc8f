/**
 * The interpreter of the Python subset: executes the AST of `parse.ts` on an ObjectSpace, so
 * that every object the program creates lives on the simulated heap with CPython's sizes, and
 * every statement leaves an ordered list of heap events.
 *
 * What follows CPython exactly (per version): which objects are created and freed, through
 * which domain and with which sizes; how displays compile (3.9+: a list display of more than
 * two constants is BUILD_LIST 0 + LIST_EXTEND of a constant tuple); list growth in append,
 * extend, comprehensions and list(); dict and set growth; reference counts and free lists;
 * slice deletion and assignment on lists (list_ass_subscript's `garbage` and list_ass_slice's
 * `recycle` arrays, PySequence_Fast) and extended slices on bytearrays.
 *
 * Long runs: `onTick` is called every `tickEvery` operations (progress, cancellation).
 *
 * Also simulated: function objects, method objects loaded as values, iterator objects, the
 * nested function of a comprehension up to 3.11, class type objects and their shared keys.
 *
 * What is approximated: the interpreter's own memory (frames, including the cached frames of
 * 3.7-3.10, code objects, the module's globals dict, a class's own dict and MRO) is not
 * simulated; names live outside the heap. Generator expressions are evaluated eagerly into a
 * list. Evaluation temporaries are released as soon as CPython would release them at the end
 * of the bytecode instruction that consumes them.
 */
import type { Expr, Module, Pos, Stmt } from './ast';
import { SimInterrupt } from '../trace/oplog';
import {
  ByteArrayObj,
  BytesObj,
  ComplexObj,
  DictObj,
  FloatObj,
  IntObj,
  ListObj,
  ObjectSpace,
  PyObj,
  RangeObj,
  SetObj,
  InstanceObj,
  IterObj,
  SimMemoryError,
  SliceObj,
  TypeObj,
  StrObj,
  TupleObj,
  pyEqualsKey,
} from '../objects/space';
import { listPreallocation } from '../objects/rules';
import { intBinop } from './arith';
import { collectConstants, constKey, type ConstValue } from './consts';

/** A Python exception raised in the simulated program. */
export class PyException extends Error {
  readonly pyType: string;
  readonly pos: Pos | null;
  constructor(pyType: string, message: string, pos: Pos | null = null) {
    super(`${pyType}: ${message}`);
    this.name = 'PyException';
    this.pyType = pyType;
    this.pos = pos;
  }
}

/** Values the interpreter handles that are not heap objects: callables, modules, classes. */
export class RuntimeObj extends PyObj {
  readonly label: string;
  readonly call?: (args: PyObj[], kwargs: Map<string, PyObj>, pos: Pos) => PyObj;
  readonly attrs = new Map<string, PyObj>();
  constructor(label: string, call?: (args: PyObj[], kwargs: Map<string, PyObj>, pos: Pos) => PyObj) {
    super('object');
    this.label = label;
    this.isStatic = true;
    if (call !== undefined) this.call = call;
  }
}

/** The two bounds of BINARY_SLICE/STORE_SLICE (3.12+): no slice object on the heap. */
class SliceBounds extends PyObj {
  readonly start: PyObj;
  readonly stop: PyObj;
  constructor(start: PyObj, stop: PyObj, sp: ObjectSpace) {
    super('object');
    this.start = start;
    this.stop = stop;
    this.onRelease = () => {
      sp.decref(start);
      sp.decref(stop);
    };
  }
}

const BUILTIN_TYPES = new Set(['list', 'tuple', 'dict', 'set', 'frozenset', 'bytes', 'bytearray', 'str', 'int', 'float', 'complex', 'object', 'range', 'slice', 'type', 'reversed']);

class BreakSignal {}
class ContinueSignal {}
class ReturnSignal {
  constructor(readonly value: PyObj) {}
}

export interface InterpreterOptions {
  /** Maximum statements + expression evaluations per run before stopping the program. */
  operationBudget?: number;
  /** Receives what `print` writes. */
  print?: (text: string) => void;
  /** See `Interpreter.onTick`. */
  onTick?: (opsDone: number) => void;
  /** See `Interpreter.tickEvery` (default 65536). */
  tickEvery?: number;
}

export class Interpreter {
  readonly space: ObjectSpace;
  readonly globals = new Map<string, PyObj>();
  private readonly builtins = new Map<string, PyObj>();
  private readonly print: (text: string) => void;
  private budget: number;
  /** Operations (statements + expression evaluations) a run may make; settable between runs. */
  operationBudget: number;
  /**
   * Progress and cancellation of long runs: called every `tickEvery` operations with the
   * operations done so far in this run. It may throw to stop the program: the exception
   * leaves the interpreter as any error does (temporaries released, names kept), so every
   * allocator call made until then has been made (and logged) in full.
   */
  onTick: ((opsDone: number) => void) | null;
  /** Operations between two `onTick` calls (read at the start of each run). */
  tickEvery: number;
  private untilTick: number;

  constructor(space: ObjectSpace, options: InterpreterOptions = {}) {
    this.space = space;
    this.operationBudget = options.operationBudget ?? 10_000_000;
    this.budget = this.operationBudget;
    this.print = options.print ?? (() => {});
    this.onTick = options.onTick ?? null;
    this.tickEvery = Math.max(1, Math.floor(options.tickEvery ?? 65536));
    this.untilTick = this.tickEvery;
    this.installBuiltins();
  }

  /** Operations made so far by the current (or last) run. */
  get operationsDone(): number {
    return this.operationBudget - this.budget;
  }

  private startRun(): void {
    this.budget = this.operationBudget;
    this.untilTick = this.tickEvery;
  }

  // =========================================================================================
  // Statements
  // =========================================================================================

  /**
   * Runs a module (a script, or one console entry). Its constants are created first, as the
   * compiler does, and released when the module's code object dies after the run; function
   * bodies keep theirs.
   */
  run(mod: Module): void {
    this.startRun();
    const held = this.loadConstants(mod);
    try {
      this.execBlock(mod.body, this.globals);
    } finally {
      this.releaseConstants(held);
    }
  }

  /** Evaluates `expr` of module `mod` (one console expression) with its constants loaded. */
  evaluate(mod: Module, expr: Expr): PyObj {
    this.startRun();
    const held = this.loadConstants(mod);
    try {
      return this.eval(expr, this.globals);
    } finally {
      this.releaseConstants(held);
    }
  }

  /** Objects of compile-time constants, by AST node. */
  private readonly constOf = new Map<Expr, PyObj>();

  /** The module code object dies: its constants lose their reference, its nodes are forgotten. */
  private releaseConstants(held: { objs: PyObj[]; nodes: Expr[] }): void {
    for (const n of held.nodes) this.constOf.delete(n);
    for (const o of held.objs) this.space.decref(o);
  }

  /** Creates the constants of `mod` (shared per compilation, or per code object on 3.7). */
  private loadConstants(mod: Module): { objs: PyObj[]; nodes: Expr[] } {
    const sp = this.space;
    const units = collectConstants(mod, sp.rules.constListExtend);
    const held: { objs: PyObj[]; nodes: Expr[] } = { objs: [], nodes: [] };
    let cache = new Map<string, PyObj>();
    units.forEach((u, i) => {
      if (sp.rules.minor === 7) cache = new Map();
      // Each code object holds one reference to each of its constants.
      const mine = new Set<PyObj>();
      for (const { expr, value } of u.nodes) {
        sp.currentLine = expr.pos.line;
        const key = constKey(value);
        let o = cache.get(key);
        if (o === undefined) {
          o = this.makeConst(value);
          cache.set(key, o);
          mine.add(o);
          if (i === 0) held.objs.push(o);
        } else if (!mine.has(o)) {
          mine.add(o);
          sp.incref(o);
          if (i === 0) held.objs.push(o);
        }
        this.constOf.set(expr, o);
        if (i === 0) held.nodes.push(expr);
      }
    });
    return held;
  }

  private makeConst(c: ConstValue): PyObj {
    const o = this.makeConstObj(c);
    if (!o.isStatic) o.compileTime = true;
    return o;
  }

  private makeConstObj(c: ConstValue): PyObj {
    const sp = this.space;
    switch (c.t) {
      case 'int':
        return sp.int(c.v, true);
      case 'float':
        return sp.float(c.v);
      case 'complex':
        return sp.complex(c.re, c.im);
      case 'str':
        return sp.str(c.v);
      case 'bytes':
        return sp.bytes(c.v);
      case 'tuple':
        return sp.tuple(c.items.map((x) => this.makeConst(x)));
      case 'frozenset':
        return sp.setFromItems('frozenset', c.items.map((x) => this.makeConst(x)));
      case 'singleton':
        return sp.incref(c.v === 'None' ? sp.None : c.v === 'True' ? sp.True : c.v === 'False' ? sp.False : sp.Ellipsis);
    }
  }

  private tick(pos: Pos): void {
    if (--this.budget < 0) {
      throw new PyException('RuntimeError', `operation budget of ${this.operationBudget} operations exhausted (a runaway loop?)`, pos);
    }
    if (--this.untilTick === 0) {
      this.untilTick = this.tickEvery;
      if (this.onTick !== null) this.onTick(this.operationBudget - this.budget);
    }
  }

  private execBlock(body: Stmt[], scope: Map<string, PyObj>): void {
    for (const s of body) this.exec(s, scope);
  }

  private exec(s: Stmt, scope: Map<string, PyObj>): void {
    this.tick(s.pos);
    this.space.currentLine = s.pos.line;
    try {
      this.execInner(s, scope);
    } catch (e) {
      if (e instanceof SimMemoryError) throw new PyException('MemoryError', e.message, s.pos);
      if (e instanceof SimInterrupt) throw new PyException('KeyboardInterrupt', '', s.pos);
      if (e instanceof PyException && e.pos === null) throw new PyException(e.pyType, e.message.slice(e.pyType.length + 2), s.pos);
      throw e;
    }
  }

  private execInner(s: Stmt, scope: Map<string, PyObj>): void {
    const sp = this.space;
    switch (s.k) {
      case 'expr':
        sp.decref(this.eval(s.value, scope));
        return;
      case 'assign': {
        const v = this.eval(s.value, scope);
        for (const t of s.targets) this.assign(t, sp.incref(v), scope);
        sp.decref(v);
        return;
      }
      case 'annassign':
        if (s.value !== null) this.assign(s.target, this.eval(s.value, scope), scope);
        return;
      case 'augassign': {
        const cur = this.eval(s.target, scope);
        const rhs = this.eval(s.value, scope);
        const res = this.binop(s.op, cur, rhs, s.pos, true);
        sp.decref(cur);
        sp.decref(rhs);
        this.assign(s.target, res, scope);
        return;
      }
      case 'del':
        for (const t of s.targets) this.del(t, scope);
        return;
      case 'pass':
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
      case 'if':
        this.execBlock(this.truthyRelease(this.eval(s.test, scope)) ? s.body : s.orelse, scope);
        return;
      case 'while': {
        let broke = false;
        while (!broke && this.truthyRelease(this.eval(s.test, scope))) broke = this.loopBody(s.body, scope);
        if (!broke) this.execBlock(s.orelse, scope);
        return;
      }
      case 'for': {
        const it = this.eval(s.iter, scope);
        let broke = false;
        try {
          for (const x of this.iterate(it, s.pos)) {
            this.assign(s.target, x, scope);
            if (this.loopBody(s.body, scope)) {
              broke = true;
              break;
            }
          }
        } finally {
          sp.decref(it);
        }
        if (!broke) this.execBlock(s.orelse, scope);
        return;
      }
      case 'def':
        this.bindName(s.name, this.makeFunction(s.name, s.params, s.body, scope), scope);
        return;
      case 'return':
        throw new ReturnSignal(s.value === null ? sp.incref(sp.None) : this.eval(s.value, scope));
      case 'import':
        for (const n of s.names) this.bindName(n.asname ?? n.name, this.module(n.name, s.pos), scope);
        return;
      case 'from': {
        const m = this.module(s.module, s.pos) as RuntimeObj;
        for (const n of s.names) {
          const v = m.attrs.get(n.name);
          if (v === undefined) throw new PyException('ImportError', `cannot import name '${n.name}' from '${s.module}'`, s.pos);
          this.bindName(n.asname ?? n.name, v, scope);
        }
        return;
      }
      case 'global':
      case 'nonlocal':
        return;
      case 'assert':
        if (!this.truthyRelease(this.eval(s.test, scope))) throw new PyException('AssertionError', s.msg === null ? '' : this.display(this.eval(s.msg, scope)), s.pos);
        return;
      case 'raise':
        throw new PyException('Exception', s.exc === null ? 'raised' : this.display(this.eval(s.exc, scope)), s.pos);
      case 'class':
        this.bindName(s.name, this.makeClass(s, scope), scope);
        return;
    }
  }

  /** One pass of a loop body; true when it ended with `break`. */
  private loopBody(body: Stmt[], scope: Map<string, PyObj>): boolean {
    try {
      this.execBlock(body, scope);
    } catch (e) {
      if (e instanceof BreakSignal) return true;
      if (!(e instanceof ContinueSignal)) throw e;
    }
    return false;
  }

  private module(name: string, pos: Pos): PyObj {
    const m = this.builtins.get(`module:${name}`);
    if (m === undefined) throw new PyException('ModuleNotFoundError', `no module named '${name}' in the simulation (available: sys, gc)`, pos);
    return m;
  }

  private bindName(name: string, v: PyObj, scope: Map<string, PyObj>): void {
    const old = scope.get(name);
    scope.set(name, v);
    if (old !== undefined) this.space.decref(old);
  }

  /** Stores `v` (a new reference) into a target. */
  private assign(t: Expr, v: PyObj, scope: Map<string, PyObj>): void {
    const sp = this.space;
    switch (t.k) {
      case 'name':
        this.bindName(t.id, v, scope);
        return;
      case 'tuple':
      case 'list': {
        // UNPACK_SEQUENCE: lists and tuples without an iterator object.
        const items = v instanceof ListObj || v instanceof TupleObj ? this.seqItems(v) : [...this.iterate(v, t.pos)];
        const star = t.elts.findIndex((e) => e.k === 'starred');
        if (star < 0 && items.length !== t.elts.length) {
          for (const x of items) sp.decref(x);
          sp.decref(v);
          throw new PyException('ValueError', `${items.length < t.elts.length ? 'not enough' : 'too many'} values to unpack (expected ${t.elts.length}, got ${items.length})`, t.pos);
        }
        sp.decref(v);
        if (star < 0) {
          t.elts.forEach((e, i) => this.assign(e, items[i]!, scope));
          return;
        }
        const after = t.elts.length - star - 1;
        t.elts.slice(0, star).forEach((e, i) => this.assign(e, items[i]!, scope));
        const mid = items.slice(star, items.length - after);
        const rest = sp.list();
        for (const x of mid) sp.listAppend(rest, x);
        this.assign((t.elts[star] as { value: Expr }).value, rest, scope);
        t.elts.slice(star + 1).forEach((e, i) => this.assign(e, items[items.length - after + i]!, scope));
        return;
      }
      case 'subscript': {
        const obj = this.eval(t.obj, scope);
        const key = this.sliceKey(t.index, scope);
        if ((obj instanceof ListObj || obj instanceof ByteArrayObj) && (key instanceof SliceObj || key instanceof SliceBounds)) {
          // STORE_SUBSCR releases the value, the container, then the subscript; 3.12+
          // STORE_SLICE its slice first.
          try {
            if (obj instanceof ListObj) this.listAssignSubscript(obj, key, v, t.pos);
            else this.bytearrayAssignSubscript(obj, key, v, t.pos);
          } finally {
            if (key instanceof SliceBounds) sp.decref(key);
            sp.decref(v);
            sp.decref(obj);
            if (key instanceof SliceObj) sp.decref(key);
          }
          return;
        }
        this.setItem(obj, key, v, t.pos);
        sp.decref(obj);
        return;
      }
      case 'attr': {
        const obj = this.eval(t.obj, scope);
        try {
          if (obj instanceof InstanceObj) {
            if (!sp.setInstanceAttr(obj, t.name, v)) {
              sp.decref(v);
              throw new PyException('AttributeError', `'${obj.cls.name}' object has no attribute '${t.name}'`, t.pos);
            }
            return;
          }
          if (obj instanceof TypeObj) {
            const old = obj.attrs.get(t.name);
            obj.attrs.set(t.name, v);
            if (old !== undefined) sp.decref(old);
            return;
          }
          sp.decref(v);
          throw new PyException('AttributeError', `'${typeName(obj)}' object attribute '${t.name}' is read-only`, t.pos);
        } finally {
          sp.decref(obj);
        }
      }
      default:
        sp.decref(v);
        throw new PyException('SyntaxError', 'cannot assign to this expression', t.pos);
    }
  }

  private del(t: Expr, scope: Map<string, PyObj>): void {
    const sp = this.space;
    if (t.k === 'name') {
      const old = scope.get(t.id);
      if (old === undefined) throw new PyException('NameError', `name '${t.id}' is not defined`, t.pos);
      scope.delete(t.id);
      sp.decref(old);
    } else if (t.k === 'tuple' || t.k === 'list') {
      for (const e of t.elts) this.del(e, scope);
    } else if (t.k === 'subscript') {
      // DELETE_SUBSCR: PyObject_DelItem, then the container and the subscript are released.
      const obj = this.eval(t.obj, scope);
      const key = this.eval(t.index, scope);
      try {
        this.delItem(obj, key, t.pos);
      } finally {
        sp.decref(obj);
        sp.decref(key);
      }
    } else {
      throw new PyException('SyntaxError', 'cannot delete this expression', t.pos);
    }
  }

  // =========================================================================================
  // Expressions: each returns a new reference
  // =========================================================================================

  eval(e: Expr, scope: Map<string, PyObj>): PyObj {
    this.tick(e.pos);
    const sp = this.space;
    const c = this.constOf.get(e);
    if (c !== undefined && e.k !== 'list' && e.k !== 'set') return sp.incref(c);
    switch (e.k) {
      case 'int':
        return sp.int(e.value);
      case 'float':
        return sp.float(e.value);
      case 'imag':
        return sp.complex(0, e.value);
      case 'str':
        return sp.str(e.value);
      case 'bytes':
        return sp.bytes(e.value);
      case 'const':
        return sp.incref(e.value === 'None' ? sp.None : e.value === 'True' ? sp.True : e.value === 'False' ? sp.False : sp.Ellipsis);
      case 'name': {
        const v = scope.get(e.id) ?? (scope !== this.globals ? this.globals.get(e.id) : undefined) ?? this.builtins.get(e.id);
        if (v === undefined) throw new PyException('NameError', `name '${e.id}' is not defined`, e.pos);
        return sp.incref(v);
      }
      case 'tuple':
        return sp.tuple(this.evalItems(e.elts, scope));
      case 'list':
        return c instanceof TupleObj ? this.listFromConstTuple(c) : this.listDisplay(e.elts, scope);
      case 'set': {
        const s = sp.set();
        if (c instanceof SetObj) sp.setMerge(s, c.items.map((x) => sp.incref(x)));
        else for (const x of this.evalItems(e.elts, scope)) sp.setAdd(s, x);
        return s;
      }
      case 'dict': {
        const d = sp.dict();
        e.keys.forEach((k, i) => {
          if (k === null) throw new PyException('NotImplementedError', '** in dict displays is not simulated yet', e.pos);
          const key = this.eval(k, scope);
          sp.dictSet(d, key, this.eval(e.values[i]!, scope));
        });
        return d;
      }
      case 'listcomp':
      case 'genexp':
        // A generator expression is evaluated eagerly into a list standing in for its values.
        return this.comprehension(e.generators, scope, () => sp.list(), (sc, l) => sp.listAppend(l, this.eval(e.elt, sc)), e.pos);
      case 'setcomp':
        return this.comprehension(e.generators, scope, () => sp.set(), (sc, st) => sp.setAdd(st, this.eval(e.elt, sc)), e.pos);
      case 'dictcomp':
        return this.comprehension(
          e.generators,
          scope,
          () => sp.dict(),
          (sc, d) => {
            const k = this.eval(e.key, sc);
            sp.dictSet(d, k, this.eval(e.value, sc));
          },
          e.pos,
        );
      case 'binop': {
        const l = this.eval(e.left, scope);
        const r = this.eval(e.right, scope);
        try {
          return this.binop(e.op, l, r, e.pos, false);
        } finally {
          sp.decref(l);
          sp.decref(r);
        }
      }
      case 'unary': {
        const v = this.eval(e.operand, scope);
        try {
          return this.unary(e.op, v, e.pos);
        } finally {
          sp.decref(v);
        }
      }
      case 'boolop': {
        let v = this.eval(e.values[0]!, scope);
        for (let i = 1; i < e.values.length; i++) {
          const t = this.truthy(v);
          if ((e.op === 'and' && !t) || (e.op === 'or' && t)) return v;
          sp.decref(v);
          v = this.eval(e.values[i]!, scope);
        }
        return v;
      }
      case 'compare': {
        let left = this.eval(e.left, scope);
        for (let i = 0; i < e.ops.length; i++) {
          const right = this.eval(e.comparators[i]!, scope);
          const ok = this.compare(e.ops[i]!, left, right, e.pos);
          sp.decref(left);
          left = right;
          if (!ok) {
            sp.decref(left);
            return sp.bool(false);
          }
        }
        sp.decref(left);
        return sp.bool(true);
      }
      case 'ifexp':
        return this.truthyRelease(this.eval(e.test, scope)) ? this.eval(e.body, scope) : this.eval(e.orelse, scope);
      case 'subscript': {
        const obj = this.eval(e.obj, scope);
        const key = this.sliceKey(e.index, scope);
        try {
          return this.getItem(obj, key, e.pos);
        } finally {
          sp.decref(obj);
          sp.decref(key);
        }
      }
      case 'slice': {
        const part = (x: Expr | null): PyObj => (x === null ? sp.incref(sp.None) : this.eval(x, scope));
        const a = part(e.lower);
        const b = part(e.upper);
        return sp.slice(a, b, part(e.step));
      }
      case 'attr': {
        const obj = this.eval(e.obj, scope);
        const v = this.getAttr(obj, e.name, e.pos);
        sp.decref(obj);
        // A bound method loaded as a value (not called at once) is a real method object.
        if (v instanceof RuntimeObj && v.label.startsWith('method ') && v.opaqueSize === 0) {
          return sp.methodObject(v, !v.label.startsWith('method py:'));
        }
        return v;
      }
      case 'call':
        return this.evalCall(e, scope);
      case 'lambda':
        return this.makeFunction('<lambda>', e.params, [{ k: 'return', value: e.body, pos: e.pos }], scope);
      case 'starred':
      case 'doublestarred':
        throw new PyException('SyntaxError', 'starred expression in this position is not simulated', e.pos);
    }
  }

  private evalItems(elts: Expr[], scope: Map<string, PyObj>): PyObj[] {
    const out: PyObj[] = [];
    for (const x of elts) {
      if (x.k === 'starred') {
        const it = this.eval(x.value, scope);
        if (it instanceof ListObj || it instanceof TupleObj) out.push(...this.seqItems(it));
        else for (const y of this.iterate(it, x.pos)) out.push(y);
        this.space.decref(it);
      } else {
        out.push(this.eval(x, scope));
      }
    }
    return out;
  }

  /** 3.9+: BUILD_LIST 0 + LIST_EXTEND of a constant tuple (3.10+: exact preallocation). */
  private listFromConstTuple(t: TupleObj): ListObj {
    const l = this.space.list();
    this.listExtend(l, t.items.map((x) => this.space.incref(x)));
    return l;
  }

  /** BUILD_LIST n: an exact item array (or appends, with starred items). */
  private listDisplay(elts: Expr[], scope: Map<string, PyObj>): ListObj {
    const sp = this.space;
    if (elts.some((x) => x.k === 'starred')) {
      const l = sp.list();
      for (const x of this.evalItems(elts, scope)) sp.listAppend(l, x);
      return l;
    }
    return sp.listExact(this.evalItems(elts, scope));
  }

  /**
   * A comprehension. The outermost iterable is evaluated and its iterator made first (GET_ITER),
   * then the result container, then the loops run in a scope of their own. Up to 3.11 the
   * comprehension is a nested function: a function object is made before and freed after
   * (PEP 709 inlined comprehensions in 3.12).
   */
  private comprehension<T extends PyObj>(
    gens: { target: Expr; iter: Expr; ifs: Expr[] }[],
    scope: Map<string, PyObj>,
    make: () => T,
    body: (scope: Map<string, PyObj>, container: T) => void,
    pos: Pos,
  ): T {
    const sp = this.space;
    const fn = sp.rules.minor <= 11 ? sp.functionObject(new RuntimeObj('function <comprehension>')) : null;
    try {
      const first = gens[0]!;
      const src = this.eval(first.iter, scope);
      const it = this.getIter(src, first.iter.pos);
      sp.decref(src);
      const c = make();
      // The comprehension's own scope: the enclosing names (referenced), then its targets.
      const sc = new Map(scope);
      for (const v of sc.values()) sp.incref(v);
      try {
        for (const x of this.advance(it, pos)) {
          this.assign(first.target, x, sc);
          if (first.ifs.every((cond) => this.truthyRelease(this.eval(cond, sc)))) this.comprehend(gens, 1, sc, (s2) => body(s2, c));
        }
      } finally {
        sp.decref(it);
        for (const v of sc.values()) sp.decref(v);
      }
      return c;
    } finally {
      if (fn !== null) sp.decref(fn);
    }
  }

  /** Runs `body` for every combination of the inner loops (from generator `i`). */
  private comprehend(gens: { target: Expr; iter: Expr; ifs: Expr[] }[], i: number, scope: Map<string, PyObj>, body: (scope: Map<string, PyObj>) => void): void {
    if (i === gens.length) {
      body(scope);
      return;
    }
    const g = gens[i]!;
    const it = this.eval(g.iter, scope);
    for (const x of this.iterate(it, g.iter.pos)) {
      this.assign(g.target, x, scope);
      if (g.ifs.every((c) => this.truthyRelease(this.eval(c, scope)))) this.comprehend(gens, i + 1, scope, body);
    }
    this.space.decref(it);
  }

  private evalCall(e: Extract<Expr, { k: 'call' }>, scope: Map<string, PyObj>): PyObj {
    const sp = this.space;
    // LOAD_METHOD / CALL_METHOD: a method called at once needs no method object.
    let f: PyObj;
    if (e.func.k === 'attr') {
      const obj = this.eval(e.func.obj, scope);
      f = this.getAttr(obj, e.func.name, e.func.pos);
      sp.decref(obj);
    } else {
      f = this.eval(e.func, scope);
    }
    const args = this.evalItems(e.args, scope);
    const kwargs = new Map<string, PyObj>();
    for (const k of e.kwargs) kwargs.set(k.name, this.eval(k.value, scope));
    try {
      if (f instanceof RuntimeObj && f.call !== undefined) return f.call(args, kwargs, e.pos);
      if (f instanceof TypeObj && f.call !== null) return f.call(args, kwargs, e.pos);
      throw new PyException('TypeError', `'${typeName(f)}' object is not callable`, e.pos);
    } finally {
      sp.decref(f);
      for (const a of args) sp.decref(a);
      for (const v of kwargs.values()) sp.decref(v);
    }
  }

  /** A function found on the class, bound to `self`; other class attributes as they are. */
  private bindMethod(c: PyObj, self: PyObj): PyObj {
    const sp = this.space;
    if (!(c instanceof RuntimeObj) || c.call === undefined || !c.label.startsWith('function ')) return sp.incref(c);
    sp.incref(self);
    const m = new RuntimeObj(`method py:${c.label.slice(9)}`, (args, kw, pos) => c.call!([self, ...args], kw, pos));
    m.isStatic = false;
    m.onRelease = () => sp.decref(self);
    return m;
  }

  /**
   * A class statement: the body runs in its own namespace; `__slots__` (a tuple or list of
   * names) decides the instance layout; functions become methods.
   */
  private makeClass(s: Extract<Stmt, { k: 'class' }>, scope: Map<string, PyObj>): TypeObj {
    const sp = this.space;
    if (s.bases.length > 1) throw new PyException('NotImplementedError', 'multiple inheritance is not simulated yet', s.pos);
    let base: TypeObj | null = null;
    if (s.bases.length === 1) {
      const b = this.eval(s.bases[0]!, scope);
      sp.decref(b);
      if (b instanceof RuntimeObj && b.label === 'builtin object') base = null;
      else if (b instanceof TypeObj) base = b;
      else throw new PyException('NotImplementedError', `subclassing '${typeName(b)}' is not simulated (only classes made by class statements)`, s.pos);
    }
    const ns = new Map<string, PyObj>();
    for (const x of s.body) this.exec(x, ns);
    let declaredSlots: string[] | null = null;
    const declared = ns.get('__slots__');
    if (declared !== undefined) {
      const names = declared instanceof StrObj ? [declared] : declared instanceof TupleObj || declared instanceof ListObj ? declared.items : null;
      if (names === null || !names.every((n) => n instanceof StrObj)) throw new PyException('TypeError', '__slots__ must be a str or a tuple/list of str', s.pos);
      declaredSlots = names.map((n) => (n as StrObj).value);
    }
    // type_new: without __slots__ a class adds __dict__ and __weakref__ unless its base has
    // them; with __slots__ only what it names. Member slots follow the base's.
    const baseDict = base?.hasDict ?? false;
    const baseWeak = base?.hasWeakref ?? false;
    const hasDict = baseDict || declaredSlots === null || declaredSlots.includes('__dict__');
    const hasWeakref = baseWeak || declaredSlots === null || declaredSlots.includes('__weakref__');
    const own = declaredSlots === null ? [] : declaredSlots.filter((n) => n !== '__dict__' && n !== '__weakref__');
    const inherited = base?.slots ?? null;
    const memberSlots = inherited === null && declaredSlots === null ? null : [...(inherited ?? []), ...own];
    const cls = sp.newClass(s.name, memberSlots, hasDict, hasWeakref, base, own.length);
    for (const [k, v] of ns) if (k !== '__slots__') cls.attrs.set(k, v);
    if (declared !== undefined) sp.decref(declared);
    const init = cls.lookup('__init__');
    cls.call = (args, kw, pos) => {
      const o = sp.instantiate(cls);
      if (init instanceof RuntimeObj && init.call !== undefined) {
        sp.decref(init.call([o, ...args], kw, pos));
      } else if (args.length > 0 || kw.size > 0) {
        sp.decref(o);
        throw new PyException('TypeError', `${cls.name}() takes no arguments`, pos);
      }
      return o;
    };
    return cls;
  }

  private makeFunction(name: string, params: { name: string; default: Expr | null; kind: string }[], body: Stmt[], defScope: Map<string, PyObj>): RuntimeObj {
    const defaults = params.map((p) => (p.default === null ? null : this.eval(p.default, defScope)));
    const f = new RuntimeObj(`function ${name}`, (args, kwargs, pos) => {
      const local = new Map<string, PyObj>();
      params.forEach((p, i) => {
        let v: PyObj | undefined;
        if (p.kind === 'varargs') {
          v = this.space.tuple(args.slice(i).map((a) => this.space.incref(a)));
        } else if (p.kind === 'kwargs') {
          v = this.space.dict();
        } else {
          v = i < args.length ? this.space.incref(args[i]!) : kwargs.has(p.name) ? this.space.incref(kwargs.get(p.name)!) : defaults[i] !== null ? this.space.incref(defaults[i]!) : undefined;
        }
        if (v === undefined) throw new PyException('TypeError', `${name}() missing required argument: '${p.name}'`, pos);
        local.set(p.name, v);
      });
      try {
        this.execBlock(body, local);
        return this.space.incref(this.space.None);
      } catch (x) {
        if (x instanceof ReturnSignal) return x.value;
        throw x;
      } finally {
        for (const v of local.values()) this.space.decref(v);
      }
    });
    // The function object holds its defaults (func_defaults) until it dies.
    f.onRelease = () => {
      for (const d of defaults) if (d !== null) this.space.decref(d);
    };
    return this.space.functionObject(f);
  }

  // =========================================================================================
  // Operations
  // =========================================================================================

  private binop(op: string, l: PyObj, r: PyObj, pos: Pos, inplace: boolean): PyObj {
    const sp = this.space;
    if (l instanceof IntObj && r instanceof IntObj) return this.intOp(op, l.value, r.value, pos);
    if ((l instanceof IntObj || l instanceof FloatObj) && (r instanceof IntObj || r instanceof FloatObj)) {
      return this.floatOp(op, toNumber(l), toNumber(r), pos);
    }
    if ((l instanceof ComplexObj || r instanceof ComplexObj) && isNumeric(l) && isNumeric(r)) {
      const [a, b] = toComplex(l);
      const [c, d] = toComplex(r);
      if (op === '+') return sp.complex(a + c, b + d);
      if (op === '-') return sp.complex(a - c, b - d);
      if (op === '*') return sp.complex(a * c - b * d, a * d + b * c);
    }
    if (op === '+') {
      if (l instanceof StrObj && r instanceof StrObj) return sp.str(l.value + r.value);
      if (l instanceof BytesObj && r instanceof BytesObj) return sp.bytes(concat(l.value, r.value));
      if (l instanceof TupleObj && r instanceof TupleObj) return sp.tuple([...l.items, ...r.items].map((x) => sp.incref(x)));
      if (l instanceof ListObj && r instanceof ListObj) {
        if (inplace) {
          this.listExtend(l, r.items.map((x) => sp.incref(x)));
          return sp.incref(l);
        }
        return sp.listExact([...l.items, ...r.items].map((x) => sp.incref(x)));
      }
    }
    if (op === '*') {
      const [seq, cnt] = r instanceof IntObj ? [l, r] : l instanceof IntObj ? [r, l] : [null, null];
      if (seq !== null && cnt !== null) {
        const n = cnt.value < 0n ? 0 : Number(cnt.value);
        if (n * lengthOf(seq) > 1e8) throw new PyException('MemoryError', 'repetition too large for the simulation', pos);
        if (seq instanceof StrObj) return sp.str(seq.value.repeat(n));
        if (seq instanceof BytesObj) return sp.bytes(repeatBytes(seq.value, n));
        if (seq instanceof TupleObj) return sp.tuple(repeatItems(seq.items, n).map((x) => sp.incref(x)));
        if (seq instanceof ListObj) {
          if (inplace) {
            const items = repeatItems(seq.items, n).map((x) => sp.incref(x));
            for (const x of seq.items) sp.decref(x);
            seq.items = [];
            this.listExtend(seq, items);
            return sp.incref(seq);
          }
          return sp.listExact(repeatItems(seq.items, n).map((x) => sp.incref(x)));
        }
      }
    }
    throw new PyException('TypeError', `unsupported operand type(s) for ${op}: '${typeName(l)}' and '${typeName(r)}'`, pos);
  }

  private intOp(op: string, a: bigint, b: bigint, pos: Pos): PyObj {
    const sp = this.space;
    if ((op === '//' || op === '%') && b === 0n) throw new PyException('ZeroDivisionError', 'integer division or modulo by zero', pos);
    if (op === '/') {
      if (b === 0n) throw new PyException('ZeroDivisionError', 'division by zero', pos);
      return sp.float(Number(a) / Number(b));
    }
    if (op === '**') {
      if (b < 0n) return sp.float(Number(a) ** Number(b));
      if (b > 100_000n) throw new PyException('MemoryError', 'exponent too large for the simulation', pos);
    }
    if (op === '<<' && b < 0n) throw new PyException('ValueError', 'negative shift count', pos);
    const r = intBinop(op, a, b);
    if (r === null) throw new PyException('TypeError', `unsupported operand type(s) for ${op}: 'int' and 'int'`, pos);
    return sp.int(r);
  }

  private floatOp(op: string, a: number, b: number, pos: Pos): PyObj {
    const sp = this.space;
    switch (op) {
      case '+':
        return sp.float(a + b);
      case '-':
        return sp.float(a - b);
      case '*':
        return sp.float(a * b);
      case '/':
        if (b === 0) throw new PyException('ZeroDivisionError', 'float division by zero', pos);
        return sp.float(a / b);
      case '**':
        return sp.float(a ** b);
      case '//':
        if (b === 0) throw new PyException('ZeroDivisionError', 'float floor division by zero', pos);
        return sp.float(Math.floor(a / b));
      case '%':
        if (b === 0) throw new PyException('ZeroDivisionError', 'float modulo', pos);
        return sp.float(a - Math.floor(a / b) * b);
    }
    throw new PyException('TypeError', `unsupported operand type(s) for ${op}: 'float' and 'float'`, pos);
  }

  private unary(op: string, v: PyObj, pos: Pos): PyObj {
    const sp = this.space;
    if (op === 'not') return sp.bool(!this.truthy(v));
    if (v instanceof IntObj) {
      if (op === '-') return sp.int(-v.value);
      if (op === '+') return sp.int(v.value);
      return sp.int(-v.value - 1n);
    }
    if (v instanceof FloatObj) {
      if (op === '-') return sp.float(-v.value);
      if (op === '+') return sp.float(v.value);
    }
    if (v instanceof ComplexObj) {
      if (op === '-') return sp.complex(-v.real, -v.imag);
      if (op === '+') return sp.complex(v.real, v.imag);
    }
    throw new PyException('TypeError', `bad operand type for unary ${op}: '${typeName(v)}'`, pos);
  }

  private compare(op: string, a: PyObj, b: PyObj, pos: Pos): boolean {
    switch (op) {
      case 'is':
        return a === b;
      case 'is not':
        return a !== b;
      case '==':
        return pyEqualsKey(a, b) || (isList(a) && isList(b) && a.items.length === b.items.length && a.items.every((x, i) => pyEqualsKey(x, b.items[i]!)));
      case '!=':
        return !this.compare('==', a, b, pos);
      case 'in':
      case 'not in': {
        let found: boolean;
        if (b instanceof StrObj && a instanceof StrObj) found = b.value.includes(a.value);
        else if (b instanceof DictObj) found = this.space.dictIndexOf(b, a) >= 0;
        else if (b instanceof ListObj || b instanceof TupleObj) found = b.items.some((x) => pyEqualsKey(x, a));
        else if (b instanceof SetObj) found = b.items.some((x) => pyEqualsKey(x, a));
        else if (b instanceof RangeObj) found = a instanceof IntObj && rangeContains(b, a.value);
        else {
          found = false;
          for (const x of this.iterate(b, pos)) {
            if (!found && pyEqualsKey(x, a)) found = true;
            this.space.decref(x);
          }
        }
        return op === 'in' ? found : !found;
      }
    }
    if (isNumeric(a) && isNumeric(b) && !(a instanceof ComplexObj) && !(b instanceof ComplexObj)) {
      const x = a instanceof IntObj && b instanceof IntObj ? [a.value, b.value] : [toNumber(a as IntObj), toNumber(b as IntObj)];
      const [p, q] = x as [number | bigint, number | bigint];
      return op === '<' ? p < q : op === '<=' ? p <= q : op === '>' ? p > q : p >= q;
    }
    if (a instanceof StrObj && b instanceof StrObj) {
      return op === '<' ? a.value < b.value : op === '<=' ? a.value <= b.value : op === '>' ? a.value > b.value : a.value >= b.value;
    }
    throw new PyException('TypeError', `'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`, pos);
  }

  truthy(v: PyObj): boolean {
    if (v instanceof IntObj) return v.value !== 0n;
    if (v instanceof FloatObj) return v.value !== 0;
    if (v === this.space.None) return false;
    const n = lengthOf(v);
    return n < 0 ? true : n > 0;
  }

  private truthyRelease(v: PyObj): boolean {
    const t = this.truthy(v);
    this.space.decref(v);
    return t;
  }

  /**
   * Yields new references to the items of `v` (which stays owned by the caller), through an
   * iterator object as GET_ITER / PyObject_GetIter make one; an iterator iterates itself.
   */
  *iterate(v: PyObj, pos: Pos): Generator<PyObj> {
    if (v instanceof IterObj) {
      yield* this.advance(v, pos);
      return;
    }
    const it = this.getIter(v, pos);
    try {
      yield* this.advance(it, pos);
    } finally {
      this.space.decref(it);
    }
  }

  /** iter(v): a new iterator object over `v` (a new reference). */
  getIter(v: PyObj, pos: Pos): IterObj {
    if (v instanceof IterObj) return this.space.incref(v);
    return this.space.iterator(this.iteratorKind(v, pos), v);
  }

  private iteratorKind(v: PyObj, pos: Pos): string {
    if (v instanceof ListObj) return 'list_iterator';
    if (v instanceof TupleObj) return 'tuple_iterator';
    if (v instanceof RangeObj) {
      const big = (x: bigint): boolean => x >= 2n ** 63n || x < -(2n ** 63n);
      return big(v.start) || big(v.stop) || big(v.step) ? 'longrange_iterator' : 'range_iterator';
    }
    if (v instanceof StrObj) return v.ascii && this.space.rules.minor >= 11 ? 'str_ascii_iterator' : 'str_iterator';
    if (v instanceof BytesObj) return 'bytes_iterator';
    if (v instanceof ByteArrayObj) return 'bytearray_iterator';
    if (v instanceof DictObj) return 'dict_keyiterator';
    if (v instanceof SetObj) return 'set_iterator';
    throw new PyException('TypeError', `'${typeName(v)}' object is not iterable`, pos);
  }

  /** next() on an iterator object until it is exhausted. */
  private *advance(it: IterObj, pos: Pos): Generator<PyObj> {
    if (it.next === null) it.next = this.rawItems(it.seq, pos);
    for (;;) {
      const r = it.next.next();
      if (r.done === true) return;
      yield r.value;
    }
  }

  /** The items of a sequence without an iterator object (PySequence_Fast on a list or tuple). */
  private seqItems(v: ListObj | TupleObj): PyObj[] {
    return v.items.map((x) => this.space.incref(x));
  }

  private *rawItems(v: PyObj, pos: Pos): Generator<PyObj> {
    const sp = this.space;
    if (v instanceof ListObj || v instanceof TupleObj) {
      for (let i = 0; i < v.items.length; i++) yield sp.incref(v.items[i]!);
    } else if (v instanceof RangeObj) {
      for (let i = v.start; v.step > 0n ? i < v.stop : i > v.stop; i += v.step) {
        this.tick(pos);
        yield sp.int(i);
      }
    } else if (v instanceof StrObj) {
      for (const ch of v.value) yield sp.str(ch);
    } else if (v instanceof BytesObj || v instanceof ByteArrayObj) {
      for (const b of v.value) yield sp.int(BigInt(b));
    } else if (v instanceof DictObj) {
      for (const k of [...v.keys]) yield sp.incref(k);
    } else if (v instanceof SetObj) {
      for (const k of [...v.items]) yield sp.incref(k);
    } else {
      throw new PyException('TypeError', `'${typeName(v)}' object is not iterable`, pos);
    }
  }

  /**
   * The subscript of `x[i]`. 3.12+ compiles `x[a:b]` (no step) to BINARY_SLICE/STORE_SLICE,
   * which make no slice object; earlier versions always build one (BUILD_SLICE).
   */
  private sliceKey(index: Expr, scope: Map<string, PyObj>): PyObj {
    const sp = this.space;
    if (index.k === 'slice' && index.step === null && sp.rules.minor >= 12) {
      const part = (x: Expr | null): PyObj => (x === null ? sp.incref(sp.None) : this.eval(x, scope));
      const a = part(index.lower);
      const b = part(index.upper);
      return new SliceBounds(a, b, sp);
    }
    return this.eval(index, scope);
  }

  /** start, stop, step of a slice over a sequence of length n (PySlice_AdjustIndices). */
  private sliceIndices(key: SliceObj | SliceBounds, n: number, pos: Pos): [number, number, number] {
    const num = (x: PyObj, dflt: number): number => {
      if (x === this.space.None) return dflt;
      if (!(x instanceof IntObj)) throw new PyException('TypeError', 'slice indices must be integers or None', pos);
      return Number(x.value);
    };
    const step = key instanceof SliceObj ? num(key.step, 1) : 1;
    if (step === 0) throw new PyException('ValueError', 'slice step cannot be zero', pos);
    const clamp = (v: number, lo: number, hi: number): number => (v < 0 ? Math.max(v + n, lo) : Math.min(v, hi));
    const start = key.start === this.space.None ? (step > 0 ? 0 : n - 1) : clamp(num(key.start, 0), step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    const stop = key.stop === this.space.None ? (step > 0 ? n : -1) : clamp(num(key.stop, 0), step > 0 ? 0 : -1, step > 0 ? n : n - 1);
    return [start, stop, step];
  }

  private sliceRange(key: SliceObj | SliceBounds, n: number, pos: Pos): number[] {
    const [a, b, c] = this.sliceIndices(key, n, pos);
    const out: number[] = [];
    for (let i = a; c > 0 ? i < b : i > b; i += c) out.push(i);
    return out;
  }

  private getItem(obj: PyObj, key: PyObj, pos: Pos): PyObj {
    const sp = this.space;
    if (key instanceof SliceObj || key instanceof SliceBounds) {
      if (obj instanceof ListObj) return sp.listExact(this.sliceRange(key, obj.items.length, pos).map((i) => sp.incref(obj.items[i]!)));
      if (obj instanceof TupleObj) {
        const idx = this.sliceRange(key, obj.items.length, pos);
        if (idx.length === obj.items.length && idx.every((x, i) => x === i)) return sp.incref(obj);
        return sp.tuple(idx.map((i) => sp.incref(obj.items[i]!)));
      }
      if (obj instanceof StrObj) {
        const chars = [...obj.value];
        return sp.str(this.sliceRange(key, chars.length, pos).map((i) => chars[i]!).join(''));
      }
      if (obj instanceof BytesObj) return sp.bytes(Uint8Array.from(this.sliceRange(key, obj.value.length, pos).map((i) => obj.value[i]!)));
      if (obj instanceof ByteArrayObj) return sp.bytearray(Uint8Array.from(this.sliceRange(key, obj.value.length, pos).map((i) => obj.value[i]!)));
    }
    if ((obj instanceof ListObj || obj instanceof TupleObj) && key instanceof IntObj) {
      const i = normIndex(key.value, obj.items.length, pos);
      return sp.incref(obj.items[i]!);
    }
    if (obj instanceof StrObj && key instanceof IntObj) {
      const chars = [...obj.value];
      return sp.str(chars[normIndex(key.value, chars.length, pos)]!);
    }
    if ((obj instanceof BytesObj || obj instanceof ByteArrayObj) && key instanceof IntObj) {
      return sp.int(BigInt(obj.value[normIndex(key.value, obj.value.length, pos)]!));
    }
    if (obj instanceof DictObj) {
      const i = sp.dictIndexOf(obj, key);
      if (i < 0) throw new PyException('KeyError', this.repr(key), pos);
      return sp.incref(obj.values[i]!);
    }
    throw new PyException('TypeError', `'${typeName(obj)}' object is not subscriptable with '${typeName(key)}'`, pos);
  }

  private setItem(obj: PyObj, key: PyObj, v: PyObj, pos: Pos): void {
    const sp = this.space;
    if (obj instanceof ListObj && key instanceof IntObj) {
      const i = normIndex(key.value, obj.items.length, pos);
      const old = obj.items[i]!;
      obj.items[i] = v;
      sp.decref(key);
      sp.decref(old);
      return;
    }
    if (obj instanceof DictObj) {
      sp.dictSet(obj, key, v);
      return;
    }
    sp.decref(key);
    sp.decref(v);
    throw new PyException('TypeError', `'${typeName(obj)}' object does not support item assignment`, pos);
  }

  /** PyObject_DelItem(obj, key); the caller keeps (and then releases) both references. */
  private delItem(obj: PyObj, key: PyObj, pos: Pos): void {
    const sp = this.space;
    if (obj instanceof ListObj && (key instanceof SliceObj || key instanceof SliceBounds)) {
      this.listAssignSubscript(obj, key, null, pos);
      return;
    }
    if (obj instanceof ByteArrayObj && (key instanceof SliceObj || key instanceof SliceBounds)) {
      this.bytearrayAssignSubscript(obj, key, null, pos);
      return;
    }
    if (obj instanceof ListObj && key instanceof IntObj) {
      const i = normIndex(key.value, obj.items.length, pos);
      if (sp.rules.delItemResizes) this.listDelete(obj, i);
      else {
        // 3.13 list_ass_item: the items move down, the array keeps its size.
        const [old] = obj.items.splice(i, 1);
        sp.decref(old!);
      }
      return;
    }
    if (obj instanceof DictObj) {
      const i = sp.dictIndexOf(obj, key);
      if (i < 0) throw new PyException('KeyError', this.repr(key), pos);
      sp.dictDelete(obj, i);
      return;
    }
    throw new PyException('TypeError', `'${typeName(obj)}' object does not support item deletion`, pos);
  }

  /**
   * list_ass_subscript with a slice (`v` null: deletion). Step 1 is list_ass_slice. An extended
   * slice takes a `garbage` array of PyMem_Malloc(8 * slicelength) for the items it replaces:
   * a deletion moves the kept items down, list_resize()s to the new length, then releases the
   * deleted items (lowest index first) and frees the array; an assignment (of a sequence of
   * exactly slicelength items, through PySequence_Fast: a copy when the list is assigned to
   * itself) stores the new items, releases the old ones in slice order and frees the array.
   * Measured on 3.7-3.13 (test/fixtures/measured/slices.json). Consumes no reference.
   */
  private listAssignSubscript(l: ListObj, key: SliceObj | SliceBounds, v: PyObj | null, pos: Pos): void {
    const sp = this.space;
    const n = l.items.length;
    const [start, stop, step] = this.sliceIndices(key, n, pos);
    if (step === 1) {
      this.listAssignSlice(l, start, stop, v, pos);
      return;
    }
    const len = sliceLength(start, stop, step);
    if (v === null) {
      if (len <= 0) return;
      // Walk the slice upwards whatever the sign of the step.
      const lo = step < 0 ? start + step * (len - 1) : start;
      const st = step < 0 ? -step : step;
      const garbage = sp.allocate('MEM', 8 * len, 'slice garbage');
      const old = l.items;
      const removed = new Array<PyObj>(len);
      const kept = new Array<PyObj>(n - len);
      let k = 0;
      let r = 0;
      for (let i = 0; i < n; i++) {
        if (r < len && i === lo + r * st) removed[r++] = old[i]!;
        else kept[k++] = old[i]!;
      }
      l.items = kept;
      sp.listResize(l, kept.length);
      for (let i = 0; i < len; i++) sp.decref(removed[i]!);
      sp.release('MEM', garbage, 'slice garbage');
      return;
    }
    const seq = v === l ? sp.listExact(l.items.map((x) => sp.incref(x))) : this.sequenceFast(v, 'must assign iterable to extended slice', pos);
    try {
      const items = seq.items;
      if (items.length !== len) {
        throw new PyException('ValueError', `attempt to assign sequence of size ${items.length} to extended slice of size ${len}`, pos);
      }
      if (len === 0) return;
      const garbage = sp.allocate('MEM', 8 * len, 'slice garbage');
      const old = new Array<PyObj>(len);
      for (let i = 0, cur = start; i < len; i++, cur += step) {
        old[i] = l.items[cur]!;
        l.items[cur] = sp.incref(items[i]!);
      }
      for (let i = 0; i < len; i++) sp.decref(old[i]!);
      sp.release('MEM', garbage, 'slice garbage');
    } finally {
      sp.decref(seq);
    }
  }

  /**
   * list_ass_slice(a, lo, hi, v). `a[lo:hi] = a` assigns a copy. The value goes through
   * PySequence_Fast; a result of length 0 is list_clear (the array is freed). More than 8
   * replaced items are saved in a `recycle` array of PyMem_Malloc(8 * n) (8 fit on the C
   * stack); the list is resized by the difference, the new items stored, the old ones released
   * last to first, the array freed, and then the value's sequence released.
   */
  private listAssignSlice(l: ListObj, lo: number, hi: number, v: PyObj | null, pos: Pos): void {
    const sp = this.space;
    if (v === l) {
      const copy = sp.listExact(l.items.map((x) => sp.incref(x)));
      try {
        this.listAssignSlice(l, lo, hi, copy, pos);
      } finally {
        sp.decref(copy);
      }
      return;
    }
    const seq = v === null ? null : this.sequenceFast(v, 'can only assign an iterable', pos);
    const items = seq === null ? [] : seq.items;
    const n = l.items.length;
    if (hi < lo) hi = lo;
    const norig = hi - lo;
    const d = items.length - norig;
    if (n + d === 0) {
      if (seq !== null) sp.decref(seq);
      sp.listClear(l);
      return;
    }
    let recycle = 0;
    try {
      if (norig > 8) recycle = sp.allocate('MEM', 8 * norig, 'slice recycle');
      const removed = l.items.slice(lo, hi);
      if (d !== 0) sp.listResize(l, n + d);
      const added = items.map((x) => sp.incref(x));
      l.items = norig === 0 && lo === n ? l.items.concat(added) : l.items.slice(0, lo).concat(added, l.items.slice(hi));
      for (let k = removed.length - 1; k >= 0; k--) sp.decref(removed[k]!);
    } finally {
      if (recycle !== 0) sp.release('MEM', recycle, 'slice recycle');
      if (seq !== null) sp.decref(seq);
    }
  }

  /**
   * PySequence_Fast(v, message): a list or tuple itself (a new reference), otherwise
   * PySequence_List of its iterator: an empty list extended from the iterator (list_extend:
   * PyObject_LengthHint, which makes a bound `__length_hint__` method object, presizes the
   * list, the items are appended, and a list left with spare room is cut back).
   */
  private sequenceFast(v: PyObj, message: string, pos: Pos): ListObj | TupleObj {
    const sp = this.space;
    if (v instanceof ListObj || v instanceof TupleObj) return sp.incref(v);
    let it: IterObj;
    try {
      it = this.getIter(v, pos);
    } catch (e) {
      if (e instanceof PyException && e.pyType === 'TypeError') throw new PyException('TypeError', message, pos);
      throw e;
    }
    try {
      const l = sp.list();
      const n = it.next === null ? lengthOf(it.seq) : -1;
      const hint = n >= 0 ? n : 8;
      sp.decref(sp.methodObject(new RuntimeObj('method __length_hint__'), true));
      // 3.10+: an empty list is presized exactly (rounded up to even); before, by list_resize.
      if (hint > 0) {
        if (sp.rules.extendEmptyPreallocates) sp.setListAllocation(l, listPreallocation(sp.rules, hint));
        else sp.listResize(l, hint);
      }
      for (const x of this.advance(it, pos)) {
        if (l.items.length < l.allocated) l.items.push(x);
        else sp.listAppend(l, x);
      }
      if (l.items.length < l.allocated) sp.listResize(l, l.items.length);
      return l;
    } finally {
      sp.decref(it);
    }
  }

  /**
   * bytearray_ass_subscript with a slice of step other than 1 (`v` null: deletion). A deletion
   * moves the kept bytes down and PyByteArray_Resize()s to the new length; an assignment takes
   * a bytearray of exactly slicelength bytes: any other value (or the bytearray itself) is
   * first copied into a temporary bytearray (PyByteArray_FromObject: the type called with a
   * 1-tuple of arguments). Slices of step 1 move the buffer start (ob_start), which is not
   * simulated.
   */
  private bytearrayAssignSubscript(b: ByteArrayObj, key: SliceObj | SliceBounds, v: PyObj | null, pos: Pos): void {
    const sp = this.space;
    const n = b.value.length;
    const [start, stop, step] = this.sliceIndices(key, n, pos);
    if (step === 1) throw new PyException('NotImplementedError', 'bytearray slices of step 1 are not simulated yet (they move ob_start)', pos);
    const len = sliceLength(start, stop, step);
    if (v !== null && (v === b || !(v instanceof ByteArrayObj))) {
      if (isNumeric(v) || v instanceof StrObj) throw new PyException('TypeError', 'can assign only bytes, buffers, or iterables of ints in range(0, 256)', pos);
      const args = sp.tuple([sp.incref(v)]);
      let copy: ByteArrayObj;
      try {
        copy = v instanceof BytesObj || v instanceof ByteArrayObj ? sp.bytearray(v.value.slice()) : sp.bytearray(Uint8Array.from([...this.iterate(v, pos)].map((y) => byteValue(y, sp, pos))));
      } finally {
        sp.decref(args);
      }
      try {
        this.bytearrayAssignSubscript(b, key, copy, pos);
      } finally {
        sp.decref(copy);
      }
      return;
    }
    if (v === null) {
      if (len <= 0) return;
      const lo = step < 0 ? start + step * (len - 1) : start;
      const st = step < 0 ? -step : step;
      const kept = new Uint8Array(n - len);
      for (let i = 0, k = 0, r = 0; i < n; i++) {
        if (r < len && i === lo + r * st) r++;
        else kept[k++] = b.value[i]!;
      }
      sp.bytearrayResize(b, kept);
      return;
    }
    const src = (v as ByteArrayObj).value;
    if (src.length !== len) throw new PyException('ValueError', `attempt to assign bytes of size ${src.length} to extended slice of size ${len}`, pos);
    for (let i = 0, cur = start; i < len; i++, cur += step) b.value[cur] = src[i]!;
  }

  private listDelete(l: ListObj, i: number): void {
    const [old] = l.items.splice(i, 1);
    // list_ass_slice shrinks through list_resize.
    this.space.listResize(l, l.items.length);
    this.space.decref(old!);
  }

  /** list.extend with owned items (list_extend of a list or tuple: one resize). */
  listExtend(l: ListObj, items: PyObj[]): void {
    const sp = this.space;
    if (items.length === 0) return;
    if (l.itemsHandle === 0 && sp.rules.extendEmptyPreallocates) sp.setListAllocation(l, listPreallocation(sp.rules, items.length));
    else sp.listResize(l, l.items.length + items.length);
    l.items.push(...items);
  }

  private getAttr(obj: PyObj, name: string, pos: Pos): PyObj {
    const sp = this.space;
    if (obj instanceof InstanceObj) {
      const v = sp.instanceAttr(obj, name);
      if (v !== undefined) return sp.incref(v);
      if (name === '__dict__' && obj.cls.hasDict) {
        if (sp.rules.minor >= 11) return sp.incref(sp.instanceDict(obj));
        if (obj.dict === null) obj.dict = sp.dict();
        return sp.incref(obj.dict);
      }
      const c = obj.cls.lookup(name);
      if (c !== undefined) return this.bindMethod(c, obj);
      throw new PyException('AttributeError', `'${obj.cls.name}' object has no attribute '${name}'`, pos);
    }
    if (obj instanceof TypeObj) {
      const c = obj.lookup(name);
      if (c !== undefined) return sp.incref(c);
      throw new PyException('AttributeError', `type object '${obj.name}' has no attribute '${name}'`, pos);
    }
    if (obj instanceof RuntimeObj) {
      const v = obj.attrs.get(name);
      if (v !== undefined) return this.space.incref(v);
    }
    const m = this.method(obj, name, pos);
    if (m !== null) return m;
    throw new PyException('AttributeError', `'${typeName(obj)}' object has no attribute '${name}'`, pos);
  }

  /** Bound methods of built-in types that change memory. */
  private method(obj: PyObj, name: string, pos: Pos): PyObj | null {
    const sp = this.space;
    const bound = (fn: (args: PyObj[], kw: Map<string, PyObj>) => PyObj): RuntimeObj => {
      // A bound method holds a reference to its object until the method object dies.
      sp.incref(obj);
      const m = new RuntimeObj(`method ${typeName(obj)}.${name}`, (args, kw) => fn(args, kw));
      m.isStatic = false;
      m.onRelease = () => sp.decref(obj);
      return m;
    };
    const none = (): PyObj => sp.incref(sp.None);
    if (name === '__sizeof__' && !(obj instanceof RuntimeObj)) return bound(() => sp.int(BigInt(sp.basicSizeOf(obj))));
    if (obj instanceof ListObj) {
      switch (name) {
        case 'append':
          return bound(([x]) => (sp.listAppend(obj, sp.incref(need(x, pos))), none()));
        case 'extend':
          return bound(([x]) => {
            const src = need(x, pos);
            if (src instanceof ListObj || src instanceof TupleObj) this.listExtend(obj, this.seqItems(src));
            else for (const y of this.iterate(src, pos)) sp.listAppend(obj, y);
            return none();
          });
        case 'insert':
          return bound(([i, x]) => {
            const n = obj.items.length;
            let k = Number((need(i, pos) as IntObj).value);
            if (k < 0) k = Math.max(0, n + k);
            if (k > n) k = n;
            sp.listResize(obj, n + 1);
            obj.items.splice(k, 0, sp.incref(need(x, pos)));
            return none();
          });
        case 'pop':
          return bound(([i]) => {
            if (obj.items.length === 0) throw new PyException('IndexError', 'pop from empty list', pos);
            const k = i === undefined ? obj.items.length - 1 : normIndex((i as IntObj).value, obj.items.length, pos);
            const v = sp.incref(obj.items[k]!);
            this.listDelete(obj, k);
            return v;
          });
        case 'remove':
          return bound(([x]) => {
            const k = obj.items.findIndex((y) => pyEqualsKey(y, need(x, pos)));
            if (k < 0) throw new PyException('ValueError', 'list.remove(x): x not in list', pos);
            this.listDelete(obj, k);
            return none();
          });
        case 'clear':
          return bound(() => (sp.listClear(obj), none()));
      }
    }
    if (obj instanceof DictObj) {
      switch (name) {
        case 'setdefault':
          return bound(([k, d]) => {
            const i = sp.dictIndexOf(obj, need(k, pos));
            if (i >= 0) return sp.incref(obj.values[i]!);
            const v = d ?? sp.None;
            sp.dictSet(obj, sp.incref(need(k, pos)), sp.incref(v));
            return sp.incref(v);
          });
        case 'get':
          return bound(([k, d]) => {
            const i = sp.dictIndexOf(obj, need(k, pos));
            return sp.incref(i >= 0 ? obj.values[i]! : (d ?? sp.None));
          });
        case 'pop':
          return bound(([k, d]) => {
            const i = sp.dictIndexOf(obj, need(k, pos));
            if (i < 0) {
              if (d === undefined) throw new PyException('KeyError', this.repr(need(k, pos)), pos);
              return sp.incref(d);
            }
            const v = sp.incref(obj.values[i]!);
            sp.dictDelete(obj, i);
            return v;
          });
        case 'update':
          return bound(([m], kw) => {
            if (m instanceof DictObj) m.keys.forEach((k, i) => sp.dictSet(obj, sp.incref(k), sp.incref(m.values[i]!)));
            for (const [k, v] of kw) sp.dictSet(obj, sp.str(k), sp.incref(v));
            return none();
          });
        case 'clear':
          return bound(() => (sp.dictClear(obj), none()));
      }
    }
    if (obj instanceof SetObj && obj.type === 'set') {
      switch (name) {
        case 'add':
          return bound(([x]) => (sp.setAdd(obj, sp.incref(need(x, pos))), none()));
        case 'discard':
        case 'remove':
          return bound(([x]) => {
            const i = obj.items.findIndex((y) => pyEqualsKey(y, need(x, pos)));
            if (i < 0) {
              if (name === 'remove') throw new PyException('KeyError', this.repr(need(x, pos)), pos);
              return none();
            }
            sp.setDiscardAt(obj, i);
            return none();
          });
        case 'update':
          return bound(([x]) => {
            const src = need(x, pos);
            // set_update_internal: a set or frozenset is merged (one presizing resize).
            if (src instanceof SetObj) sp.setMerge(obj, src.items.map((y) => sp.incref(y)));
            else for (const y of this.iterate(src, pos)) sp.setAdd(obj, y);
            return none();
          });
        case 'clear':
          return bound(() => (sp.setClear(obj), none()));
      }
    }
    if (obj instanceof ByteArrayObj && (name === 'append' || name === 'extend')) {
      return bound(([x]) => {
        const add = name === 'append' ? new Uint8Array([Number((need(x, pos) as IntObj).value)]) : [...this.iterate(need(x, pos), pos)].map((y) => Number((y as IntObj).value));
        sp.bytearrayResize(obj, concat(obj.value, Uint8Array.from(add)));
        return none();
      });
    }
    return null;
  }

  // =========================================================================================
  // Builtins
  // =========================================================================================

  private installBuiltins(): void {
    const sp = this.space;
    const def = (name: string, fn: (args: PyObj[], kw: Map<string, PyObj>, pos: Pos) => PyObj): RuntimeObj => {
      const o = new RuntimeObj(`builtin ${name}`, fn);
      // Built-in functions are PyCFunction objects made at start-up (static here); the
      // built-in types (list, dict, ...) are type objects, not functions.
      if (!BUILTIN_TYPES.has(name)) {
        o.opaqueSize = sp.rules.minor <= 7 ? 48 : 56;
        o.opaqueType = 'builtin_function_or_method';
        o.gcTracked = true; // a GC object (static here, so never collected)
      }
      this.builtins.set(name, o);
      return o;
    };
    def('len', ([x], _kw, pos) => {
      const n = lengthOf(need(x, pos));
      if (n < 0) throw new PyException('TypeError', `object of type '${typeName(x!)}' has no len()`, pos);
      return sp.int(BigInt(n));
    });
    def('range', (args, _kw, pos) => {
      const v = args.map((a) => {
        if (!(a instanceof IntObj)) throw new PyException('TypeError', `'${typeName(a)}' object cannot be interpreted as an integer`, pos);
        return a.value;
      });
      if (v.length === 1) return sp.range(0n, v[0]!, 1n);
      if (v.length === 2) return sp.range(v[0]!, v[1]!, 1n);
      if (v[2] === 0n) throw new PyException('ValueError', 'range() arg 3 must not be zero', pos);
      return sp.range(v[0]!, v[1]!, v[2]!);
    });
    def('list', ([x], _kw, pos) => {
      const l = sp.list();
      if (x === undefined) return l;
      const n = lengthOf(x);
      // list___init__: 3.8+ preallocates for a sized iterable; then list_extend.
      if (n > 0 && sp.rules.listPreallocate) sp.setListAllocation(l, listPreallocation(sp.rules, n));
      const items = x instanceof ListObj || x instanceof TupleObj ? this.seqItems(x) : [...this.iterate(x, pos)];
      if (x instanceof ListObj || x instanceof TupleObj) {
        sp.listResize(l, items.length);
      } else {
        // Iterator path: make room for the length hint, append, then cut back.
        const hint = n >= 0 ? n : 8;
        sp.listResize(l, hint);
        for (let i = hint; i < items.length; i++) sp.listResize(l, i + 1);
        l.items = items;
        sp.listResize(l, items.length);
        return l;
      }
      l.items = items;
      return l;
    });
    def('tuple', ([x], _kw, pos) =>
      x === undefined ? sp.incref(sp.emptyTuple) : x instanceof TupleObj ? sp.incref(x) : sp.tuple(x instanceof ListObj ? this.seqItems(x) : [...this.iterate(x, pos)]),
    );
    def('set', ([x], _kw, pos) => {
      if (x instanceof SetObj) {
        const s = sp.set();
        sp.setMerge(s, x.items.map((y) => sp.incref(y)));
        return s;
      }
      return sp.setFromItems('set', x === undefined ? [] : [...this.iterate(x, pos)]);
    });
    def('frozenset', ([x], _kw, pos) => sp.setFromItems('frozenset', x === undefined ? [] : [...this.iterate(x, pos)]));
    const dict = def('dict', ([x], kw, pos) => {
      const d = sp.dict(true);
      if (x instanceof DictObj) x.keys.forEach((k, i) => sp.dictSet(d, sp.incref(k), sp.incref(x.values[i]!)));
      else if (x !== undefined) {
        for (const pair of this.iterate(x, pos)) {
          // PyDict_MergeFromSeq2: each item through PySequence_Fast (no iterator for a tuple).
          const kv = pair instanceof ListObj || pair instanceof TupleObj ? this.seqItems(pair) : [...this.iterate(pair, pos)];
          sp.decref(pair);
          if (kv.length !== 2) throw new PyException('ValueError', 'dictionary update sequence element has wrong length', pos);
          sp.dictSet(d, kv[0]!, kv[1]!);
        }
      }
      for (const [k, v] of kw) sp.dictSet(d, sp.str(k), sp.incref(v));
      return d;
    });
    dict.attrs.set(
      'fromkeys',
      new RuntimeObj('builtin dict.fromkeys', ([keys, value], _kw, pos) => {
        const d = sp.dict(true);
        const src = need(keys, pos);
        // dict.fromkeys walks a dict or set directly; other iterables through an iterator.
        const items = src instanceof DictObj ? src.keys.map((k) => sp.incref(k)) : src instanceof SetObj ? src.items.map((k) => sp.incref(k)) : null;
        for (const k of items ?? this.iterate(src, pos)) sp.dictSet(d, k, sp.incref(value ?? sp.None));
        return d;
      }),
    );
    def('bytes', ([x], _kw, pos) => {
      if (x === undefined) return sp.bytes(new Uint8Array(0));
      if (x instanceof IntObj) return sp.bytes(new Uint8Array(Number(x.value)));
      if (x instanceof BytesObj) return sp.incref(x);
      const items = x instanceof ListObj || x instanceof TupleObj ? this.seqItems(x) : [...this.iterate(x, pos)];
      const out = Uint8Array.from(items.map((y) => Number((y as IntObj).value)));
      for (const y of items) sp.decref(y);
      return sp.bytes(out);
    });
    def('bytearray', ([x], _kw, pos) => {
      if (x === undefined) return sp.bytearray(new Uint8Array(0));
      if (x instanceof IntObj) return sp.bytearray(new Uint8Array(Number(x.value)));
      if (x instanceof BytesObj || x instanceof ByteArrayObj) return sp.bytearray(x.value.slice());
      return sp.bytearray(Uint8Array.from([...this.iterate(x, pos)].map((y) => Number((y as IntObj).value))));
    });
    def('str', ([x]) => (x === undefined ? sp.str('') : x instanceof StrObj ? sp.incref(x) : sp.str(this.display(x))));
    def('int', ([x], _kw, pos) => {
      if (x === undefined) return sp.int(0n);
      if (x instanceof IntObj) return sp.int(x.value);
      if (x instanceof FloatObj) return sp.int(BigInt(Math.trunc(x.value)));
      if (x instanceof StrObj && /^\s*[-+]?\d+\s*$/.test(x.value)) return sp.int(BigInt(x.value.trim()));
      throw new PyException('ValueError', `invalid literal for int(): ${this.repr(x)}`, pos);
    });
    def('float', ([x], _kw, pos) => {
      if (x === undefined) return sp.float(0);
      if (x instanceof IntObj || x instanceof FloatObj) return sp.float(toNumber(x));
      if (x instanceof StrObj) {
        const t = x.value.trim().toLowerCase();
        const v = t === 'inf' || t === '+inf' || t === 'infinity' ? Infinity : t === '-inf' || t === '-infinity' ? -Infinity : t === 'nan' ? NaN : Number(t);
        if (Number.isNaN(v) && t !== 'nan') throw new PyException('ValueError', `could not convert string to float: ${this.repr(x)}`, pos);
        return sp.float(v);
      }
      throw new PyException('TypeError', `float() argument must be a string or a number, not '${typeName(x)}'`, pos);
    });
    def('complex', ([a, b]) => sp.complex(a ? toNumber(a as IntObj) : 0, b ? toNumber(b as IntObj) : 0));
    def('object', () => sp.object());
    def('slice', (args, _kw, pos) => {
      if (args.length < 1 || args.length > 3) throw new PyException('TypeError', `slice expected 1 to 3 arguments, got ${args.length}`, pos);
      const [a, b, c] = args.length === 1 ? [sp.None, args[0]!, sp.None] : [args[0]!, args[1]!, args[2] ?? sp.None];
      return sp.slice(sp.incref(a), sp.incref(b), sp.incref(c));
    });
    def('id', ([x], _kw, pos) => sp.int(BigInt(need(x, pos).address)));
    def('type', ([x], _kw, pos) => sp.str(typeName(need(x, pos))));
    def('print', (args) => {
      this.print(args.map((a) => this.display(a)).join(' ') + '\n');
      return sp.incref(sp.None);
    });
    def('iter', ([x], _kw, pos) => this.getIter(need(x, pos), pos));
    def('reversed', ([x], _kw, pos) => {
      const v = need(x, pos);
      if (!(v instanceof ListObj)) throw new PyException('NotImplementedError', `reversed() of '${typeName(v)}' is not simulated yet`, pos);
      const it = sp.iterator('list_reverseiterator', v);
      it.next = [...v.items].reverse().map((y) => sp.incref(y))[Symbol.iterator]();
      return it;
    });
    this.builtins.set('NotImplemented', sp.NotImplemented);
    this.builtins.set('Ellipsis', sp.Ellipsis);
    const sys = new RuntimeObj('module sys');
    sys.attrs.set('getsizeof', new RuntimeObj('builtin sys.getsizeof', ([x], _kw, pos) => sp.int(BigInt(sp.sizeOf(need(x, pos))))));
    this.builtins.set('module:sys', sys);
    const gc = new RuntimeObj('module gc');
    gc.attrs.set('collect', new RuntimeObj('builtin gc.collect', () => sp.int(BigInt(sp.collectGarbage()))));
    gc.attrs.set('is_tracked', new RuntimeObj('builtin gc.is_tracked', ([x], _kw, pos) => sp.bool(need(x, pos).gcTracked)));
    this.builtins.set('module:gc', gc);
  }

  // =========================================================================================
  // Text
  // =========================================================================================

  repr(v: PyObj): string {
    if (v instanceof StrObj) return `'${v.value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    return this.display(v);
  }

  display(v: PyObj): string {
    const sp = this.space;
    if (v === sp.None) return 'None';
    if (v === sp.True) return 'True';
    if (v === sp.False) return 'False';
    if (v === sp.Ellipsis) return 'Ellipsis';
    if (v instanceof IntObj) return v.value.toString();
    if (v instanceof FloatObj) return formatFloat(v.value);
    if (v instanceof ComplexObj) return v.real === 0 ? `${formatFloat(v.imag).replace(/\.0$/, '')}j` : `(${formatFloat(v.real).replace(/\.0$/, '')}+${formatFloat(v.imag).replace(/\.0$/, '')}j)`;
    if (v instanceof StrObj) return v.value;
    if (v instanceof BytesObj) return `b'${[...v.value].map((b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join('')}'`;
    if (v instanceof TupleObj) return `(${v.items.map((x) => this.repr(x)).join(', ')}${v.items.length === 1 ? ',' : ''})`;
    if (v instanceof ListObj) return `[${v.items.map((x) => this.repr(x)).join(', ')}]`;
    if (v instanceof DictObj) return `{${v.keys.map((k, i) => `${this.repr(k)}: ${this.repr(v.values[i]!)}`).join(', ')}}`;
    if (v instanceof SetObj) return v.items.length === 0 ? `${v.type}()` : `{${v.items.map((x) => this.repr(x)).join(', ')}}`;
    if (v instanceof RangeObj) return v.step === 1n ? `range(${v.start}, ${v.stop})` : `range(${v.start}, ${v.stop}, ${v.step})`;
    if (v instanceof RuntimeObj) return `<${v.label}>`;
    return `<${v.type} object at 0x${v.address.toString(16)}>`;
  }
}

export function typeName(v: PyObj): string {
  if (v instanceof RuntimeObj) return v.label.split(' ')[0]!;
  if (v instanceof IterObj) return v.kind;
  if (v instanceof InstanceObj) return v.cls.name;
  return v.type;
}

function need(x: PyObj | undefined, pos: Pos): PyObj {
  if (x === undefined) throw new PyException('TypeError', 'missing required argument', pos);
  return x;
}

function isNumeric(v: PyObj): boolean {
  return v instanceof IntObj || v instanceof FloatObj || v instanceof ComplexObj;
}

function isList(v: PyObj): v is ListObj {
  return v instanceof ListObj;
}

function toNumber(v: IntObj | FloatObj): number {
  return v instanceof IntObj ? Number(v.value) : v.value;
}

function toComplex(v: PyObj): [number, number] {
  if (v instanceof ComplexObj) return [v.real, v.imag];
  return [toNumber(v as IntObj), 0];
}

function lengthOf(v: PyObj): number {
  if (v instanceof ListObj || v instanceof TupleObj) return v.items.length;
  if (v instanceof StrObj) return v.length;
  if (v instanceof BytesObj || v instanceof ByteArrayObj) return v.value.length;
  if (v instanceof DictObj) return v.keys.length;
  if (v instanceof SetObj) return v.items.length;
  if (v instanceof RangeObj) {
    const n = v.step > 0n ? (v.stop - v.start + v.step - 1n) / v.step : (v.start - v.stop - v.step - 1n) / -v.step;
    return n > 0n ? Number(n) : 0;
  }
  return -1;
}

/** PySlice_AdjustIndices' slice length for adjusted start, stop and step. */
function sliceLength(start: number, stop: number, step: number): number {
  if (step < 0) return stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0;
  return start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0;
}

/** An item of an iterable of ints in range(0, 256) (released here). */
function byteValue(y: PyObj, sp: ObjectSpace, pos: Pos): number {
  const ok = y instanceof IntObj && y.value >= 0n && y.value < 256n;
  const v = ok ? Number((y as IntObj).value) : -1;
  sp.decref(y);
  if (!ok) throw new PyException('ValueError', 'byte must be in range(0, 256)', pos);
  return v;
}

function rangeContains(r: RangeObj, x: bigint): boolean {
  if (r.step > 0n ? x < r.start || x >= r.stop : x > r.start || x <= r.stop) return false;
  return (x - r.start) % r.step === 0n;
}

function normIndex(i: bigint, n: number, pos: Pos): number {
  let k = Number(i);
  if (k < 0) k += n;
  if (k < 0 || k >= n) throw new PyException('IndexError', 'index out of range', pos);
  return k;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function repeatBytes(a: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(a.length * n);
  for (let i = 0; i < n; i++) out.set(a, i * a.length);
  return out;
}

function repeatItems(a: PyObj[], n: number): PyObj[] {
  const out: PyObj[] = [];
  for (let i = 0; i < n; i++) out.push(...a);
  return out;
}

function formatFloat(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  return String(x).replace('e+', 'e+').replace(/e(-?)(\d)$/, 'e$10$2');
}
