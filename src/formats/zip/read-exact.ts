/**
 * Reads of fixed-size zip records (headers, names, end records) from a ByteSource, with the
 * truncation error pointing at the byte where the data ends and naming the record.
 */

import type { ByteSource } from '../../io/byte-source.js';
import { zipError } from './zip-error.js';

/** Exactly `n` bytes (a view; copy what must outlive the next read) or FORMAT_TRUNCATED. */
export async function readExact(src: ByteSource, n: number, what: string): Promise<Buffer> {
  if (src.buffered < n) await src.fill(n);
  if (src.buffered < n) {
    const end = src.position + src.buffered;
    throw zipError(
      'FORMAT_TRUNCATED',
      `unexpected end of data at byte ${end} in the ${what} (needed ${n - src.buffered} more bytes)`,
      end,
      'the archive is truncated',
    );
  }
  return src.take(n);
}
