/**
 * A compression filter: recognised by content (`bid`), peeled by `open`.
 *
 * Filters are peeled in a loop by the pipeline (a flar may hold a .Z, a .Z may hold a gzip):
 * after each one the decoded stream is bid on again. No format parser ever sniffs compression.
 */

import type { WarningHandler } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';

export type FilterName = 'gzip' | 'bzip2' | 'xz' | 'lzma' | 'compress' | 'zstd';

export interface FilterContext {
  /** Receives non-fatal findings (trailing garbage after a gzip stream...). */
  onWarning: WarningHandler;
  /** Aborts decoding; the output iterable then throws ABORTED. */
  signal?: AbortSignal;
  /**
   * Decode zstd, bzip2, xz and lzma-alone with the reference program (`zstd -dc`, `bzip2 -dc`,
   * `xz -dc`) in a child process when it is on PATH (src/filters/external-decoder.ts).
   * Default true; false, or ZONEP2V_EXTERNAL_DECODERS=0 in the environment, keeps decoding
   * in process.
   */
  externalDecoders?: boolean;
  /** Name of the input for messages (a path, or `standard input`). */
  name?: string;
}

export interface Filter {
  readonly name: FilterName;
  /**
   * Returns roughly the number of bits of `head` the filter verified (0 = not mine).
   * `head` holds the first bytes of the stream (up to 1 KiB; less at EOF). Pure.
   */
  bid(head: Buffer): number;
  /** Decodes `input` (the whole compressed stream, from its first byte) into plain chunks. */
  open(input: ChunkIterable, ctx: FilterContext): AsyncIterable<Buffer>;
}
