/**
 * The random-access zip reader: the central directory is the table of contents, entries are
 * emitted in its order (APPNOTE §4.3.6 makes it authoritative), bodies are read from the file
 * at each local header's data offset.
 *
 * Two passes over the central directory, each streamed from the file (never held whole):
 *   pass 1  reads every record's local header offset, compressed size and name length into
 *           compact columns; sorted by offset, each entry's span (local header + name + data)
 *           must end before the next one starts and the last before the directory: entries
 *           that share or overlap data — the non-recursive zip bomb, or two names for one
 *           body — are FORMAT_CORRUPT before anything is emitted. Record count checked
 *           against the end record.
 *   pass 2  per record: the local header is read (through a one-block cache), its name must
 *           be byte-identical to the central one (a mismatch shows different files to
 *           different tools: FORMAT_CORRUPT), its method too; its data must fit in the span
 *           pass 1 allowed. The entry is built (type and mode from the external attributes,
 *           times and ids from the extras of both headers) and yielded; a symlink's target
 *           is its data, read and CRC-checked before it is yielded.
 * Bodies: read only when the consumer iterates them; a body left unread costs no I/O and is
 * not verified; a body read to its end is verified (CRC-32, length, and the deflate stream's
 * own end); a body abandoned half-way is closed without reading the rest.
 * Invariant: pass 2 sees the same records as pass 1 (checked: offsets and sizes must agree, so
 * a file changing under the reader cannot slip an overlapping entry through).
 */

import { BodyCursor, EMPTY_BODY } from '../../entry/body-cursor.js';
import type { Entry, EntryType } from '../../entry/entry.js';
import { escapePath } from '../../entry/escape-path.js';
import { ZoneP2vError } from '../../errors.js';
import { ByteSource } from '../../io/byte-source.js';
import type { RandomAccess } from '../../io/random-access.js';
import { DEFAULT_MAX_META_SIZE, type FormatReadOptions, type ReaderStats } from '../format.js';
import {
  CrcTally,
  LazyBody,
  SMALL_COMPRESSED,
  SMALL_OUTPUT,
  checksumError,
  crcCheck,
  inflateEntry,
  inflateSmall,
  withSentinel,
  type BodyPlan,
  type InflateResult,
} from './bodies.js';
import { readCentralRecord, readCentralSpan, type CentralDirectoryInfo, type CentralRecord } from './central-directory.js';
import { typeAndMode } from './entry-meta.js';
import { parseExtras, type HeaderSizes } from './extras.js';
import { NumberColumn } from './growable.js';
import { FLAG, LOCAL, METHOD_STORED, SIG, decodeLocal, dosToEpoch, u32 } from './header.js';
import { ReadWindow } from './read-window.js';
import { unreadableReason, unsupportedError } from './unreadable.js';
import { LAYER, entryName, zipError, zipWarning, type EntryContext } from './zip-error.js';

/** Guess of how much local extra field to read along with the fixed header and name. */
const LOCAL_EXTRA_GUESS = 128;

interface Spans {
  count: number;
  offsets: NumberColumn;
  compressed: NumberColumn;
  /** Per entry (directory order): where the next entry (or the directory) begins. */
  limits: Float64Array;
  /** Smallest local header offset (a stub or other data lies before it when > 0). */
  first: number;
}

export async function* readRandomAccess(
  ra: RandomAccess,
  info: CentralDirectoryInfo,
  stats: ReaderStats,
  options: FormatReadOptions,
): AsyncGenerator<Entry> {
  const maxMeta = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
  const spans = await passOne(ra, info, maxMeta, options);
  stats.variant = info.zip64 ? 'zip64' : spans.first > 0 ? 'sfx' : 'zip';
  stats.bytesRead = info.end;

  const win = new ReadWindow(ra);
  const dir = new ByteSource(ra.stream(info.start, info.size), LAYER);
  try {
    for (let i = 0; i < spans.count; i++) {
      if (options.signal?.aborted) throw new ZoneP2vError('ABORTED', 'zip: reading was aborted', { layer: LAYER });
      const position = info.start + dir.position;
      const rec = await readCentralRecord(dir, position, maxMeta);
      const offset = info.base + rec.header.localHeaderOffset;
      if (offset !== spans.offsets.get(i) || rec.header.compressedSize !== spans.compressed.get(i)) {
        throw zipError('FORMAT_CORRUPT', `central directory header at byte ${position} changed while the archive was read`, position, 'the file is being modified');
      }
      const { entry, body } = await buildEntry(win, rec, offset, spans.limits[i]!, maxMeta, options);
      if (entry.extra.variant === 'zip64') stats.variant = 'zip64';
      stats.entries++;
      yield entry;
      if (body !== null) await body.finish();
    }
  } finally {
    await dir.close();
  }
}

/** Pass 1: columns of offsets and sizes, the overlap check, the count check. */
async function passOne(ra: RandomAccess, info: CentralDirectoryInfo, maxMeta: number, options: FormatReadOptions): Promise<Spans> {
  const offsets = new NumberColumn();
  const compressed = new NumberColumn();
  const dir = new ByteSource(ra.stream(info.start, info.size), LAYER);
  try {
    for (;;) {
      if (options.signal?.aborted) throw new ZoneP2vError('ABORTED', 'zip: reading was aborted', { layer: LAYER });
      const have = await dir.fill(4);
      if (have === 0) break;
      const position = info.start + dir.position;
      const sig = have >= 4 ? u32(dir.peek(4), 0) : 0;
      if (sig !== SIG.CENTRAL) {
        if (sig === SIG.DIGITAL_SIGNATURE || offsets.length === info.entries) break;
        throw zipError('FORMAT_CORRUPT', `bad central directory header signature at byte ${position}`, position, 'the archive is corrupt');
      }
      const span = await readCentralSpan(dir, position, maxMeta);
      if (span.diskStart !== 0) {
        throw zipError('FORMAT_UNSUPPORTED', `the entry at byte ${position} of the central directory lies on disk ${span.diskStart} of a multi-volume zip`, position, 'join the volumes into one file first');
      }
      offsets.push(info.base + span.localHeaderOffset);
      compressed.push(span.compressedSize);
    }
  } finally {
    await dir.close();
  }
  const count = offsets.length;
  if (info.entries !== -1 && count !== info.entries && (info.zip64 || count % 0x10000 !== info.entries)) {
    throw zipError(
      'FORMAT_CORRUPT',
      `the end record at byte ${info.endRecord} counts ${info.entries} entries, the central directory holds ${count}`,
      info.endRecord,
      'the archive is corrupt',
    );
  }

  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const off = offsets.view();
  order.sort((a, b) => off[a]! - off[b]!);
  const limits = new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const a = order[k]!;
    const next = k + 1 < count ? off[order[k + 1]!]! : info.start;
    // A lower bound: the local name and extra lengths are checked against `next` in pass 2.
    const minEnd = off[a]! + LOCAL.size + compressed.get(a);
    if (minEnd > next) {
      if (k + 1 < count) {
        const b = order[k + 1]!;
        throw zipError(
          'FORMAT_CORRUPT',
          `central directory entries #${a + 1} (local header at byte ${off[a]}) and #${b + 1} (local header at byte ${off[b]}) overlap`,
          off[b],
          'entries sharing data are a decompression bomb or a corrupt archive',
        );
      }
      throw zipError(
        'FORMAT_CORRUPT',
        `the data of central directory entry #${a + 1} (local header at byte ${off[a]}) runs into the central directory at byte ${info.start}`,
        off[a],
        'the archive is corrupt',
      );
    }
    limits[a] = next;
  }
  return { count, offsets, compressed, limits, first: count > 0 ? off[order[0]!]! : 0 };
}

interface Built {
  entry: Entry;
  body: LazyBody | null;
}

async function buildEntry(
  win: ReadWindow,
  rec: CentralRecord,
  offset: number,
  limit: number,
  maxMeta: number,
  options: FormatReadOptions,
): Promise<Built> {
  const h = rec.header;
  const rawName = rec.rawName;
  const named: EntryContext = { path: rawName, offset };

  // ---- local header -----------------------------------------------------------------------
  let lh = await win.read(offset, LOCAL.size + h.nameLength + LOCAL_EXTRA_GUESS);
  if (lh.length < 4 || u32(lh, 0) !== SIG.LOCAL) {
    if (lh.length < 4) throw truncatedLocal(win, offset, named);
    throw zipError(
      'FORMAT_CORRUPT',
      `no local header at byte ${offset}, where the central directory places entry '${escapePath(rawName)}'`,
      offset,
      'the archive is corrupt',
      { path: rawName },
    );
  }
  if (lh.length < LOCAL.size) throw truncatedLocal(win, offset, named);
  const lo = decodeLocal(lh);
  const need = LOCAL.size + lo.nameLength + lo.extraLength;
  if (lh.length < need) {
    lh = await win.read(offset, need);
    if (lh.length < need) throw truncatedLocal(win, offset, named);
  }
  const localName = lh.subarray(LOCAL.size, LOCAL.size + lo.nameLength);
  if (!localName.equals(rawName)) {
    throw zipError(
      'FORMAT_CORRUPT',
      `the central directory names the entry at byte ${offset} '${escapePath(rawName)}' but its local header says '${escapePath(localName)}'`,
      offset,
      'the archive is corrupt or crafted to show different names to different tools',
      { path: Buffer.from(rawName) },
    );
  }
  if (lo.method !== h.method && (lo.flags & FLAG.MASKED_HEADER) === 0) {
    throw zipError(
      'FORMAT_CORRUPT',
      `the local header of entry '${escapePath(rawName)}' at byte ${offset} says compression method ${lo.method}, the central directory ${h.method}`,
      offset,
      'the archive is corrupt',
      { path: rawName },
    );
  }
  const localSizes: HeaderSizes = { compressedSize: lo.compressedSize, uncompressedSize: lo.uncompressedSize, localHeaderOffset: -1, diskStart: -1 };
  const localExtras = parseExtras(lh, LOCAL.size + lo.nameLength, need, rawName, localSizes, true);
  const dataStart = offset + need;
  if (dataStart + h.compressedSize > limit) {
    throw zipError(
      'FORMAT_CORRUPT',
      `the data of entry '${escapePath(rawName)}' (${h.compressedSize} bytes from byte ${dataStart}) runs into the next entry or the central directory at byte ${limit}`,
      dataStart,
      'entries sharing data are a decompression bomb or a corrupt archive',
      { path: rawName },
    );
  }

  // ---- entry ------------------------------------------------------------------------------
  const path = rec.extras.unicodePath ?? localExtras.unicodePath ?? rawName;
  const ctx: EntryContext = { path, offset };
  const tm = typeAndMode(rawName, h.versionMadeBy, h.externalAttributes);
  const type: EntryType = tm.type;
  const mtime = rec.extras.mtime ?? localExtras.mtime ?? dosToEpoch(h.dosDate, h.dosTime);
  const uid = rec.extras.uid ?? localExtras.uid ?? 0;
  const gid = rec.extras.gid ?? localExtras.gid ?? 0;
  const reason = unreadableReason(h.method, h.flags);

  let size = 0;
  let linkTarget: Buffer | null = null;
  let body: LazyBody | null = null;
  if (type === 'file') {
    size = h.uncompressedSize;
    body = new LazyBody(randomPlan(win, dataStart, h.compressedSize, h.uncompressedSize, h.crc32, h.method, reason, ctx, options));
  } else if (type === 'symlink') {
    if (reason !== null) throw unsupportedError(ctx, reason, 'its link target cannot be read');
    if (h.uncompressedSize > maxMeta) {
      throw zipError('LIMIT_META_SIZE', `symlink target of ${h.uncompressedSize} bytes in ${entryName(ctx)} exceeds the limit of ${maxMeta} bytes`, offset, 'the archive is corrupt', { path });
    }
    const target = new LazyBody(randomPlan(win, dataStart, h.compressedSize, h.uncompressedSize, h.crc32, h.method, null, ctx, options));
    const parts: Buffer[] = [];
    for await (const c of target) parts.push(c);
    await target.finish();
    linkTarget = Buffer.concat(parts);
  }
  const entry: Entry = {
    path: path === rawName ? rawName : Buffer.from(path),
    type,
    mode: tm.mode,
    uid,
    gid,
    size,
    mtime,
    linkTarget,
    devMajor: 0,
    devMinor: 0,
    offset,
    extra: { variant: rec.extras.zip64 || localExtras.zip64 ? 'zip64' : 'zip', zipMethod: h.method },
    body: body ?? EMPTY_BODY,
  };
  return { entry, body };
}

function truncatedLocal(win: ReadWindow, offset: number, ctx: EntryContext): ZoneP2vError {
  return zipError(
    'FORMAT_TRUNCATED',
    `the file ends at byte ${win.size} inside the local header at byte ${offset} of '${escapePath(ctx.path)}'`,
    win.size,
    'the archive is truncated',
    { path: ctx.path },
  );
}

/**
 * The body plan of random-access mode: a source over the compressed bytes in the file, then
 * stored data as is or inflated (capped at the declared size), CRC-checked on the way.
 */
function randomPlan(
  win: ReadWindow,
  dataStart: number,
  compressedSize: number,
  size: number,
  crc: number,
  method: number,
  reason: string | null,
  ctx: EntryContext,
  options: FormatReadOptions,
): BodyPlan {
  let compressed: ByteSource | null = null;
  let decoded: ByteSource | null = null;
  const close = async () => {
    await decoded?.close();
    await compressed?.close();
  };
  return {
    open() {
      if (reason !== null) throw unsupportedError(ctx, reason);
      if (size === 0 && crc !== 0) throw checksumError(ctx, crc, 0);
      const onData = crcCheck(crc, size, ctx, new CrcTally());
      if (method === METHOD_STORED) {
        if (compressedSize !== size) {
          throw zipError('FORMAT_CORRUPT', `stored ${entryName(ctx)} has a compressed size of ${compressedSize} but a size of ${size}`, ctx.offset, 'the archive is corrupt', { path: ctx.path });
        }
        compressed = new ByteSource(win.stream(dataStart, compressedSize), LAYER);
        return new BodyCursor(compressed, size, LAYER, onData);
      }
      const leftover = () =>
        options.onWarning(zipWarning('FORMAT_WARNING', `the deflate data of ${entryName(ctx)} ends before its ${compressedSize} compressed bytes; the rest is ignored`, ctx.offset, undefined, ctx.path));
      if (compressedSize <= SMALL_COMPRESSED && size <= SMALL_OUTPUT) {
        decoded = new ByteSource(inflateSmall(win.stream(dataStart, compressedSize), size, compressedSize, ctx, leftover), LAYER);
        return new BodyCursor(decoded, size, LAYER, onData);
      }
      compressed = new ByteSource(withSentinel(win.stream(dataStart, compressedSize)), LAYER);
      const result: InflateResult = { consumed: 0, produced: 0, done: false };
      decoded = new ByteSource(inflateEntry(compressed, size, ctx, compressedSize, result, leftover), LAYER);
      return new BodyCursor(decoded, size, LAYER, onData);
    },
    async finishOpened(cursor) {
      try {
        // Read to the end: let the inflater reach the end of its stream (length checks).
        if (cursor.remaining === 0 && decoded !== null) await decoded.atEnd();
      } finally {
        await close();
      }
    },
    async finishUnopened() {
      /* nothing read, nothing to verify (random access: unread bodies cost no I/O) */
    },
  };
}

