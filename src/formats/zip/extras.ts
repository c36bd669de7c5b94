/**
 * Extra fields of local and central headers (APPNOTE §4.5, §4.6; Info-ZIP extrafld.txt).
 *
 * An extra field is a list of (id u16, length u16, data) records. Writers pad it (zipalign
 * fills local extras with zero bytes that do not form a whole record), so a record that runs
 * past the end simply ends the list. Only the zip64 record can make a header unreadable: when a
 * 32-bit size or offset is 0xFFFFFFFF its value must be there, and `parseExtras` reports it
 * missing (`zip64Missing`) for the caller to refuse.
 *
 * Recognised: 0x0001 zip64, 0x5455 extended timestamp (UT), 0x7875 Info-ZIP Unix uid/gid (ux),
 * 0x7855 old Info-ZIP uid/gid (Ux, local only), 0x5855 old Info-ZIP Unix (times, uid/gid),
 * 0x000D PKWARE Unix (times, uid/gid, link target or device numbers), 0x7075 Info-ZIP Unicode
 * Path (a UTF-8 name valid only while its CRC-32 matches the header's raw name).
 */

import zlib from 'node:zlib';
import { EXTRA, U16_MAX, U32_MAX, u16, u32, u64 } from './header.js';

export interface ExtraInfo {
  /** A zip64 record was present (its values are applied to `sizes`). */
  zip64: boolean;
  /** A needed zip64 value was missing or above 2^53: the header cannot be read. */
  zip64Missing: boolean;
  /** Modification time (seconds): UT first, then PKWARE Unix, then old Info-ZIP Unix. */
  mtime: number | undefined;
  uid: number | undefined;
  gid: number | undefined;
  /** The UTF-8 name of a valid Unicode Path record (CRC of the raw name matched). */
  unicodePath: Buffer | undefined;
  /** Variable data of the PKWARE Unix record (link target or device numbers), if any. */
  pkwareUnixData: Buffer | undefined;
}

/** The sizes and offset a header declares; zip64 values replace the saturated ones in place. */
export interface HeaderSizes {
  compressedSize: number;
  uncompressedSize: number;
  /** Central headers only (local headers pass -1). */
  localHeaderOffset: number;
  /** Central headers only (local headers pass -1). */
  diskStart: number;
}

interface TimeCandidates {
  ut?: number;
  pkware?: number;
  old?: number;
}

/**
 * Parses `extra[start, end)` belonging to a header whose raw name is `rawName`. `sizes` is
 * updated from the zip64 record. `local` selects the local-header reading of zip64 (both sizes
 * when the record holds 16 bytes, as APPNOTE §4.5.3 requires there) and of the local-only
 * fields of the old Info-ZIP records.
 */
export function parseExtras(
  extra: Uint8Array,
  start: number,
  end: number,
  rawName: Uint8Array,
  sizes: HeaderSizes,
  local: boolean,
): ExtraInfo {
  const info: ExtraInfo = {
    zip64: false,
    zip64Missing: false,
    mtime: undefined,
    uid: undefined,
    gid: undefined,
    unicodePath: undefined,
    pkwareUnixData: undefined,
  };
  const times: TimeCandidates = {};
  let ids: { uid: number; gid: number; rank: number } | null = null;
  const setIds = (uid: number, gid: number, rank: number) => {
    if (ids === null || rank < ids.rank) ids = { uid, gid, rank };
  };
  let sawZip64 = false;

  let p = start;
  while (p + 4 <= end) {
    const id = u16(extra, p);
    const len = u16(extra, p + 2);
    const d = p + 4;
    if (d + len > end) break; // padding or a damaged tail: the list ends here
    switch (id) {
      case EXTRA.ZIP64:
        if (!sawZip64) {
          sawZip64 = true;
          info.zip64 = true;
          applyZip64(extra, d, len, sizes, local, info);
        }
        break;
      case EXTRA.EXTENDED_TIMESTAMP:
        if (len >= 5 && (extra[d]! & 1) !== 0 && times.ut === undefined) {
          times.ut = u32(extra, d + 1) | 0; // signed 32-bit seconds
        }
        break;
      case EXTRA.INFOZIP_UNIX_UX:
        if (len >= 3 && extra[d] === 1) {
          const uidSize = extra[d + 1]!;
          const uid = uintLE(extra, d + 2, uidSize, d + len);
          const gidAt = d + 2 + uidSize;
          if (uid !== null && gidAt < d + len) {
            const gidSize = extra[gidAt]!;
            const gid = uintLE(extra, gidAt + 1, gidSize, d + len);
            if (gid !== null) setIds(uid, gid, 0);
          }
        }
        break;
      case EXTRA.PKWARE_UNIX:
        if (len >= 12) {
          times.pkware ??= u32(extra, d + 4) | 0;
          setIds(u16(extra, d + 8), u16(extra, d + 10), 1);
          if (len > 12) info.pkwareUnixData = Buffer.from(extra.subarray(d + 12, d + len));
        }
        break;
      case EXTRA.INFOZIP_UNIX_OLD:
        if (len >= 8) {
          times.old ??= u32(extra, d + 4) | 0;
          if (local && len >= 12) setIds(u16(extra, d + 8), u16(extra, d + 10), 2);
        }
        break;
      case EXTRA.INFOZIP_UNIX_UID16:
        if (local && len >= 4) setIds(u16(extra, d), u16(extra, d + 2), 1);
        break;
      case EXTRA.UNICODE_PATH:
        // version 1, CRC-32 of the raw name, UTF-8 name (Info-ZIP extrafld.txt, "-Unicode Path").
        if (len > 5 && extra[d] === 1 && info.unicodePath === undefined) {
          if (zlib.crc32(rawName) >>> 0 === u32(extra, d + 1)) {
            info.unicodePath = Buffer.from(extra.subarray(d + 5, d + len));
          }
        }
        break;
      default:
        break;
    }
    p = d + len;
  }

  if (!sawZip64 && needsZip64(sizes)) info.zip64Missing = true;
  info.mtime = times.ut ?? times.pkware ?? times.old;
  const found = ids as { uid: number; gid: number } | null;
  if (found !== null) {
    info.uid = found.uid;
    info.gid = found.gid;
  }
  return info;
}

function needsZip64(s: HeaderSizes): boolean {
  return s.compressedSize === U32_MAX || s.uncompressedSize === U32_MAX || s.localHeaderOffset === U32_MAX || s.diskStart === U16_MAX;
}

/**
 * The zip64 record holds, in this order, the original size, the compressed size, the local
 * header offset and the disk number, each present only when the header's own field is
 * saturated (APPNOTE §4.5.3). A local header must hold both sizes; writers that put only the
 * saturated one there exist too (libarchive's test_read_format_zip_zip64b), so a local record
 * of at least 16 bytes is read as both sizes and a shorter one by the central rule.
 */
function applyZip64(b: Uint8Array, d: number, len: number, s: HeaderSizes, local: boolean, info: ExtraInfo): void {
  let p = d;
  const end = d + len;
  const take8 = (): number => {
    if (p + 8 > end) {
      info.zip64Missing = true;
      return -1;
    }
    const v = u64(b, p);
    p += 8;
    if (v < 0) info.zip64Missing = true;
    return v;
  };
  const bothLocal = local && len >= 16 && (s.uncompressedSize === U32_MAX || s.compressedSize === U32_MAX);
  if (bothLocal || s.uncompressedSize === U32_MAX) s.uncompressedSize = take8();
  if (bothLocal || s.compressedSize === U32_MAX) s.compressedSize = take8();
  if (!local && s.localHeaderOffset === U32_MAX) s.localHeaderOffset = take8();
  if (!local && s.diskStart === U16_MAX) {
    if (p + 4 > end) info.zip64Missing = true;
    else s.diskStart = u32(b, p);
  }
}

/** An unsigned little-endian number of `size` bytes (0..8) within `limit`, or null. */
function uintLE(b: Uint8Array, at: number, size: number, limit: number): number | null {
  if (size > 8 || at + size > limit) return null;
  let v = 0;
  for (let i = size - 1; i >= 0; i--) {
    v = v * 256 + b[at + i]!;
  }
  return Number.isSafeInteger(v) ? v : null;
}
