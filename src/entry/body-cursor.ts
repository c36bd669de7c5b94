/**
 * BodyCursor: the body of one entry, read straight from the shared ByteSource.
 *
 * A reader creates one per entry, hands `cursor.iterable` out as `entry.body`, and when the
 * consumer asks for the next entry calls `finish()`, which skips whatever was not read (readers
 * never demand draining). After `finish()` the iterable is stale: iterating it throws
 * ENTRY_BODY_STALE instead of silently returning another entry's bytes.
 *
 * `onData` sees every body byte exactly once, whether the consumer read it or `finish()`
 * skipped it; readers use it for checksums (cpio crc, zip CRC-32) so that verification does not
 * depend on whether the caller looked at the data. When `onData` is absent, skipping does not
 * inspect the bytes at all (hot path for `list`).
 */

import { ZoneP2vError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';

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

  async *#iterate(): AsyncGenerator<Buffer> {
    if (this.#stale) {
      throw new ZoneP2vError(
        'ENTRY_BODY_STALE',
        `${this.#layer}: entry body read after the next entry was requested`,
        { layer: this.#layer, severity: 'fatal' },
      );
    }
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
