/**
 * zip detection bid (formats.md §1): pure, over the peeked head of the stream.
 *
 *   `PK\3\4` at 0 with sane fields (version needed, reserved flag bits clear, a known method,
 *   a name of plausible length without NUL)      → 48 bits, variant `zip` (or `zip64`)
 *   `PK\7\8` or `PK00` spanning marker, then a local header at 4       → the same, + 8 bits
 *   `PK\5\6` at 0 describing an empty archive                         → 40 bits, `zip`
 *   a sane local header at a later offset inside the head (prefix junk,
 *   a small self-extractor stub)                                     → 12 bits, `sfx`
 *
 * A self-extractor whose stub is longer than the head is only found through its end record,
 * which needs random access: detection sees the head only, so it is not recognised here.
 */

import type { FormatBid } from '../format.js';
import { EOCD, EXTRA, FLAG, LOCAL, METHOD_NAMES, SIG, U32_MAX, u16, u32 } from './header.js';

/** Longest name a plausible first entry has (PATH_MAX on most systems). */
const MAX_FIRST_NAME = 4096;
/** Highest "version needed to extract" in APPNOTE 6.3.10 (6.3). */
const MAX_VERSION_NEEDED = 63;

const LOCAL_MAGIC = Buffer.from([0x50, 0x4b, 0x03, 0x04]);

export function bidZip(head: Buffer): FormatBid | null {
  if (head.length < 4) return null;
  const sig = u32(head, 0);
  if (sig === SIG.LOCAL) return bidLocal(head, 0);
  if ((sig === SIG.DESCRIPTOR || sig === SIG.SPAN_TEMP) && head.length >= 8 && u32(head, 4) === SIG.LOCAL) {
    const b = bidLocal(head, 4);
    return b === null ? null : { bits: b.bits + 8, variant: b.variant };
  }
  if (sig === SIG.EOCD) return bidEmpty(head);
  // Prefix junk or a small self-extractor stub: a sane local header later in the head.
  for (let i = head.indexOf(LOCAL_MAGIC, 1); i > 0; i = head.indexOf(LOCAL_MAGIC, i + 1)) {
    if (bidLocal(head, i) !== null) return { bits: 12, variant: 'sfx' };
  }
  return null;
}

/** Bits verified in the local header at `at`, or null when it is not a sane one. */
function bidLocal(head: Buffer, at: number): FormatBid | null {
  if (head.length < at + LOCAL.size) return head.length - at >= 4 ? { bits: 32, variant: 'zip' } : null;
  let bits = 32;
  const version = u16(head, at + LOCAL.versionNeeded.offset) & 0xff;
  if (version > MAX_VERSION_NEEDED) return null;
  bits += 4;
  const flags = u16(head, at + LOCAL.flags.offset);
  if ((flags & FLAG.RESERVED) !== 0) return null;
  bits += 4;
  const method = u16(head, at + LOCAL.method.offset);
  if (METHOD_NAMES[method] === undefined) return null;
  bits += 4;
  const nameLength = u16(head, at + LOCAL.nameLength.offset);
  if (nameLength === 0 || nameLength > MAX_FIRST_NAME) return null;
  const nameStart = at + LOCAL.size;
  const visible = head.subarray(nameStart, Math.min(head.length, nameStart + nameLength));
  if (visible.includes(0)) return null;
  bits += 4;
  let variant = 'zip';
  const usize = u32(head, at + LOCAL.uncompressedSize.offset);
  const csize = u32(head, at + LOCAL.compressedSize.offset);
  if (usize === U32_MAX || csize === U32_MAX || hasZip64Extra(head, nameStart + nameLength, u16(head, at + LOCAL.extraLength.offset))) {
    variant = 'zip64';
  }
  return { bits, variant };
}

function hasZip64Extra(head: Buffer, start: number, length: number): boolean {
  const end = Math.min(head.length, start + length);
  for (let p = start; p + 4 <= end; p += 4 + u16(head, p + 2)) {
    if (u16(head, p) === EXTRA.ZIP64) return true;
  }
  return false;
}

/** An end record at 0: an empty archive (every count, size and offset zero). */
function bidEmpty(head: Buffer): FormatBid | null {
  if (head.length < EOCD.size) return null;
  for (let i = 4; i < EOCD.commentLength.offset; i++) if (head[i] !== 0) return null;
  const commentLength = u16(head, EOCD.commentLength.offset);
  const end = EOCD.size + commentLength;
  // The comment ends the archive: nothing may follow it. A head shorter than what detection
  // asks for (1024 bytes) is the whole stream, so then the comment must end exactly there.
  if (end < head.length || (head.length < 1024 && end !== head.length)) return null;
  return { bits: 40, variant: 'zip' };
}
