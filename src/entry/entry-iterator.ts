/**
 * EntryIterator: a format reader's entries as the AsyncGenerator the pipeline expects, without
 * generator machinery.
 *
 * A reader keeps its state in an object whose next() resolves to the next Entry, or null at the
 * end of the archive. An async generator function looping over it cost, per entry, a generator
 * resume, one more await and about 500 bytes of garbage (hot path: an OS image is ~100,000
 * entries); this answers next() with the reader's own promise.
 *
 * Semantics are an async generator's: calls are served in order (a next() or return() made
 * while a next() is pending waits for it); once the reader reached the end, failed, or was
 * stopped with return() or throw(), next() resolves done. `close()` runs once in every case
 * (a generator's finally); `end()` only after the last entry was read.
 */

import type { Entry } from './entry.js';

export interface EntrySource {
  /** The next entry, or null at the end of the archive. Never called concurrently. */
  next(): Promise<Entry | null>;
  /** After the end of the archive was reached (not after an error or return()). */
  end(): void;
  /** Once, when iteration stops for any reason, before `end()`. */
  close(): void;
}

export class EntryIterator implements AsyncGenerator<Entry, undefined> {
  readonly #src: EntrySource;
  #done = false;
  /** The next() in progress, or null. */
  #pending: Promise<IteratorResult<Entry, undefined>> | null = null;

  constructor(src: EntrySource) {
    this.#src = src;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Hot path: one promise and one result object per entry. */
  next(): Promise<IteratorResult<Entry, undefined>> {
    if (this.#done) return Promise.resolve({ value: undefined, done: true });
    if (this.#pending !== null) return this.#pending.then(this.#again, this.#again);
    const p = this.#src.next().then(this.#onEntry, this.#onError);
    this.#pending = p;
    return p;
  }

  return(): Promise<IteratorResult<Entry, undefined>> {
    const stop = (): IteratorResult<Entry, undefined> => {
      this.#finish(false);
      return { value: undefined, done: true };
    };
    return this.#pending !== null ? this.#pending.then(stop, stop) : Promise.resolve(stop());
  }

  throw(e?: unknown): Promise<IteratorResult<Entry, undefined>> {
    const fail = (): never => {
      this.#finish(false);
      throw e;
    };
    return this.#pending !== null ? this.#pending.then(fail, fail) : Promise.reject(e).catch(fail);
  }

  readonly #again = (): Promise<IteratorResult<Entry, undefined>> => this.next();

  readonly #onEntry = (e: Entry | null): IteratorResult<Entry, undefined> => {
    this.#pending = null;
    if (e === null) {
      this.#finish(true);
      return { value: undefined, done: true };
    }
    return { value: e, done: false };
  };

  readonly #onError = (err: unknown): never => {
    this.#pending = null;
    this.#finish(false);
    throw err;
  };

  #finish(ended: boolean): void {
    if (this.#done) return;
    this.#done = true;
    this.#src.close();
    if (ended) this.#src.end();
  }
}
