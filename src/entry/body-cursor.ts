/**
 * BodyCursor: the body of one entry, read straight from the shared ByteSource.
 *
 * A reader creates one per entry and hands it out as `entry.body` (it is its own async
 * iterable: no wrapper per entry); when the consumer asks for the next entry the reader calls
 * `finishBuffered()` or `finish()`, which skip whatever was not read (readers never demand
 * draining). After that the body is stale: iterating it throws ENTRY_BODY_STALE instead of
 * silently returning another entry's bytes.
 *
 * `onData` sees every body byte exactly once, whether the consumer read it or a finish skipped
 * it; readers use it for checksums (cpio crc, zip CRC-32) so that verification does not depend
 * on whether the caller looked at the data. When `onData` is absent, skipping does not inspect
 * the bytes at all (hot path for `list`).
 *
 * Hot path (the sink, ~100,000 small bodies per OS image): `copyBuffered` copies what the
 * source already holds into the caller's buffer without a promise, and `finishBuffered` skips a
 * buffered rest synchronously. An async iterator per body costs a generator, several promises
 * and a microtask turn per chunk, most of the per-entry time of an extraction.
 */

import { ZoneP2vError } from '../errors.js';
import { copyBytes, type ByteSource } from '../io/byte-source.js';

export class BodyCursor implements AsyncIterable<Buffer> {
  readonly #src: ByteSource;
  readonly #layer: string;
  readonly #onData: ((chunk: Buffer) => void) | undefined;
  #remaining: number;
  #stale = false;
  #reading = false;

  constructor(src: ByteSource, size: number, layer: string, onData?: (chunk: Buffer) => void) {
    this.#src = src;
    this.#remaining = size;
    this.#layer = layer;
    this.#onData = onData;
  }

  /** Body bytes not consumed yet (read or skipped). */
  get remaining(): number {
    return this.#remaining;
  }

  /** The cursor is the entry body: an async iterable of zero-copy chunks (no wrapper per entry). */
  get iterable(): AsyncIterable<Buffer> {
    return this;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#iterate();
  }

  #staleError(): ZoneP2vError {
    return new ZoneP2vError('ENTRY_BODY_STALE', `${this.#layer}: entry body read after the next entry was requested`, {
      layer: this.#layer,
      severity: 'fatal',
    });
  }

  async *#iterate(): AsyncGenerator<Buffer> {
    if (this.#stale) throw this.#staleError();
    if (this.#reading) throw new Error('entry body is already being read');
    this.#reading = true;
    try {
      while (this.#remaining > 0) {
        const c = await this.#nextChunk('entry body');
        if (this.#stale) return;
        yield c;
      }
    } finally {
      this.#reading = false;
    }
  }

  async #nextChunk(what: string): Promise<Buffer> {
    if (this.#src.buffered === 0) {
      await this.#src.fill(1);
      if (this.#src.buffered === 0) throw this.#src.truncated(this.#layer, what, this.#remaining);
    }
    const c = this.#src.takeChunk(this.#remaining)!;
    this.#remaining -= c.length;
    if (this.#onData) this.#onData(c);
    return c;
  }

  /**
   * Copies body bytes the source already holds into `out` from `off` (at most the unread rest
   * of the body and the room left in `out`), synchronously; returns how many. 0 when the body
   * is read, `out` is full, or the next byte must be awaited (`waitForData`). Hot path.
   */
  copyBuffered(out: Buffer, off: number): number {
    if (this.#stale) throw this.#staleError();
    if (this.#reading) throw new Error('entry body is already being read');
    const src = this.#src;
    let n = 0;
    let want = Math.min(this.#remaining, out.length - off);
    while (want > 0 && src.buffered > 0) {
      let k: number;
      if (this.#onData === undefined) {
        k = src.takeInto(out, off + n, want);
      } else {
        const c = src.takeChunk(want)!;
        this.#onData(c);
        copyBytes(out, off + n, c);
        k = c.length;
      }
      this.#remaining -= k;
      n += k;
      want -= k;
    }
    return n;
  }

  /** Resolves once more body bytes are buffered (at once if some are, or the body is read); TRUNCATED when the stream ends first. */
  async waitForData(): Promise<void> {
    if (this.#remaining === 0 || this.#src.buffered > 0) return;
    await this.#src.fill(1);
    if (this.#src.buffered === 0) throw this.#src.truncated(this.#layer, 'entry body', this.#remaining);
  }

  /**
   * Marks the body stale and, when the unread rest is buffered, skips it (feeding `onData`)
   * synchronously: returns true. Returns false when `finish()` must still be awaited for the
   * rest. Hot path: readers call it before the next header.
   */
  finishBuffered(): boolean {
    this.#stale = true;
    const src = this.#src;
    if (this.#remaining > src.buffered) return false;
    if (this.#onData === undefined) {
      src.drop(this.#remaining);
    } else {
      while (this.#remaining > 0) {
        const c = src.takeChunk(this.#remaining)!;
        this.#remaining -= c.length;
        this.#onData(c);
      }
    }
    this.#remaining = 0;
    return true;
  }

  /** Skips the unread rest (feeding `onData` if set) and marks the body stale. */
  async finish(): Promise<void> {
    this.#stale = true;
    if (this.#remaining === 0) return;
    if (this.#onData) {
      while (this.#remaining > 0) await this.#nextChunk('entry body');
    } else {
      const n = this.#remaining;
      this.#remaining = 0;
      await this.#src.skip(n, this.#layer, 'entry body');
    }
  }
}

/** An empty body (directories, links, devices). */
export const EMPTY_BODY: AsyncIterable<Buffer> = {
  [Symbol.asyncIterator]: async function* () {
    /* nothing */
  },
};
