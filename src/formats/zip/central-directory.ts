/**
 * Finding and reading the central directory (APPNOTE §4.3.12–4.3.16).
 *
 * `locateCentralDirectory` scans back from the end of the file, at most 22 + 65535 (+ 20 for
 * the zip64 locator) bytes, for `PK\5\6`. Candidates whose comment ends exactly at the end of
 * the file are tried first, nearest the end first; then ones followed by trailing bytes (with
 * a warning). A candidate is accepted only when the directory it describes starts with
 * `PK\1\2` (or is empty). zip64: a locator right before the end record points at the zip64
 * end record, whose counts, size and offset then replace the 16/32-bit ones.
 *
 * Self-extractors and archives with prepended data: the offsets recorded in the archive count
 * either from the start of the file (the stub was accounted for) or from the start of the zip
 * part. `base` is what must be added to recorded offsets: 0 when the directory is where its
 * offset says, else (actual start − recorded offset).
 *
 * Counts are never trusted for allocation: a directory of `n` entries needs at least 46·n
 * bytes, which must fit inside its declared size, which must fit inside the file.
 *
 * `readCentralRecord` reads one central header from a ByteSource (the directory streamed from
 * the file, or the format stream itself in streaming mode), with the name and extra length
 * limits applied before anything is buffered for them.
 */

import type { ByteSource } from '../../io/byte-source.js';
import type { WarningHandler } from '../../errors.js';
import { parseExtras, type ExtraInfo, type HeaderSizes } from './extras.js';
import {
  CENTRAL,
  EOCD,
  MAX_COMMENT,
  SIG,
  U16_MAX,
  U32_MAX,
  ZIP64_EOCD,
  ZIP64_LOCATOR,
  decodeCentral,
  decodeEnd,
  decodeZip64End,
  u16,
  u32,
  u64,
  type CentralHeader,
  type EndRecord,
} from './header.js';
import { readExact } from './read-exact.js';
import type { ReadWindow } from './read-window.js';
import { zipError, zipWarning } from './zip-error.js';

export interface CentralDirectoryInfo {
  /** Absolute file position of the first central header. */
  start: number;
  /** Bytes of central headers. */
  size: number;
  /** Entries the end record declares, or -1 when it says 0xFFFF without zip64 (count them). */
  entries: number;
  /** Added to every offset the archive records. */
  base: number;
  zip64: boolean;
  /** File position of the end of central directory record. */
  endRecord: number;
  /** End of the archive: after the end record and its comment. */
  end: number;
}

interface Candidate {
  at: number;
  exact: boolean;
}

/** Finds the end records and the directory; null when there is no `PK\5\6` at all. */
export async function locateCentralDirectory(win: ReadWindow, warn: WarningHandler): Promise<CentralDirectoryInfo | null> {
  const size = win.size;
  const tailLength = Math.min(size, EOCD.size + MAX_COMMENT + ZIP64_LOCATOR.size);
  const tailPos = size - tailLength;
  const tail = Buffer.from(await win.read(tailPos, tailLength));
  const exact: Candidate[] = [];
  const loose: Candidate[] = [];
  for (let i = tail.length - EOCD.size; i >= 0; i--) {
    if (tail[i] !== 0x50 || u32(tail, i) !== SIG.EOCD) continue;
    const end = i + EOCD.size + u16(tail, i + EOCD.commentLength.offset);
    if (end === tail.length) exact.push({ at: tailPos + i, exact: true });
    else if (end < tail.length) loose.push({ at: tailPos + i, exact: false });
  }
  const candidates = [...exact, ...loose];
  if (candidates.length === 0) return null;
  let firstError: unknown = null;
  for (const c of candidates) {
    try {
      const info = await resolve(win, tail, tailPos, c.at);
      if (!c.exact) {
        warn(zipWarning('FORMAT_WARNING', `${size - info.end} bytes after the end of the archive (byte ${info.end}) are ignored`, info.end));
      }
      return info;
    } catch (e) {
      firstError ??= e;
    }
  }
  throw firstError;
}

async function readAt(win: ReadWindow, tail: Buffer, tailPos: number, pos: number, length: number): Promise<Buffer> {
  if (pos >= tailPos && pos + length <= tailPos + tail.length) return tail.subarray(pos - tailPos, pos - tailPos + length);
  return Buffer.from(await win.read(pos, length));
}

async function resolve(win: ReadWindow, tail: Buffer, tailPos: number, at: number): Promise<CentralDirectoryInfo> {
  const rec = decodeEnd(await readAt(win, tail, tailPos, at, EOCD.size));
  const end = at + EOCD.size + rec.commentLength;
  let record: EndRecord = rec;
  let zip64 = false;
  let endOfDirectory = at;

  const locPos = at - ZIP64_LOCATOR.size;
  const saturated =
    rec.entriesOnDisk === U16_MAX || rec.totalEntries === U16_MAX || rec.centralDirectorySize === U32_MAX || rec.centralDirectoryOffset === U32_MAX;
  if (locPos >= 0 && u32(await readAt(win, tail, tailPos, locPos, 4), 0) === SIG.ZIP64_LOCATOR) {
    const loc = await readAt(win, tail, tailPos, locPos, ZIP64_LOCATOR.size);
    const totalDisks = u32(loc, ZIP64_LOCATOR.totalDisks.offset);
    if (totalDisks > 1) {
      throw zipError('FORMAT_UNSUPPORTED', `the archive spans ${totalDisks} disks (multi-volume zip)`, locPos, 'join the volumes into one file first');
    }
    const recorded = u64(loc, ZIP64_LOCATOR.eocdOffset.offset);
    // Recorded position first; then right before the locator (a self-extractor whose offsets
    // count from the zip part, with no extensible data in the record).
    const places = [recorded, locPos - ZIP64_EOCD.size].filter((p, i, all) => p >= 0 && p + ZIP64_EOCD.size <= locPos && all.indexOf(p) === i);
    for (const p of places) {
      const z = await readAt(win, tail, tailPos, p, ZIP64_EOCD.size);
      if (u32(z, 0) !== SIG.ZIP64_EOCD) continue;
      const z64 = decodeZip64End(z);
      if (z64.totalEntries < 0 || z64.centralDirectorySize < 0 || z64.centralDirectoryOffset < 0 || z64.entriesOnDisk < 0) {
        throw zipError('FORMAT_CORRUPT', `zip64 end of central directory record at byte ${p} holds impossible values`, p, 'the archive is corrupt');
      }
      record = { ...z64, commentLength: rec.commentLength };
      zip64 = true;
      endOfDirectory = p;
      break;
    }
    if (!zip64 && saturated) {
      throw zipError('FORMAT_CORRUPT', `the zip64 locator at byte ${locPos} points to no zip64 end of central directory record`, locPos, 'the archive is corrupt or truncated');
    }
  }
  if (record.diskNumber !== 0 || record.centralDirectoryDisk !== 0) {
    throw zipError('FORMAT_UNSUPPORTED', 'the archive is one volume of a multi-volume zip', at, 'join the volumes into one file first');
  }

  let cdSize = record.centralDirectorySize;
  let cdOffset = record.centralDirectoryOffset;
  let entries = record.totalEntries;
  if (!zip64) {
    // Saturated fields without zip64 records (Info-ZIP `-fz-` to a pipe): derive them from
    // where the end record is; a count of 0xFFFF may be genuine or a marker: count records.
    if (cdSize === U32_MAX && cdOffset === U32_MAX) {
      throw zipError('FORMAT_CORRUPT', 'the end of central directory record gives neither the size nor the offset of the directory', at, 'the archive is corrupt');
    }
    if (cdOffset === U32_MAX) cdOffset = at - cdSize;
    if (cdSize === U32_MAX) cdSize = at - cdOffset;
    if (entries === U16_MAX) entries = -1;
  }
  if (entries !== record.entriesOnDisk && entries !== -1) {
    throw zipError('FORMAT_CORRUPT', `the end record counts ${record.entriesOnDisk} entries on this disk but ${entries} in total`, at, 'the archive is corrupt');
  }
  if (cdSize > endOfDirectory) {
    throw zipError('FORMAT_CORRUPT', `the central directory size ${cdSize} exceeds the ${endOfDirectory} bytes before its end record`, at, 'the archive is corrupt or truncated');
  }
  if (entries > 0 && entries > cdSize / CENTRAL.size) {
    throw zipError(
      'FORMAT_CORRUPT',
      `the end record claims ${entries} entries in a central directory of ${cdSize} bytes (at least ${CENTRAL.size} bytes each)`,
      at,
      'the archive is corrupt or crafted',
    );
  }
  if (entries === 0 && cdSize === 0) {
    return { start: endOfDirectory, size: 0, entries: 0, base: 0, zip64, endRecord: at, end };
  }

  // Where is the directory? At its recorded offset (base 0), or right before its end record.
  const actualStart = endOfDirectory - cdSize;
  let base: number;
  if (cdOffset + cdSize <= endOfDirectory && (await isCentral(win, cdOffset))) base = 0;
  else if (actualStart >= cdOffset && (await isCentral(win, actualStart))) base = actualStart - cdOffset;
  else {
    throw zipError('FORMAT_CORRUPT', `no central directory at byte ${cdOffset} nor at byte ${actualStart}`, at, 'the archive is corrupt or truncated');
  }
  return { start: base + cdOffset, size: cdSize, entries, base, zip64, endRecord: at, end };
}

async function isCentral(win: ReadWindow, pos: number): Promise<boolean> {
  if (pos < 0) return false;
  const b = await win.read(pos, 4);
  return b.length === 4 && u32(b, 0) === SIG.CENTRAL;
}

/** One central directory header with its name and extras, zip64 values applied. */
export interface CentralRecord {
  header: CentralHeader;
  /** The raw name (a copy). */
  rawName: Buffer;
  extras: ExtraInfo;
  /** Position of the record in the source it was read from. */
  position: number;
}

/**
 * Reads the central header at `src`'s position (its signature already seen). `position` is
 * the record's file position for messages (the source may be a slice of the file).
 */
export async function readCentralRecord(src: ByteSource, position: number, maxMeta: number): Promise<CentralRecord> {
  const fixed = await readExact(src, CENTRAL.size, `central directory header at byte ${position}`);
  if (u32(fixed, 0) !== SIG.CENTRAL) {
    throw zipError('FORMAT_CORRUPT', `bad central directory header signature at byte ${position}`, position, 'the archive is corrupt');
  }
  const header = decodeCentral(fixed);
  for (const [what, n] of [
    ['name', header.nameLength],
    ['extra field', header.extraLength],
  ] as const) {
    if (n > maxMeta) {
      throw zipError('LIMIT_META_SIZE', `central directory ${what} of ${n} bytes at byte ${position} exceeds the limit of ${maxMeta} bytes`, position, 'raise maxMetaSize if it is genuine');
    }
  }
  const ne = await readExact(src, header.nameLength + header.extraLength, `name and extra field of the central directory header at byte ${position}`);
  const rawName = Buffer.from(ne.subarray(0, header.nameLength));
  const sizes: HeaderSizes = {
    compressedSize: header.compressedSize,
    uncompressedSize: header.uncompressedSize,
    localHeaderOffset: header.localHeaderOffset,
    diskStart: header.diskStart,
  };
  const extras = parseExtras(ne, header.nameLength, ne.length, rawName, sizes, false);
  if (extras.zip64Missing) {
    throw zipError('FORMAT_CORRUPT', `central directory header at byte ${position} lacks the zip64 values its 0xFFFFFFFF fields announce`, position, 'the archive is corrupt', { path: rawName });
  }
  header.compressedSize = sizes.compressedSize;
  header.uncompressedSize = sizes.uncompressedSize;
  header.localHeaderOffset = sizes.localHeaderOffset;
  header.diskStart = sizes.diskStart;
  if (header.commentLength > 0) await src.skip(header.commentLength, 'zip', 'central directory comment');
  return { header, rawName, extras, position };
}

/** What pass 1 of the random-access reader needs of a central header. */
export interface CentralSpan {
  localHeaderOffset: number;
  compressedSize: number;
  diskStart: number;
}

/**
 * A light readCentralRecord (hot path: pass 1 over every record): only the fixed header is
 * decoded; name, extra and comment are skipped unless a saturated field needs the zip64 extra.
 */
export async function readCentralSpan(src: ByteSource, position: number, maxMeta: number): Promise<CentralSpan> {
  const fixed = await readExact(src, CENTRAL.size, `central directory header at byte ${position}`);
  if (u32(fixed, 0) !== SIG.CENTRAL) {
    throw zipError('FORMAT_CORRUPT', `bad central directory header signature at byte ${position}`, position, 'the archive is corrupt');
  }
  const n = u16(fixed, CENTRAL.nameLength.offset);
  const e = u16(fixed, CENTRAL.extraLength.offset);
  const c = u16(fixed, CENTRAL.commentLength.offset);
  const span: CentralSpan = {
    localHeaderOffset: u32(fixed, CENTRAL.localHeaderOffset.offset),
    compressedSize: u32(fixed, CENTRAL.compressedSize.offset),
    diskStart: u16(fixed, CENTRAL.diskStart.offset),
  };
  const saturated =
    span.localHeaderOffset === U32_MAX ||
    span.compressedSize === U32_MAX ||
    span.diskStart === U16_MAX ||
    u32(fixed, CENTRAL.uncompressedSize.offset) === U32_MAX;
  if (!saturated && n <= maxMeta && e <= maxMeta) {
    await src.skip(n + e + c, 'zip', 'central directory header');
    return span;
  }
  // Rare: re-read it whole (limits, zip64 values and their errors in one place).
  src.unread(Buffer.from(fixed));
  const rec = await readCentralRecord(src, position, maxMeta);
  return { localHeaderOffset: rec.header.localHeaderOffset, compressedSize: rec.header.compressedSize, diskStart: rec.header.diskStart };
}
