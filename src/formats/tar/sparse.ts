/**
 * Sparse files in tar (formats.md §4.5, §4.9; GNU tar manual "Sparse Formats").
 *
 * GNU sparse members store only their data runs; the reader expands them back to the whole
 * file, holes as zero bytes, so an Entry's body always delivers `size` = real-size bytes:
 *   - old GNU `S` typeflag: map of (offset, numbytes) pairs at header offset 386, continued
 *     in 512-byte extension blocks (21 pairs each) while `isextended` is set;
 *   - pax 0.0: repeated `GNU.sparse.offset` / `GNU.sparse.numbytes` records;
 *   - pax 0.1: `GNU.sparse.map=off,len,off,len...`;
 *   - pax 1.0: a decimal text map at the start of the body (count, then offset/length lines),
 *     padded to 512 bytes, followed by the data runs.
 * Solaris `SUN.holesdata` is different: the body already holds the whole file with zero-filled
 * holes; its map is only parsed into `extra.sparseMap` as a hint.
 *
 * Maps are validated before the entry is handed out (ascending, non-overlapping runs inside the
 * real size, run lengths summing to the stored data) so that expansion cannot desynchronise the
 * stream. `extra.sparseMap` lists the non-empty data runs as [offset, length].
 */

import { BodyCursor } from '../../entry/body-cursor.js';
import { ZoneP2vError, formatError } from '../../errors.js';
import type { ByteSource } from '../../io/byte-source.js';
import {
  BLOCK_SIZE,
  GNU_EXT_ISEXTENDED_OFF,
  GNU_EXT_SPARSE_COUNT,
  GNU_ISEXTENDED_OFF,
  GNU_SPARSE_COUNT,
  GNU_SPARSE_ENTRY_LEN,
  GNU_SPARSE_NUM_LEN,
  GNU_SPARSE_OFF,
  parseNumeric,
} from './header.js';
import { parsePaxInteger, type PaxRecord } from './pax.js';

export type SparseMap = Array<[number, number]>;

const LAYER = 'tar';

function corrupt(what: string, offset: number): ZoneP2vError {
  return formatError('FORMAT_CORRUPT', LAYER, what, offset, 'the archive is corrupt');
}

/**
 * Checks a flat [offset, length, offset, length...] run list against the real size and the
 * number of stored data bytes, and returns it as pairs without the empty runs (GNU ends maps
 * of files with a trailing hole with a zero-length run at the real size). Throws FORMAT_CORRUPT.
 */
export function checkSparseRuns(flat: readonly number[], realSize: number, stored: number, offset: number): SparseMap {
  const map: SparseMap = [];
  let end = 0;
  let sum = 0;
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const off = flat[i]!;
    const len = flat[i + 1]!;
    if (!(off >= end) || !(len >= 0) || off + len > realSize) {
      throw corrupt(`sparse map run ${i / 2} (${off}, ${len}) is out of order or past the real size ${realSize}`, offset);
    }
    end = off + len;
    sum += len;
    if (len > 0) map.push([off, len]);
  }
  if (sum !== stored) {
    throw corrupt(`sparse map describes ${sum} data bytes but the entry stores ${stored}`, offset);
  }
  return map;
}

/** Reads the pairs of an old GNU sparse header or extension block into `out`; returns `isextended`. */
function readGnuPairs(h: Uint8Array, first: number, count: number, out: number[], offset: number): void {
  for (let i = 0; i < count; i++) {
    const at = first + i * GNU_SPARSE_ENTRY_LEN;
    if (h[at] === 0 && h[at + GNU_SPARSE_NUM_LEN] === 0) return;
    const off = parseNumeric(h, at, GNU_SPARSE_NUM_LEN, true);
    const len = parseNumeric(h, at + GNU_SPARSE_NUM_LEN, GNU_SPARSE_NUM_LEN, true);
    if (!Number.isFinite(off) || !Number.isFinite(len) || off < 0 || len < 0) {
      throw corrupt('invalid old GNU sparse map entry', offset);
    }
    out.push(off, len);
  }
}

/**
 * Old GNU `S` member: the map in the header, then extension blocks read from `src` while
 * `isextended` is set (at most `limit` bytes of them, LIMIT_META_SIZE beyond).
 */
export async function readOldGnuSparse(h: Uint8Array, src: ByteSource, limit: number, offset: number): Promise<number[]> {
  const flat: number[] = [];
  readGnuPairs(h, GNU_SPARSE_OFF, GNU_SPARSE_COUNT, flat, offset);
  let extended = h[GNU_ISEXTENDED_OFF] !== 0;
  let extBytes = 0;
  while (extended) {
    extBytes += BLOCK_SIZE;
    if (extBytes > limit) {
      throw formatError(
        'LIMIT_META_SIZE',
        LAYER,
        `old GNU sparse map extension blocks exceed the meta record limit of ${limit} bytes`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
    const at = src.position;
    const ext = await src.read(BLOCK_SIZE, LAYER, 'sparse extension block');
    readGnuPairs(ext, 0, GNU_EXT_SPARSE_COUNT, flat, at);
    extended = ext[GNU_EXT_ISEXTENDED_OFF] !== 0;
  }
  return flat;
}

/** pax 0.1: `GNU.sparse.map` = comma-separated decimal offset,length pairs. */
export function parseSparseMap01(v: Buffer, offset: number): number[] {
  const flat: number[] = [];
  let x = 0;
  let digits = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v[i]! : 0x2c;
    if (c >= 0x30 && c <= 0x39) {
      x = x * 10 + (c - 0x30);
      digits++;
      if (x > Number.MAX_SAFE_INTEGER) throw corrupt('GNU.sparse.map value too large', offset);
    } else if (c === 0x2c && digits > 0) {
      flat.push(x);
      x = 0;
      digits = 0;
    } else {
      throw corrupt('malformed GNU.sparse.map', offset);
    }
  }
  if (flat.length % 2 !== 0) throw corrupt('GNU.sparse.map has an odd number of values', offset);
  return flat;
}

/** pax 0.0: the `GNU.sparse.offset` / `GNU.sparse.numbytes` records, in order. */
export function sparseMap00(records: readonly PaxRecord[], offset: number): number[] {
  const flat: number[] = [];
  for (const r of records) {
    const isOff = r.key === 'GNU.sparse.offset';
    if (!isOff && r.key !== 'GNU.sparse.numbytes') continue;
    // Offsets sit at even positions, lengths at odd ones; anything else is out of order.
    if (isOff !== (flat.length % 2 === 0)) throw corrupt('GNU sparse 0.0 offset/numbytes records out of order', offset);
    const n = parsePaxInteger(r.value);
    if (!(n >= 0) || n === Number.POSITIVE_INFINITY) throw corrupt(`invalid ${r.key} value`, offset);
    flat.push(n);
  }
  if (flat.length % 2 !== 0) throw corrupt('GNU sparse 0.0 map ends with an offset and no numbytes', offset);
  return flat;
}

/**
 * pax 1.0: reads the text map at the start of the body (whole 512-byte blocks, at most `limit`
 * bytes and at most `stored` bytes). Returns the flat run list and the bytes consumed.
 */
export async function readSparseMap10(
  src: ByteSource,
  stored: number,
  limit: number,
  offset: number,
): Promise<{ flat: number[]; consumed: number }> {
  const flat: number[] = [];
  let count = -1;
  let x = 0;
  let digits = 0;
  let consumed = 0;
  for (;;) {
    if (consumed + BLOCK_SIZE > stored) throw corrupt('GNU sparse 1.0 map runs past the entry data', offset);
    if (consumed + BLOCK_SIZE > limit) {
      throw formatError(
        'LIMIT_META_SIZE',
        LAYER,
        `GNU sparse 1.0 map exceeds the meta record limit of ${limit} bytes`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
    const b = await src.read(BLOCK_SIZE, LAYER, 'sparse map');
    consumed += BLOCK_SIZE;
    for (let i = 0; i < BLOCK_SIZE; i++) {
      const c = b[i]!;
      if (c >= 0x30 && c <= 0x39) {
        x = x * 10 + (c - 0x30);
        digits++;
        if (x > Number.MAX_SAFE_INTEGER) throw corrupt('GNU sparse 1.0 map value too large', offset);
        continue;
      }
      if (c !== 0x0a || digits === 0) throw corrupt('malformed GNU sparse 1.0 map', offset);
      if (count < 0) count = x;
      else flat.push(x);
      x = 0;
      digits = 0;
      if (flat.length === count * 2) return { flat, consumed };
    }
  }
}

/**
 * Solaris `SUN.holesdata` (formats.md §4.5): " data hole data hole ..." start offsets, the last
 * number being the file size. Returns the data runs, or null when the value is malformed (the
 * body holds the whole file anyway, so the reader only warns).
 */
export function parseHolesdata(v: Buffer, size: number): SparseMap | null {
  const nums: number[] = [];
  let x = 0;
  let digits = 0;
  for (let i = 0; i <= v.length; i++) {
    const c = i < v.length ? v[i]! : 0x20;
    if (c >= 0x30 && c <= 0x39) {
      x = x * 10 + (c - 0x30);
      digits++;
      if (x > Number.MAX_SAFE_INTEGER) return null;
    } else if (c === 0x20) {
      if (digits > 0) nums.push(x);
      x = 0;
      digits = 0;
    } else {
      return null;
    }
  }
  const map: SparseMap = [];
  let prev = 0;
  for (let i = 0; i < nums.length; i += 2) {
    const data = nums[i]!;
    const hole = i + 1 < nums.length ? nums[i + 1]! : size;
    if (data < prev || hole < data || hole > size) return null;
    if (hole > data) map.push([data, hole - data]);
    prev = hole;
  }
  return map;
}

const ZERO_CHUNK = 64 * 1024;

/**
 * The expanded body of a GNU sparse member: the stored data runs read through a BodyCursor,
 * holes delivered as zero-filled chunks (fresh buffers, so a consumer may modify them).
 * Same contract as BodyCursor: `finish()` skips the unread stored data and makes the iterable
 * stale.
 */
export class SparseBody {
  readonly #cursor: BodyCursor;
  readonly #map: SparseMap;
  readonly #realSize: number;
  readonly #offset: number;
  #stale = false;
  #reading = false;

  constructor(cursor: BodyCursor, map: SparseMap, realSize: number, offset: number) {
    this.#cursor = cursor;
    this.#map = map;
    this.#realSize = realSize;
    this.#offset = offset;
  }

  get iterable(): AsyncIterable<Buffer> {
    return { [Symbol.asyncIterator]: () => this.#iterate() };
  }

  async *#iterate(): AsyncGenerator<Buffer> {
    if (this.#stale) {
      throw new ZoneP2vError('ENTRY_BODY_STALE', `${LAYER}: entry body read after the next entry was requested`, {
        layer: LAYER,
        severity: 'fatal',
      });
    }
    if (this.#reading) throw new Error('entry body is already being read');
    this.#reading = true;
    const it = this.#cursor.iterable[Symbol.asyncIterator]();
    try {
      let pos = 0;
      let pending: Buffer | null = null;
      for (const [off, len] of this.#map) {
        while (pos < off) {
          const n = Math.min(ZERO_CHUNK, off - pos);
          yield Buffer.alloc(n);
          if (this.#stale) return;
          pos += n;
        }
        let left = len;
        while (left > 0) {
          if (pending === null) {
            const r = await it.next();
            if (this.#stale) return;
            if (r.done) throw corrupt('sparse data ends before its map', this.#offset);
            pending = r.value;
          }
          let out: Buffer;
          if (pending.length <= left) {
            out = pending;
            pending = null;
          } else {
            out = pending.subarray(0, left);
            pending = pending.subarray(left);
          }
          left -= out.length;
          pos += out.length;
          yield out;
          if (this.#stale) return;
        }
      }
      while (pos < this.#realSize) {
        const n = Math.min(ZERO_CHUNK, this.#realSize - pos);
        yield Buffer.alloc(n);
        if (this.#stale) return;
        pos += n;
      }
    } finally {
      this.#reading = false;
      await it.return?.();
    }
  }

  /** Skips the unread stored data and marks the body stale. */
  async finish(): Promise<void> {
    this.#stale = true;
    await this.#cursor.finish();
  }
}
