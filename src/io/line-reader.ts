/**
 * Reads `\n`-terminated lines from a ByteSource without buffering more than `keep` bytes of a
 * line: longer lines are consumed whole but only their first `keep` bytes are returned (with
 * `truncated` set). Used by the flar envelope, whose text sections hold lines of any length.
 */

import type { ByteSource } from './byte-source.js';

export interface Line {
  /** The line without its `\n` (at most `keep` bytes). */
  bytes: Buffer;
  /** Offset of the line's first byte in the source. */
  offset: number;
  /** True when the line was longer than `keep`. */
  truncated: boolean;
  /** True when the stream ended before a `\n` (the last, unterminated line). */
  unterminated: boolean;
}

/** Returns the next line, or null at EOF. */
export async function readLine(src: ByteSource, keep: number): Promise<Line | null> {
  const offset = src.position;
  const parts: Buffer[] = [];
  let kept = 0;
  let truncated = false;
  for (;;) {
    let chunk = src.peekChunk();
    if (chunk === null) {
      await src.fill(1);
      chunk = src.peekChunk();
      if (chunk === null) {
        if (offset === src.position) return null;
        return { bytes: Buffer.concat(parts, kept), offset, truncated, unterminated: true };
      }
    }
    const nl = chunk.indexOf(0x0a);
    const len = nl === -1 ? chunk.length : nl;
    const piece = src.take(len);
    if (kept < keep) {
      const k = Math.min(keep - kept, piece.length);
      parts.push(piece.subarray(0, k));
      kept += k;
      if (k < piece.length) truncated = true;
    } else if (piece.length > 0) {
      truncated = true;
    }
    if (nl !== -1) {
      src.take(1);
      return { bytes: Buffer.concat(parts, kept), offset, truncated, unterminated: false };
    }
  }
}
