/**
 * An archive format reader: recognised by content (`bid`), then read as one Entry stream.
 *
 * `read` is an async generator over a ByteSource positioned at the first header byte. It
 * yields one Entry at a time; when the consumer asks for the next one, the reader skips the
 * unread rest of the previous body (BodyCursor.finish). Meta records are consumed inside the
 * reader and only counted in `stats`.
 */

import type { Entry } from '../entry/entry.js';
import type { WarningHandler } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';
import type { RandomAccess } from '../io/random-access.js';

export type FormatName = 'cpio' | 'tar' | 'ufsdump' | 'zip' | 'directory';

export interface FormatBid {
  /** Bits verified; the highest bid over all formats, filters and envelopes wins. */
  bits: number;
  /** Sub-format as far as the first header tells (`newc`, `bin-be`, `ustar`, `gnu`, `v7`...). */
  variant: string;
}

/** Counters of records kept out of the tree and other reader facts, for the log and `inspect`. */
export interface ReaderStats {
  entries: number;
  /** Meta records consumed, by kind: `pax-x`, `pax-g`, `solaris-X`, `solaris-acl`, `solaris-xattr`, `gnu-longname`... */
  metaRecords: Record<string, number>;
  /** Bytes of the format stream consumed up to the end-of-archive marker. */
  bytesRead: number;
  /** The variant as finally observed (a tar bid as `ustar` may turn out to be `pax`). */
  variant: string;
}

export interface FormatReadOptions {
  onWarning: WarningHandler;
  /** Largest meta record (pax header, GNU long name, ACL text) accepted; default 1 MiB. */
  maxMetaSize?: number;
  signal?: AbortSignal;
  /**
   * Random access to the same bytes as `src`, from offset 0, when the input is a plain file
   * with no filter or envelope around the format (zip reads its central directory with it).
   */
  randomAccess?: RandomAccess;
}

export interface FormatReader {
  readonly name: FormatName;
  bid(head: Buffer): FormatBid | null;
  read(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry>;
}

export function newStats(variant: string): ReaderStats {
  return { entries: 0, metaRecords: {}, bytesRead: 0, variant };
}

export function countMeta(stats: ReaderStats, kind: string): void {
  stats.metaRecords[kind] = (stats.metaRecords[kind] ?? 0) + 1;
}

export const DEFAULT_MAX_META_SIZE = 1024 * 1024;
