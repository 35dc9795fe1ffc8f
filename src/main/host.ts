/**
 * The simulation host in the main process: starts the worker thread, forwards requests and
 * events, cancels through shared memory, and restarts a worker that died.
 *
 * Restart. The host keeps a journal of what built the current session: the request that
 * started it (newSession or loadSession) and every input that ran since, with where the user
 * cancelled it, plus the UI state and the position. When the worker dies, a new one is
 * started and the journal replayed into it, and the UI gets a `restored` event. The request
 * that was running when the worker died is not replayed (it may be what killed it); the event
 * says which one was lost, and its caller gets an error.
 *
 * Free of `electron` imports: the worker factory is a parameter (tests pass real Workers).
 */
import type { HostEvent, ResultOf, RunResult, SessionState, SimRequest, WorkerInbound, WorkerOutbound } from '../shared/protocol';

/** What the host needs of a worker_threads Worker. */
export interface WorkerLike {
  postMessage(message: WorkerInbound, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (m: WorkerOutbound) => void): unknown;
  on(event: 'error', listener: (e: Error) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  terminate(): Promise<number>;
}

export interface HostOptions {
  createWorker: () => WorkerLike;
  onEvent: (event: HostEvent) => void;
  /** Restarts allowed within a minute before the host gives up (default 5). */
  maxRestartsPerMinute?: number;
}

interface Pending {
  request: SimRequest;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

type JournalEntry = SimRequest;

const MUTATING = new Set(['runPython', 'importTrace', 'startWorkload']);

export class HostError extends Error {}

export class SimulationHost {
  private readonly options: HostOptions;
  private worker: WorkerLike | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly cancelBuffer = new SharedArrayBuffer(4);
  private readonly cancelFlag = new Int32Array(this.cancelBuffer);
  /** What built the current session, in order (the first entry starts it, when any). */
  private journal: JournalEntry[] = [];
  private position: number | null = null;
  /** Inputs of the session as of the last state seen. */
  private knownInputs = 0;
  private ui: SessionState['ui'] | null = null;
  private restarts: number[] = [];
  private disposed = false;
  /** Whether a restore is replaying the journal (its results do not touch the journal). */
  private restoring = false;

  constructor(options: HostOptions) {
    this.options = options;
  }

  start(): Promise<void> {
    if (this.ready === null) this.ready = this.spawn();
    return this.ready;
  }

  private spawn(): Promise<void> {
    const w = this.options.createWorker();
    this.worker = w;
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      w.on('message', (m) => {
        if (m.type === 'ready') {
          isReady = true;
          w.postMessage({ type: 'init', cancel: this.cancelBuffer });
          resolve();
        } else if (m.type === 'event') {
          if (!this.restoring || m.event.kind === 'progress') this.options.onEvent(m.event);
        } else {
          const p = this.pending.get(m.id);
          if (p === undefined) return;
          this.pending.delete(m.id);
          if (m.ok) p.resolve(m.result);
          else p.reject(new HostError(m.error));
        }
      });
      w.on('error', (e) => {
        if (!isReady) reject(e);
      });
      w.on('exit', (code) => {
        if (this.worker !== w) return;
        this.worker = null;
        if (!isReady) {
          reject(new HostError(`the simulation worker exited with code ${code} before it was ready`));
          return;
        }
        if (!this.disposed) void this.recover(code);
      });
    });
  }

  /** Sends a request to the worker; the result type follows the request. */
  async request<R extends SimRequest>(req: R): Promise<ResultOf<R>> {
    await this.start();
    // A restore in progress replays the journal first: requests made meanwhile wait for it.
    while (this.restoration !== null) await this.restoration;
    const result = (await this.send(req)) as ResultOf<R>;
    this.record(req, result);
    return result;
  }

  private send(req: SimRequest): Promise<unknown> {
    const w = this.worker;
    if (w === null) return Promise.reject(new HostError('the simulation worker is not running'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { request: req, resolve, reject });
      // The journal may need a loadSession's bytes again after a restart: copy, never transfer.
      w.postMessage({ type: 'request', id, request: req });
    });
  }

  /** Keeps the journal in step with a request that succeeded. */
  private record(req: SimRequest, result: unknown): void {
    if (this.restoring) return;
    if (req.op === 'newSession' || req.op === 'loadSession') {
      this.journal = [req];
      this.ui = null;
      this.position = null;
    } else if (MUTATING.has(req.op)) {
      const r = result as RunResult;
      // A run that was refused (a syntax error, an invalid trace) added no input.
      if (r.state.inputs.length > this.knownInputs) {
        const last = r.state.inputs[r.state.inputs.length - 1]!;
        this.journal.push(last.interrupted ? ({ ...req, interruptedAt: last.end - last.start } as SimRequest) : req);
      }
    }
    const state = stateOf(req, result);
    if (state !== null) {
      this.position = state.position;
      this.ui = state.ui;
      this.knownInputs = state.inputs.length;
    }
  }

  /** Asks the running job to stop (it keeps what it did up to there). */
  cancel(): void {
    Atomics.store(this.cancelFlag, 0, 1);
  }

  /** The journal replay after a restart, while it runs. */
  private restoration: Promise<void> | null = null;

  private recover(code: number): Promise<void> {
    const r = this.restore(code).finally(() => {
      if (this.restoration === r) this.restoration = null;
    });
    this.restoration = r;
    return r;
  }

  private async restore(code: number): Promise<void> {
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    const lostRequests = [...this.pending.values()];
    this.pending.clear();
    const lost = lostRequests.find((p) => p.request.op !== 'query')?.request.op ?? null;
    for (const p of lostRequests) p.reject(new HostError(`the simulation worker stopped (exit code ${code}) while running ${p.request.op}`));
    if (this.restarts.length >= (this.options.maxRestartsPerMinute ?? 5)) {
      this.options.onEvent({ kind: 'error', message: 'the simulation worker keeps stopping; restart the app' });
      return;
    }
    this.restarts.push(now);
    this.ready = this.spawn();
    try {
      await this.ready;
      this.restoring = true;
      let state: SessionState | null = null;
      for (const entry of this.journal) {
        const r = await this.send(entry);
        state = stateOf(entry, r) ?? state;
      }
      if (this.ui !== null) state = (await this.send({ op: 'setUi', ui: this.ui })) as SessionState;
      if (this.position !== null) state = (await this.send({ op: 'seek', position: this.position })) as SessionState;
      if (state === null) state = (await this.send({ op: 'pause' })) as SessionState;
      this.restoring = false;
      this.options.onEvent({ kind: 'restored', state, lost: lost === null ? null : `the worker stopped while running ${lost}; the session was restored to before it` });
    } catch (e) {
      this.restoring = false;
      this.options.onEvent({ kind: 'error', message: `could not restore the session after the worker stopped: ${(e as Error).message}` });
    }
  }

  /** The worker, for tests that need to kill it. */
  get currentWorker(): WorkerLike | null {
    return this.worker;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    const w = this.worker;
    this.worker = null;
    if (w !== null) await w.terminate();
  }
}

function stateOf(req: SimRequest, result: unknown): SessionState | null {
  if (req.op === 'query' || req.op === 'encodeSession') return null;
  if (MUTATING.has(req.op)) return (result as RunResult).state;
  return result as SessionState;
}
