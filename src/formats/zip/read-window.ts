/**
 * A one-block read cache over RandomAccess, for the random-access zip reader.
 *
 * Entries are usually listed in the order their local headers lie in the file, and most are
 * small: reading a 256 KiB block once serves the local headers (and bodies) of every entry in
 * it, instead of one positioned read per header (each a round trip through the thread pool).
 * State: the last block read and its file position. Blocks are replaced, never mutated, so
 * views handed out stay valid; callers copy what they keep (names) so an entry does not pin a
 * block.
 */

import type { RandomAccess } from '../../io/random-access.js';

const BLOCK = 256 * 1024;
/** Bodies at least this large are streamed from the file in big reads, not through the block. */
const DIRECT_BODY = 128 * 1024;
const STREAM_CHUNK = 1024 * 1024;

export class ReadWindow {
  readonly #ra: RandomAccess;
  #pos = 0;
  #block: Buffer = Buffer.alloc(0);

  constructor(ra: RandomAccess) {
    this.#ra = ra;
  }

  get size(): number {
    return this.#ra.size;
  }

  /** Up to `length` bytes at `position` (shorter only at the end of the file). */
  async read(position: number, length: number): Promise<Buffer> {
    const off = position - this.#pos;
    if (off >= 0 && off + length <= this.#block.length) return this.#block.subarray(off, off + length);
    const want = Math.min(Math.max(length, BLOCK), Math.max(0, this.#ra.size - position));
    this.#block = await this.#ra.read(position, want);
    this.#pos = position;
    return this.#block.subarray(0, Math.min(length, this.#block.length));
  }

  /** `length` bytes at `position` as chunks: from the block when it holds them. */
  async *stream(position: number, length: number): AsyncGenerator<Buffer> {
    if (length === 0) return;
    const off = position - this.#pos;
    if (off >= 0 && off + length <= this.#block.length) {
      yield this.#block.subarray(off, off + length);
      return;
    }
    if (length < DIRECT_BODY) {
      yield await this.read(position, length);
      return;
    }
    // Large bodies: 1 MiB reads, the next one already under way while this one is consumed.
    let pos = position;
    let left = length;
    let next: Promise<Buffer> | null = this.#ra.read(pos, Math.min(STREAM_CHUNK, left));
    while (next !== null) {
      const b: Buffer = await next;
      next = null;
      if (b.length === 0) return;
      pos += b.length;
      left -= b.length;
      if (left > 0) {
        next = this.#ra.read(pos, Math.min(STREAM_CHUNK, left));
        next.catch(() => {}); // consumed (or dropped with the body) later; never unhandled
      }
      yield b;
    }
  }
}
