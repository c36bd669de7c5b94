/** Options, events and the report of `extract()` (src/sink/extract.ts). */

import type { EntryType } from '../entry/entry.js';
import type { WarningHandler, ZoneP2vError } from '../errors.js';
import type { RefusalCode } from './codes.js';

export interface ExtractOptions {
  /** The destination root. A missing directory is created (with its parents). Required. */
  dest: string;
  /**
   * Accept a destination that exists and is not empty. Default false: such a destination is
   * refused (SINK_EXISTS) before anything is read or written. With true, nothing that existed
   * before the run is ever unlinked or overwritten (creation is O_EXCL; a clash is a refusal)
   * and every path component not created by this run is checked with lstat (slow path).
   */
  allowNonEmpty?: boolean;
  /** Stops the run (ABORTED) between entries and between body chunks. Default: none. */
  signal?: AbortSignal;
  /** Warnings (owners skipped, leading `/` removed, symlink times...). Default: dropped. */
  onWarning?: WarningHandler;
  /** One event per entry outcome (extracted, refused, skipped, replaced). Default: none. */
  onEvent?: (event: ExtractEvent) => void;
  /**
   * Ownership: 'preserve' sets the archive's numeric uid/gid (never mapped through names; an
   * EPERM is then a write failure); 'skip' never changes owners; 'auto' (the default) preserves
   * when the process runs as root and otherwise skips with one warning.
   */
  owners?: 'auto' | 'preserve' | 'skip';
  /**
   * Small files are written by a worker thread with synchronous calls, handed over in batches
   * while the main thread reads on (about 4x less CPU per file than the thread pool). Default
   * true. With false they are written through the libuv thread pool, `concurrency` at a time.
   */
  writerThread?: boolean;
  /**
   * Small files written through the thread pool before the writer thread starts (starting a
   * thread costs ~30 ms, more than a small archive takes). Default 200.
   */
  writerThreadAfter?: number;
  /** Without the writer thread: small-file writes in flight at once. Default 16. */
  concurrency?: number;
  /** Bytes of small-file bodies (and their names) held in memory until written. Default 32 MiB. */
  maxBufferedBytes?: number;
  /**
   * Bodies up to this size are read into memory and written asynchronously while the next
   * entries are read; larger ones are streamed to the file with backpressure. Default 1 MiB.
   */
  smallFileLimit?: number;
  /** Most components of a path (deeper entries are refused with LIMIT_DEPTH). Default 1024. */
  maxDepth?: number;
  /** Most refusals kept in `report.refused` (all are counted in `refusedCount`). Default 10,000. */
  maxRefusalsListed?: number;
}

export const EXTRACT_DEFAULTS = {
  allowNonEmpty: false,
  owners: 'auto',
  writerThread: true,
  writerThreadAfter: 200,
  concurrency: 16,
  maxBufferedBytes: 32 * 1024 * 1024,
  smallFileLimit: 1024 * 1024,
  maxDepth: 1024,
  maxRefusalsListed: 10_000,
} as const;

/** Kinds the sink writes. */
export type WrittenKind = 'file' | 'directory' | 'symlink' | 'hardlink' | 'fifo';

/** Kinds `extract` never creates (DECISIONS §5). Doors never reach the sink: readers drop them. */
export type SkippedKind = 'char-device' | 'block-device' | 'socket';

export interface ExtractRefusal {
  /** The entry path as the archive stores it (raw bytes). */
  path: Buffer;
  type: EntryType;
  code: RefusalCode;
  reason: string;
}

export type ExtractEvent =
  /** Written to disk (for symlinks: in the final phase). `path` is the normalized relative path. */
  | { kind: 'extracted'; path: Buffer; type: EntryType; size: number }
  /** Not written; `path` is the raw entry path. */
  | ({ kind: 'refused' } & ExtractRefusal)
  /** A device node or socket, never created. */
  | { kind: 'skipped'; path: Buffer; type: EntryType }
  /** An earlier entry of this run at the same path (a file, hard link, FIFO or pending symlink) was replaced. */
  | { kind: 'replaced'; path: Buffer; type: EntryType; previous: string };

export interface ExtractReport {
  /** Absolute destination (after resolving symlinks in the name the caller gave). */
  dest: string;
  /** Entries received from the stream. */
  entries: number;
  /** Entries written, by kind (hard links that carried the group data count as hard links). */
  written: Record<WrittenKind, number>;
  /** Parent directories created because the archive did not list them first. */
  implicitDirectories: number;
  /** Body bytes written. */
  bytes: number;
  /** The first `maxRefusalsListed` refusals, in the order they happened. */
  refused: ExtractRefusal[];
  refusedCount: number;
  /** Entries never created, by kind. */
  skipped: Record<SkippedKind, number>;
  /** Entries whose leading `/` was removed. */
  rerooted: number;
  /** Later entries that replaced an earlier one of this run ("last one wins"). */
  replaced: number;
  /** Whether owners were set from the archive. */
  ownersPreserved: boolean;
  warnings: ZoneP2vError[];
}
