/**
 * ByteSource: a pull reader over an async iterable of byte chunks, with peek.
 *
 * Every layer above io (detection, filters, envelopes, format readers) reads through one of
 * these. State: a queue of unread chunks (`#chunks`, the first one consumed from `#head`),
 * the count of buffered bytes, the absolute position of the next unread byte, and an EOF flag
 * set once the underlying iterator is exhausted.
 *
 * Invariants: `#buffered` is the sum of unread bytes in `#chunks`; `#chunks[0]` is never
 * empty past `#head`; `position` only grows. Reads that can be served from the buffer are
 * synchronous (the hot path for small headers); `fill(n)` awaits more chunks only when needed.
 * Buffers handed out are views into the source chunks (zero copy) unless a read spans two
 * chunks, in which case the span is concatenated once and kept as the new head chunk.
 *
 * Callers must not keep a returned view past the next read if they mutate it; the source never
 * mutates chunks itself.
 */

import { formatError } from '../errors.js';
import type { RandomAccess } from './random-access.js';

/** Layers that are compression filters: their truncation is FILTER_TRUNCATED. */
const FILTER_LAYERS = new Set(['gzip', 'bzip2', 'xz', 'lzma', 'compress', 'zstd']);

export type ChunkIterable = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export class ByteSource {
  /** Layer name used in error messages (`input`, `gzip`, `compress`...). */
  readonly layer: string;
  #iter: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  /** Seekable mode (a plain file): chunks are read at #filePos; a long skip seeks instead of reading. */
  #ra: RandomAccess | null = null;
  #filePos = 0;
  #prefetch: { pos: number; data: Promise<Buffer> } | null = null;
  #chunks: Buffer[] = [];
  #head = 0;
  #buffered = 0;
  #position = 0;
  #eof = false;

  constructor(input: ChunkIterable, layer = 'input') {
    this.layer = layer;
    const anyInput = input as AsyncIterable<Uint8Array> & Iterable<Uint8Array>;
    this.#iter =
      typeof anyInput[Symbol.asyncIterator] === 'function'
        ? anyInput[Symbol.asyncIterator]()
        : anyInput[Symbol.iterator]();
  }

  /** Absolute offset of the next unread byte in this layer's stream. */
  get position(): number {
    return this.#position;
  }

  /** Bytes buffered and readable without waiting. */
  get buffered(): number {
    return this.#buffered;
  }

  /** True once the underlying iterator is exhausted (buffered bytes may remain). */
  get ended(): boolean {
    return this.#eof;
  }

  /**
   * A source over a plain file that skips by seeking: listing an uncompressed archive then reads
   * only the headers of large members (bsdtar does the same with lseek). One chunk is read
   * ahead so I/O overlaps with parsing.
   */
  static fromRandomAccess(ra: RandomAccess, layer = 'input', chunk = 1024 * 1024): ByteSource {
    const src = new ByteSource([], layer);
    src.#ra = ra;
    src.#chunkSize = chunk;
    return src;
  }

  #chunkSize = 1024 * 1024;

  #readAt(pos: number): Promise<Buffer> {
    if (this.#prefetch && this.#prefetch.pos === pos) {
      const d = this.#prefetch.data;
      this.#prefetch = null;
      return d;
    }
    return this.#ra!.read(pos, this.#chunkSize);
  }

  async #pullSeekable(): Promise<boolean> {
    const ra = this.#ra!;
    if (this.#filePos >= ra.size) {
      this.#eof = true;
      return false;
    }
    const b = await this.#readAt(this.#filePos);
    if (b.length === 0) {
      this.#eof = true;
      return false;
    }
    this.#filePos += b.length;
    if (this.#filePos < ra.size) {
      const pos = this.#filePos;
      const data = ra.read(pos, this.#chunkSize);
      data.catch(() => {}); // an unused prefetch must not become an unhandled rejection
      this.#prefetch = { pos, data };
    }
    this.#chunks.push(b);
    this.#buffered += b.length;
    return true;
  }

  /** Pulls one more chunk. Returns false at EOF. */
  async #pull(): Promise<boolean> {
    if (this.#eof) return false;
    if (this.#ra) return this.#pullSeekable();
    for (;;) {
      const r = await this.#iter.next();
      if (r.done) {
        this.#eof = true;
        return false;
      }
      const v = r.value;
      if (v.length === 0) continue;
      const b = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.length);
      this.#chunks.push(b);
      this.#buffered += b.length;
      return true;
    }
  }

  /** Ensures at least `n` bytes are buffered, or EOF. Resolves to the number buffered. */
  async fill(n: number): Promise<number> {
    while (this.#buffered < n) {
      if (!(await this.#pull())) break;
    }
    return this.#buffered;
  }

  /**
   * Makes the first `n` buffered bytes contiguous in `#chunks[0]` (n <= buffered). Only the
   * bytes needed are copied: the rest of the last chunk touched stays a separate view, so a
   * small header straddling two 1 MiB chunks copies a few hundred bytes, not a megabyte.
   */
  #coalesce(n: number): void {
    const first = this.#chunks[0]!;
    if (first.length - this.#head >= n) return;
    const merged = Buffer.allocUnsafe(n);
    let got = 0;
    let i = 0;
    let off = this.#head;
    let tail: Buffer | null = null;
    while (got < n) {
      const c = this.#chunks[i]!;
      const avail = c.length - off;
      const k = Math.min(avail, n - got);
      c.copy(merged, got, off, off + k);
      got += k;
      if (k < avail) tail = c.subarray(off + k);
      i++;
      off = 0;
    }
    if (tail) this.#chunks.splice(0, i, merged, tail);
    else this.#chunks.splice(0, i, merged);
    this.#head = 0;
  }

  /**
   * Returns up to `n` buffered bytes without consuming them (sync; call `fill` first).
   * The result is shorter than `n` only when fewer bytes are buffered.
   */
  peek(n: number): Buffer {
    const m = Math.min(n, this.#buffered);
    if (m === 0) return Buffer.alloc(0);
    this.#coalesce(m);
    return this.#chunks[0]!.subarray(this.#head, this.#head + m);
  }

  /** Consumes exactly `n` buffered bytes (sync; `n` must be <= buffered). */
  take(n: number): Buffer {
    if (n > this.#buffered) throw new RangeError(`take(${n}) with only ${this.#buffered} buffered`);
    if (n === 0) return Buffer.alloc(0);
    this.#coalesce(n);
    const first = this.#chunks[0]!;
    const out = first.subarray(this.#head, this.#head + n);
    this.#advance(n);
    return out;
  }

  /**
   * Consumes up to `n` buffered bytes without creating any view (sync); returns how many were
   * dropped. Readers skip padding and unread bodies with it (hot path).
   */
  drop(n: number): number {
    const k = Math.min(n, this.#buffered);
    if (k > 0) this.#advance(k);
    return k;
  }

  /**
   * Consumes and returns at most `max` bytes from the first buffered chunk (zero copy), or
   * null when nothing is buffered. Used to stream entry bodies without concatenation.
   */
  takeChunk(max: number): Buffer | null {
    if (this.#buffered === 0 || max <= 0) return null;
    const first = this.#chunks[0]!;
    const avail = first.length - this.#head;
    const n = Math.min(avail, max);
    const out = first.subarray(this.#head, this.#head + n);
    this.#advance(n);
    return out;
  }

  /**
   * Consumes up to `max` buffered bytes by copying them into `out` at `off` (bounded by the
   * room in `out`); returns how many. No view is handed out: the sink copies small bodies into
   * its write batch (shared memory) with it (hot path).
   */
  takeInto(out: Uint8Array, off: number, max: number): number {
    const want = Math.min(max, this.#buffered, out.length - off);
    let got = 0;
    while (got < want) {
      const first = this.#chunks[0]!;
      const k = Math.min(first.length - this.#head, want - got);
      copyBytes(out, off + got, new Uint8Array(first.buffer, first.byteOffset + this.#head, k));
      got += k;
      this.#advance(k);
    }
    return got;
  }

  /** The first buffered chunk's unread bytes without consuming them (null if none). */
  peekChunk(): Buffer | null {
    if (this.#buffered === 0) return null;
    return this.#chunks[0]!.subarray(this.#head);
  }

  #advance(n: number): void {
    this.#buffered -= n;
    this.#position += n;
    let left = n;
    while (left > 0) {
      const first = this.#chunks[0]!;
      const avail = first.length - this.#head;
      if (left < avail) {
        this.#head += left;
        return;
      }
      left -= avail;
      this.#chunks.shift();
      this.#head = 0;
    }
    if (this.#chunks.length > 0 && this.#chunks[0]!.length === this.#head) {
      this.#chunks.shift();
      this.#head = 0;
    }
  }

  /**
   * Reads exactly `n` bytes, or throws a TRUNCATED error naming `layer` and the offset.
   * `layer` is the format or envelope reading (its name goes in the message).
   */
  async read(n: number, layer: string, what = 'data'): Promise<Buffer> {
    if (this.#buffered < n) await this.fill(n);
    if (this.#buffered < n) throw this.truncated(layer, what, n);
    return this.take(n);
  }

  /** Skips exactly `n` bytes, pulling as needed; throws TRUNCATED when the stream ends first. */
  async skip(n: number, layer: string, what = 'data'): Promise<void> {
    let left = n - this.drop(n);
    if (left > 0 && this.#ra && !this.#eof) {
      // Seek: the skipped bytes are never read.
      const end = this.#filePos + left;
      if (end > this.#ra.size) {
        this.#position += this.#ra.size - this.#filePos;
        this.#filePos = this.#ra.size;
        this.#eof = true;
        throw this.truncated(layer, what, end - this.#ra.size);
      }
      this.#filePos = end;
      this.#position += left;
      return;
    }
    while (left > 0) {
      if (!(await this.#pull())) throw this.truncated(layer, what, left);
      left -= this.drop(left);
    }
  }

  /** True when no byte is left (pulls once if the buffer is empty). */
  async atEnd(): Promise<boolean> {
    if (this.#buffered > 0) return false;
    return !(await this.#pull());
  }

  /** Builds the truncation error for a read of `wanted` bytes at the current position. */
  truncated(layer: string, what: string, wanted: number) {
    const code = FILTER_LAYERS.has(layer) ? 'FILTER_TRUNCATED' : layer === 'flar' ? 'ENVELOPE_TRUNCATED' : 'FORMAT_TRUNCATED';
    return formatError(
      code,
      layer,
      `unexpected end of data in ${what} (needed ${wanted} more bytes, stream ends at byte ${this.#position + this.#buffered})`,
      this.#position,
      'the archive is truncated',
    );
  }

  /**
   * Hands the unread rest of the stream over as an async iterable (for a filter or an
   * envelope payload). The source must not be read otherwise afterwards.
   */
  async *rest(): AsyncGenerator<Buffer> {
    while (this.#buffered > 0) {
      const c = this.takeChunk(Number.MAX_SAFE_INTEGER)!;
      yield c;
    }
    for (;;) {
      if (!(await this.#pull())) return;
      const c = this.takeChunk(Number.MAX_SAFE_INTEGER)!;
      yield c;
    }
  }

  /**
   * Puts bytes back in front of the unread data (a decoder that consumed past the end of its
   * stream returns the excess). `position` moves back by the same amount.
   */
  unread(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.#head > 0) {
      this.#chunks[0] = this.#chunks[0]!.subarray(this.#head);
      this.#head = 0;
    }
    this.#chunks.unshift(bytes);
    this.#buffered += bytes.length;
    this.#position -= bytes.length;
  }

  /** Stops the underlying iterator (closes files, destroys decompressors). */
  async close(): Promise<void> {
    this.#eof = true;
    this.#chunks = [];
    this.#buffered = 0;
    const it = this.#iter as AsyncIterator<Uint8Array>;
    if (typeof it.return === 'function') {
      try {
        await it.return();
      } catch {
        // closing a failed stream reports nothing new
      }
    }
  }
}

/**
 * Copies `src` into `out` at `off` with one native memcpy. Buffer#fill with a value exactly as
 * long as the range is a single memcpy, whatever memory `out` lives in; TypedArray#set into a
 * SharedArrayBuffer goes through V8's relaxed (race-tolerant) word-by-word copy instead,
 * several times slower: it was a tenth of the main thread's time when extracting an image
 * (hot path).
 */
export function copyBytes(out: Uint8Array, off: number, src: Uint8Array): void {
  if (src.length > 0) Buffer.prototype.fill.call(out, src, off, off + src.length);
}
