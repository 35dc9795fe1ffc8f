/**
 * A Python session on a simulated heap: parse, run, evaluate, and report what happened.
 * One session = one heap, one object space, one interpreter (no module-level state).
 */
import type { PymallocHeap } from '../pymalloc/heap';
import { layoutOf, type ObjectLayout } from '../objects/layout';
import { ObjectSpace, type HeapEvent, type PyObj, type PythonMallocMode } from '../objects/space';
import { OpLog, RecordingAllocator } from '../trace/oplog';
import { createReplayHeap, type ReplayHeapOptions } from '../trace/replay';
import { PySyntaxError, type Expr } from './ast';
import { Interpreter, PyException } from './interp';
import { parsePython } from './parse';

export interface SessionOptions extends ReplayHeapOptions {
  pythonMalloc?: PythonMallocMode;
  /** Record every allocator call in this log (the session's timeline). */
  log?: OpLog;
  operationBudget?: number;
  print?: (text: string) => void;
}

export class PythonSession {
  readonly heap: PymallocHeap;
  readonly space: ObjectSpace;
  readonly interp: Interpreter;

  constructor(options: SessionOptions) {
    this.heap = createReplayHeap(options);
    this.space = new ObjectSpace(this.heap, {
      ...(options.pythonMalloc === undefined ? {} : { pythonMalloc: options.pythonMalloc }),
      ...(options.log === undefined ? {} : { allocator: new RecordingAllocator(this.heap, options.log) }),
    });
    this.interp = new Interpreter(this.space, {
      ...(options.operationBudget === undefined ? {} : { operationBudget: options.operationBudget }),
      ...(options.print === undefined ? {} : { print: options.print }),
    });
  }

  /** Runs a script; returns the events it caused. Throws PySyntaxError or PyException. */
  run(source: string): HeapEvent[] {
    const mod = parsePython(source);
    const first = this.space.events.length;
    this.interp.run(mod);
    return this.space.events.slice(first);
  }

  /** Evaluates one expression and returns the object (a new reference: release with `drop`). */
  evaluate(source: string): PyObj {
    const mod = parsePython(source);
    const only = mod.body.length === 1 ? mod.body[0]! : null;
    if (only === null || only.k !== 'expr') throw new PySyntaxError(1, 1, 'expected one expression');
    return this.interp.evaluate(mod, only.value as Expr);
  }

  drop(o: PyObj): void {
    this.space.decref(o);
  }

  /** sys.getsizeof(<expr>), evaluated in this session. */
  sizeof(source: string): number {
    const o = this.evaluate(source);
    const n = this.space.sizeOf(o);
    this.drop(o);
    return n;
  }

  layout(o: PyObj): ObjectLayout {
    return layoutOf(this.space, o);
  }
}

/** One line for an error of the simulated program or of its syntax. */
export function describeError(e: unknown): string {
  if (e instanceof PySyntaxError) return `line ${e.line} col ${e.col}: ${e.detail}`;
  if (e instanceof PyException) return e.pos === null ? e.message : `line ${e.pos.line} col ${e.pos.col}: ${e.message}`;
  return e instanceof Error ? e.message : String(e);
}
