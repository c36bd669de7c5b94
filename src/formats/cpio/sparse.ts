/**
 * Solaris cpio sparse files (mode flag C_ISSPARSE, odc and newc only).
 *
 * Layout, from illumos usr/src/cmd/cpio (utils.c get_holes_info / read_holes_header /
 * parse_holesdata, cpio.c gethdr / data_in): the member's data starts with a "holes header",
 * a NUL-terminated decimal text
 *
 *     <holes header size, %10lu> SP <expanded file size, %20llu> SP <data off> SP <hole off> SP ...
 *
 * (the first 32 bytes, MIN_HOLES_HDRSIZE, are fixed width; the size counts the whole text and
 * its NUL), followed by the data runs only, back to back. Each (data, hole) pair is one data run
 * [data, hole); pairs ascend, the last hole offset equals the expanded size, and the header's
 * filesize equals the text size plus the data bytes. cpio writes this only when filesize > 32.
 * formats.md §3.6 marks the layout unverified: there is no public sample, so the tests build
 * archives to this description.
 */

import { ZoneP2vError } from '../../errors.js';
import { MIN_HOLES_HDRSIZE } from './header.js';

export interface HolesPrefix {
  /** Bytes of the whole holes text, NUL included. */
  holesSize: number;
  /** Size of the file once the holes are restored. */
  origSize: number;
}

function isSpace(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d);
}

/**
 * Reads one decimal token like illumos get_ull_tok: leading white space, at least one digit,
 * then a space or the end of the text (NUL). Returns [value, index after the digits] or null.
 */
function token(b: Uint8Array, i: number, end: number): [number, number] | null {
  while (i < end && isSpace(b[i]!)) i++;
  if (i >= end || b[i]! < 0x30 || b[i]! > 0x39) return null;
  let v = 0;
  while (i < end && b[i]! >= 0x30 && b[i]! <= 0x39) {
    v = v * 10 + (b[i]! - 0x30);
    i++;
  }
  if (v > Number.MAX_SAFE_INTEGER) return null;
  if (i < end && b[i] !== 0x20 && b[i] !== 0) return null;
  return [v, i];
}

/** Parses the fixed 32-byte start of the holes header; null when it is malformed. */
export function parseHolesPrefix(b: Uint8Array, filesize: number): HolesPrefix | null {
  const end = Math.min(b.length, MIN_HOLES_HDRSIZE);
  const a = token(b, 0, end);
  if (a === null || a[1] >= end || b[a[1]] !== 0x20) return null;
  const o = token(b, a[1], end);
  if (o === null) return null;
  const holesSize = a[0];
  if (holesSize > filesize || holesSize <= MIN_HOLES_HDRSIZE) return null;
  return { holesSize, origSize: o[0] };
}

/**
 * Parses the rest of the holes text (after the 32-byte prefix, NUL included) into data runs
 * [offset, length] (zero-length runs dropped) and checks it against the sizes. Null when invalid.
 */
export function parseHolesRuns(
  b: Uint8Array,
  prefix: HolesPrefix,
  dataSize: number,
): Array<[number, number]> | null {
  if (b.length === 0 || b[b.length - 1] !== 0) return null;
  const end = b.length - 1;
  const runs: Array<[number, number]> = [];
  let i = 0;
  let last = -1;
  let total = 0;
  while (i < end) {
    const d = token(b, i, end);
    if (d === null || d[1] >= end || b[d[1]] !== 0x20) return null;
    const h = token(b, d[1], end);
    if (h === null) return null;
    const [data, hole] = [d[0], h[0]];
    if (last >= data || data > hole) return null;
    last = hole;
    if (hole > data) runs.push([data, hole - data]);
    total += hole - data;
    i = h[1];
  }
  if (last !== prefix.origSize || total !== dataSize) return null;
  return runs;
}

const ZERO_CHUNK = 64 * 1024;

/**
 * The expanded body: zeros for the holes, the stored runs in between. `data` yields exactly the
 * sum of the run lengths. Each zero chunk is a fresh buffer (consumers may mutate what they get).
 */
export async function* expandSparse(
  data: AsyncIterable<Buffer>,
  runs: ReadonlyArray<readonly [number, number]>,
  size: number,
  layer: string,
): AsyncGenerator<Buffer> {
  const it = data[Symbol.asyncIterator]();
  let pending: Buffer | null = null;
  let pos = 0;
  try {
    for (const [off, len] of runs) {
      for (; pos < off; ) {
        const n = Math.min(ZERO_CHUNK, off - pos);
        pos += n;
        yield Buffer.alloc(n);
      }
      let left = len;
      while (left > 0) {
        if (pending === null || pending.length === 0) {
          const r = await it.next();
          if (r.done) {
            throw new ZoneP2vError('FORMAT_CORRUPT', `${layer}: sparse data ended before its map`, { layer });
          }
          pending = r.value;
        }
        const n = Math.min(left, pending.length);
        const piece = pending.subarray(0, n);
        pending = pending.subarray(n);
        left -= n;
        pos += n;
        yield piece;
      }
    }
    for (; pos < size; ) {
      const n = Math.min(ZERO_CHUNK, size - pos);
      pos += n;
      yield Buffer.alloc(n);
    }
  } finally {
    await it.return?.();
  }
}
