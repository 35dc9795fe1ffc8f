/**
 * Live blocks by trace id. Trace writers almost always number blocks 0, 1, 2, ...; those ids
 * (non-negative integers below 2^26) index a Float64Array directly, with no hashing. Any other
 * id (negative, huge, or a decimal string beyond 2^53) goes to a Map. Values are non-zero
 * numbers (handles or slot numbers + 1); 0 means "not live".
 */
import type { IdKey } from './reader';

const DENSE_LIMIT = 1 << 26;

export class LiveTable {
  private dense = new Float64Array(1024);
  private readonly sparse = new Map<IdKey, number>();
  /** Number of live ids. */
  size = 0;

  get(id: IdKey): number {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT && Number.isInteger(id)) {
      return id < this.dense.length ? this.dense[id]! : 0;
    }
    return this.sparse.get(id) ?? 0;
  }

  /** Sets a non-zero value. */
  set(id: IdKey, value: number): void {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT && Number.isInteger(id)) {
      if (id >= this.dense.length) {
        let n = this.dense.length;
        while (n <= id) n *= 2;
        const d = new Float64Array(n);
        d.set(this.dense);
        this.dense = d;
      }
      if (this.dense[id] === 0) this.size++;
      this.dense[id] = value;
      return;
    }
    if (!this.sparse.has(id)) this.size++;
    this.sparse.set(id, value);
  }

  delete(id: IdKey): void {
    if (typeof id === 'number' && id >= 0 && id < DENSE_LIMIT && Number.isInteger(id)) {
      if (id < this.dense.length && this.dense[id] !== 0) {
        this.dense[id] = 0;
        this.size--;
      }
      return;
    }
    if (this.sparse.delete(id)) this.size--;
  }
}
