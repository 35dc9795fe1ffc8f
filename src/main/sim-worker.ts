/**
 * Entry of the simulation worker thread (worker_threads). Wires SimService to parentPort:
 * requests in, results and events out. Results that are ArrayBuffers are transferred.
 */
import { parentPort } from 'node:worker_threads';
import type { WorkerInbound, WorkerOutbound } from '../shared/protocol';
import { SimService, parseRequest } from './sim-service';

const port = parentPort;
if (port === null) throw new Error('sim-worker must run in a worker thread');

let cancel = new Int32Array(new SharedArrayBuffer(4));
const post = (m: WorkerOutbound, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const service = new SimService({
  emit: (event) => post({ type: 'event', event }),
  cancelled: () => Atomics.load(cancel, 0) !== 0,
  clearCancel: () => Atomics.store(cancel, 0, 0),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
});

function transferables(result: unknown): ArrayBuffer[] {
  if (result instanceof ArrayBuffer) return [result];
  if (typeof result === 'object' && result !== null && 'ranges' in result) {
    const ranges = (result as { ranges: { data: ArrayBuffer }[] }).ranges;
    return ranges.map((r) => r.data).filter((d) => d instanceof ArrayBuffer);
  }
  return [];
}

port.on('message', (msg: WorkerInbound) => {
  if (msg.type === 'init') {
    cancel = new Int32Array(msg.cancel);
    return;
  }
  try {
    const result = service.handle(parseRequest(msg.request));
    post({ type: 'result', id: msg.id, ok: true, result }, transferables(result));
  } catch (e) {
    post({ type: 'result', id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
  }
});

post({ type: 'ready' });
