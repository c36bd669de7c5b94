/**
 * The streaming zip reader: local headers in stream order, for input without random access
 * (standard input, a zip inside a compression layer or an envelope).
 *
 * State machine, one record per turn, by the signature at the current position:
 *   `PK\3\4` local entry: header, name and extra (each within maxMetaSize), then the data:
 *            - sizes in the header: the body is a LazyBody over exactly the compressed bytes;
 *              stored data passes through the CRC check even when skipped, deflate data that
 *              was never opened is skipped without inflating (and so is not verified);
 *            - flag bit 3 (sizes in a data descriptor after the data): deflate → the inflater
 *              finds the end; stored → the scanner of bodies.ts finds the descriptor. When the
 *              local header gives the size anyway (bsdtar writes it) the entry announces it and
 *              it is verified against the descriptor; otherwise the whole body is decoded before
 *              the entry is yielded, in memory up to STREAM_SPOOL_LIMIT, because an Entry must
 *              announce its size (beyond that: LIMIT_MEMORY, read it from a file instead);
 *            - methods other than stored/deflate and encryption: listed, body refused; with bit
 *              3 their end cannot be found, so reading stops there with FORMAT_UNSUPPORTED.
 *   `PK\1\2` / `PK\6\6` / `PK\5\6`: the central directory. It is read and cross-checked
 *            against what was delivered (names byte-identical, CRCs and sizes equal, every
 *            central entry seen as a local one): disagreement is FORMAT_CORRUPT at the end,
 *            entries it types differently (symlinks!) get a FORMAT_WARNING each, since the
 *            stream could only deliver files and directories. Then the end records; the rest
 *            of the stream is not read.
 *   anything else: junk (self-extractor stub, padding between entries as in
 *            test_compat_zip_2.zip): skipped up to the next zip signature, one warning.
 *   end of stream without a central directory: one warning.
 *
 * Limitation (formats.md §5): local headers carry no file attributes, so every entry is a
 * regular file or (trailing `/`) a directory with mode 0644/0755; symlinks arrive as files
 * whose content is the link target. The central-directory cross-check reports them.
 */

import { BodyCursor, EMPTY_BODY } from '../../entry/body-cursor.js';
import type { Entry } from '../../entry/entry.js';
import { escapePath } from '../../entry/escape-path.js';
import { ZoneP2vError } from '../../errors.js';
import { ByteSource } from '../../io/byte-source.js';
import { DEFAULT_MAX_META_SIZE, type FormatReadOptions, type ReaderStats } from '../format.js';
import {
  BoundedChunks,
  CrcTally,
  LazyBody,
  checksumError,
  crcCheck,
  inflateEntry,
  inflateSmall,
  inflateUnbounded,
  SMALL_COMPRESSED,
  SMALL_OUTPUT,
  readDescriptor,
  scanStored,
  withSentinel,
  type BodyPlan,
  type Descriptor,
  type InflateResult,
  type ScanResult,
} from './bodies.js';
import { readCentralRecord } from './central-directory.js';
import { DEFAULT_DIR_MODE, DEFAULT_FILE_MODE, streamTypeAndMode, typeAndMode } from './entry-meta.js';
import { parseExtras, type HeaderSizes } from './extras.js';
import { EOCD, FLAG, LOCAL, METHOD_STORED, SIG, U16_MAX, U32_MAX, ZIP64_EOCD, ZIP64_LOCATOR, decodeLocal, dosToEpoch, u16, u32, u64 } from './header.js';
import { LocalIndex } from './local-index.js';
import { readExact } from './read-exact.js';
import { unreadableReason, unsupportedError } from './unreadable.js';
import { LAYER, entryName, zipError, zipWarning, type EntryContext } from './zip-error.js';

/** Largest body decoded ahead of its entry when only the data descriptor knows its size. */
export const STREAM_SPOOL_LIMIT = 64 * 1024 * 1024;

const PK = Buffer.from('PK', 'latin1');

/** What the cross-check needs once an entry's data was consumed. */
interface Consumed {
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
}

interface LocalItem {
  entry: Entry;
  rawName: Buffer;
  /** Consumes what is left of the entry (body, descriptor); resolves to its real values. */
  finish(): Promise<Consumed>;
}

export async function* readStreaming(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  const maxMeta = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
  const start = src.position;
  const index = new LocalIndex();
  let first = -1;
  stats.variant = 'zip';

  // A split archive that fitted on one segment starts with a spanning marker (APPNOTE §8.5.3).
  await src.fill(8);
  const head = src.peek(8);
  if (head.length === 8 && (u32(head, 0) === SIG.DESCRIPTOR || u32(head, 0) === SIG.SPAN_TEMP) && u32(head, 4) === SIG.LOCAL) {
    src.take(4);
  }

  for (;;) {
    if (options.signal?.aborted) throw new ZoneP2vError('ABORTED', 'zip: reading was aborted', { layer: LAYER });
    const at = src.position;
    stats.bytesRead = at - start;
    const have = await src.fill(4);
    if (have === 0) {
      options.onWarning(
        zipWarning('FORMAT_WARNING', `the stream ends at byte ${at} without a central directory`, at, 'the archive may be incomplete'),
      );
      return;
    }
    if (have < 4 && src.ended && isSignaturePrefix(src.peek(have))) {
      throw zipError('FORMAT_TRUNCATED', `the stream ends at byte ${at + have} inside a header signature`, at + have, 'the archive is truncated');
    }
    const sig = have >= 4 ? u32(src.peek(4), 0) : -1;
    if (sig === SIG.LOCAL) {
      if (first < 0) first = at - start;
      const item = await readLocal(src, at, stats, options, maxMeta);
      stats.entries++;
      yield item.entry;
      const done = await item.finish();
      index.add({ offset: at - start, rawName: item.rawName, type: item.entry.type, ...done });
      continue;
    }
    if (sig === SIG.CENTRAL || sig === SIG.EOCD || sig === SIG.ZIP64_EOCD) {
      await readDirectory(src, start, first < 0 ? 0 : first, index, stats, options, maxMeta);
      stats.bytesRead = src.position - start;
      return;
    }
    const skipped = await skipJunk(src);
    options.onWarning(
      zipWarning(
        'FORMAT_WARNING',
        `skipped ${skipped} bytes at byte ${at} that are not a zip header${first < 0 ? ' (a self-extractor stub or prepended data)' : ''}`,
        at,
        first < 0 ? undefined : 'the archive has junk between its entries',
      ),
    );
  }
}

/** True when `b` (under 4 bytes) could begin a local, central or end signature. */
function isSignaturePrefix(b: Buffer): boolean {
  const sigs = [SIG.LOCAL, SIG.CENTRAL, SIG.EOCD, SIG.ZIP64_EOCD];
  return sigs.some((s) => {
    for (let i = 0; i < b.length; i++) if (b[i] !== ((s >>> (8 * i)) & 0xff)) return false;
    return true;
  });
}

/** Drops bytes up to the next local, central or end signature (or the end); returns how many. */
async function skipJunk(src: ByteSource): Promise<number> {
  let skipped = 0;
  let from = 1; // the current position was already found not to start a record
  for (;;) {
    const have = await src.fill(4);
    if (have < 4) return skipped + src.drop(have);
    const v = src.peek(Math.min(src.buffered, 64 * 1024));
    for (let i = v.indexOf(PK, from); i >= 0 && i + 4 <= v.length; i = v.indexOf(PK, i + 1)) {
      const s = u32(v, i);
      if (s === SIG.LOCAL || s === SIG.CENTRAL || s === SIG.EOCD || s === SIG.ZIP64_EOCD) {
        src.drop(i);
        return skipped + i;
      }
    }
    const n = v.length - 3;
    src.drop(n);
    skipped += n;
    from = 0;
  }
}

async function readLocal(src: ByteSource, at: number, stats: ReaderStats, options: FormatReadOptions, maxMeta: number): Promise<LocalItem> {
  const lo = decodeLocal(await readExact(src, LOCAL.size, `local header at byte ${at}`));
  for (const [what, n] of [
    ['name', lo.nameLength],
    ['extra field', lo.extraLength],
  ] as const) {
    if (n > maxMeta) {
      throw zipError('LIMIT_META_SIZE', `local header ${what} of ${n} bytes at byte ${at} exceeds the limit of ${maxMeta} bytes`, at, 'raise maxMetaSize if it is genuine');
    }
  }
  const ne = await readExact(src, lo.nameLength + lo.extraLength, `name and extra field of the local header at byte ${at}`);
  const rawName = Buffer.from(ne.subarray(0, lo.nameLength));
  const sizes: HeaderSizes = { compressedSize: lo.compressedSize, uncompressedSize: lo.uncompressedSize, localHeaderOffset: -1, diskStart: -1 };
  const extras = parseExtras(ne, lo.nameLength, ne.length, rawName, sizes, true);
  if (extras.zip64) stats.variant = 'zip64';
  const path = extras.unicodePath ?? rawName;
  const ctx: EntryContext = { path, offset: at };
  const tm = streamTypeAndMode(rawName);
  const reason = unreadableReason(lo.method, lo.flags);
  const hasDescriptor = (lo.flags & FLAG.DATA_DESCRIPTOR) !== 0;
  const warn = options.onWarning;

  const entry: Entry = {
    path,
    type: tm.type,
    mode: tm.mode,
    uid: extras.uid ?? 0,
    gid: extras.gid ?? 0,
    size: 0,
    mtime: extras.mtime ?? dosToEpoch(lo.dosDate, lo.dosTime),
    linkTarget: null,
    devMajor: 0,
    devMinor: 0,
    offset: at,
    extra: { variant: extras.zip64 ? 'zip64' : 'zip', zipMethod: lo.method },
    body: EMPTY_BODY,
  };

  if (!hasDescriptor) {
    if (extras.zip64Missing) {
      throw zipError('FORMAT_CORRUPT', `local header at byte ${at} lacks the zip64 sizes its 0xFFFFFFFF fields announce`, at, 'the archive is corrupt', { path });
    }
    const csize = sizes.compressedSize;
    const usize = sizes.uncompressedSize;
    const known: Consumed = { crc32: lo.crc32, compressedSize: csize, uncompressedSize: usize };
    if (tm.type === 'directory') {
      return { entry, rawName, finish: () => src.skip(csize, LAYER, `data of ${entryName(ctx)}`).then(() => known) };
    }
    entry.size = usize;
    const body = new LazyBody(knownPlan(src, csize, usize, lo.crc32, lo.method, reason, ctx, warn));
    entry.body = body;
    return { entry, rawName, finish: () => body.finish().then(() => known) };
  }

  // ---- flag bit 3: the data descriptor follows the data -----------------------------------
  if (reason !== null) {
    throw unsupportedError(
      ctx,
      reason,
      'its sizes are in a data descriptor after the data, so in streaming mode its end cannot be found without decoding it; read the archive from a file',
    );
  }
  const stored = lo.method === METHOD_STORED;
  const zip64Hint = extras.zip64;
  const declared = declaredSize(sizes, stored);
  if (tm.type === 'directory' || declared === null) {
    // Decode now: nothing (directories) or the whole body (no size to announce otherwise).
    const keep = tm.type !== 'directory';
    const spooled = await spool(src, stored, ctx, keep, zip64Hint);
    const done: Consumed = consumedOf(spooled.descriptor);
    if (keep) {
      entry.size = spooled.size;
      const cursor = new BodyCursor(new ByteSource(spooled.parts, LAYER), spooled.size, LAYER);
      entry.body = cursor;
      return { entry, rawName, finish: () => cursor.finish().then(() => done) };
    }
    return { entry, rawName, finish: async () => done };
  }
  entry.size = declared;
  const plan = descriptorPlan(src, declared, stored, zip64Hint, ctx);
  const body = new LazyBody(plan);
  entry.body = body;
  return {
    entry,
    rawName,
    finish: async () => {
      await body.finish();
      return consumedOf(plan.descriptor());
    },
  };
}

/** A size the local header gives although bit 3 is set (bsdtar writes it), or null. */
function declaredSize(sizes: HeaderSizes, stored: boolean): number | null {
  const ok = (n: number) => n > 0 && n !== U32_MAX;
  if (ok(sizes.uncompressedSize)) return sizes.uncompressedSize;
  if (stored && ok(sizes.compressedSize)) return sizes.compressedSize;
  return null;
}

function consumedOf(d: Descriptor): Consumed {
  return { crc32: d.crc32, compressedSize: d.compressedSize, uncompressedSize: d.uncompressedSize };
}

/** Body plan of an entry whose sizes are in its local header. */
function knownPlan(
  src: ByteSource,
  csize: number,
  usize: number,
  crc: number,
  method: number,
  reason: string | null,
  ctx: EntryContext,
  warn: FormatReadOptions['onWarning'],
): BodyPlan {
  const skip = () => src.skip(csize, LAYER, `data of ${entryName(ctx)}`);
  if (reason !== null) {
    return {
      open: () => {
        throw unsupportedError(ctx, reason);
      },
      finishOpened: skip,
      finishUnopened: skip,
    };
  }
  const emptyCheck = () => {
    if (usize === 0 && crc !== 0) throw checksumError(ctx, crc, 0);
  };
  if (method === METHOD_STORED) {
    const sizeError = () =>
      zipError('FORMAT_CORRUPT', `stored ${entryName(ctx)} has a compressed size of ${csize} but a size of ${usize}`, ctx.offset, 'the archive is corrupt', { path: ctx.path });
    return {
      open: () => {
        if (csize !== usize) throw sizeError();
        emptyCheck();
        return new BodyCursor(src, csize, LAYER, crcCheck(crc, csize, ctx));
      },
      finishOpened: (cursor) => cursor.finish(),
      // Stored bytes pass through anyway: verify them on the way.
      finishUnopened: async () => {
        if (csize !== usize) throw sizeError();
        emptyCheck();
        await new BodyCursor(src, csize, LAYER, crcCheck(crc, csize, ctx)).finish();
      },
    };
  }
  let bounded: BoundedChunks | null = null;
  let decoded: ByteSource | null = null;
  return {
    open: () => {
      emptyCheck();
      bounded = new BoundedChunks(src, csize, ctx);
      const result: InflateResult = { consumed: 0, produced: 0, done: false };
      const leftover = () =>
        warn(zipWarning('FORMAT_WARNING', `the deflate data of ${entryName(ctx)} ends before its ${csize} compressed bytes; the rest is ignored`, ctx.offset, undefined, ctx.path));
      decoded =
        csize <= SMALL_COMPRESSED && usize <= SMALL_OUTPUT
          ? new ByteSource(inflateSmall(bounded, usize, csize, ctx, leftover), LAYER)
          : new ByteSource(inflateEntry(new ByteSource(withSentinel(bounded), LAYER), usize, ctx, csize, result, leftover), LAYER);
      return new BodyCursor(decoded, usize, LAYER, crcCheck(crc, usize, ctx));
    },
    finishOpened: async (cursor) => {
      if (cursor.remaining === 0) await decoded!.atEnd(); // the inflater's own end checks
      else await decoded!.close(); // abandoned: the rest is skipped, not inflated
      await src.skip(bounded!.remaining, LAYER, `data of ${entryName(ctx)}`);
    },
    finishUnopened: skip,
  };
}

/** Body plan of a bit-3 entry whose local header declared its size anyway. */
function descriptorPlan(
  src: ByteSource,
  declared: number,
  stored: boolean,
  zip64Hint: boolean,
  ctx: EntryContext,
): BodyPlan & { descriptor(): Descriptor } {
  const tally = new CrcTally();
  const result: InflateResult = { consumed: 0, produced: 0, done: false };
  const found: ScanResult = {};
  let decoded: ByteSource | null = null;
  const make = (): BodyCursor => {
    if (stored) {
      decoded = new ByteSource(scanStored(src, declared, ctx, tally, found), LAYER);
      return new BodyCursor(decoded, declared, LAYER);
    }
    decoded = new ByteSource(inflateUnbounded(src, declared, SMALL_OUTPUT, ctx, result), LAYER);
    return new BodyCursor(decoded, declared, LAYER, (c) => tally.update(c));
  };
  const finish = async (cursor: BodyCursor) => {
    await cursor.finish(); // the data must be consumed to reach the descriptor
    await decoded!.atEnd(); // lets the inflater (or scanner) run to its end
    if (!stored) found.descriptor = await readDescriptor(src, result.consumed, result.produced, tally.value, zip64Hint, ctx);
  };
  return {
    open: make,
    finishOpened: finish,
    finishUnopened: () => finish(make()),
    descriptor: () => found.descriptor!,
  };
}

interface Spooled {
  parts: Buffer[];
  size: number;
  descriptor: Descriptor;
}

/** Decodes a bit-3 body up to and including its descriptor, keeping the data when `keep`. */
async function spool(src: ByteSource, stored: boolean, ctx: EntryContext, keep: boolean, zip64Hint: boolean): Promise<Spooled> {
  const tally = new CrcTally();
  const parts: Buffer[] = [];
  let size = 0;
  const found: ScanResult = {};
  const take = (c: Buffer) => {
    size += c.length;
    if (!keep) return;
    if (size > STREAM_SPOOL_LIMIT) {
      if (found.suspect !== undefined) throw found.suspect;
      throw zipError(
        'LIMIT_MEMORY',
        `${entryName(ctx)} has its size only in the data descriptor after its data, and holds more than ${STREAM_SPOOL_LIMIT} bytes`,
        ctx.offset,
        'an entry must announce its size, which streaming mode can only learn by decoding it in memory; read the archive from a file instead',
        { path: ctx.path },
      );
    }
    parts.push(c);
  };
  if (stored) {
    for await (const c of scanStored(src, null, ctx, tally, found)) take(c);
    return { parts, size, descriptor: found.descriptor! };
  }
  const result: InflateResult = { consumed: 0, produced: 0, done: false };
  for await (const c of inflateUnbounded(src, null, SMALL_OUTPUT, ctx, result)) {
    tally.update(c);
    take(c);
  }
  const descriptor = await readDescriptor(src, result.consumed, result.produced, tally.value, zip64Hint, ctx);
  return { parts, size, descriptor };
}

/**
 * The central directory and end records, cross-checked against the local entries delivered.
 * `first` is where the first local header was (a self-extractor's recorded offsets may count
 * from there).
 */
async function readDirectory(
  src: ByteSource,
  start: number,
  first: number,
  index: LocalIndex,
  stats: ReaderStats,
  options: FormatReadOptions,
  maxMeta: number,
): Promise<void> {
  const warn = options.onWarning;
  let base: number | null = null;
  const matched = new Uint8Array(index.count);
  let count = 0;
  let modes = 0;
  const truncated = () => {
    const end = src.position + src.buffered;
    return zipError('FORMAT_TRUNCATED', `the stream ends at byte ${end} inside the central directory`, end, 'the archive is truncated');
  };

  for (;;) {
    if (options.signal?.aborted) throw new ZoneP2vError('ABORTED', 'zip: reading was aborted', { layer: LAYER });
    if ((await src.fill(4)) < 4) throw truncated();
    if (u32(src.peek(4), 0) !== SIG.CENTRAL) break;
    const position = src.position;
    const rec = await readCentralRecord(src, position, maxMeta);
    count++;
    if (!index.complete) continue;
    const h = rec.header;
    let k: number;
    if (base === null) {
      k = index.find(h.localHeaderOffset);
      if (k >= 0) base = 0;
      else {
        k = index.find(h.localHeaderOffset + first);
        if (k >= 0) base = first;
      }
    } else {
      k = index.find(h.localHeaderOffset + base);
    }
    const name = escapePath(rec.extras.unicodePath ?? rec.rawName);
    if (k < 0 || matched[k] === 1) {
      throw zipError(
        'FORMAT_CORRUPT',
        k < 0
          ? `the central directory lists '${name}' with a local header at byte ${h.localHeaderOffset}, where the stream had none`
          : `the central directory lists a second entry '${name}' for the local header at byte ${index.offset(k) + start}`,
        position,
        'the archive hides or shares entries (other tools would extract something else)',
        { path: rec.rawName },
      );
    }
    matched[k] = 1;
    const localName = index.name(k);
    if (!localName.equals(rec.rawName)) {
      throw zipError(
        'FORMAT_CORRUPT',
        `the central directory names the entry at byte ${index.offset(k) + start} '${name}' but its local header said '${escapePath(localName)}'`,
        position,
        'the archive is corrupt or crafted to show different names to different tools',
        { path: rec.rawName },
      );
    }
    if (h.crc32 !== index.crc32(k) || h.compressedSize !== index.compressedSize(k) || h.uncompressedSize !== index.uncompressedSize(k)) {
      throw zipError(
        'FORMAT_CORRUPT',
        `the central directory and the local data of '${name}' disagree on its CRC-32 or sizes`,
        position,
        'the archive is corrupt or crafted to show different contents to different tools',
        { path: rec.rawName },
      );
    }
    const tm = typeAndMode(rec.rawName, h.versionMadeBy, h.externalAttributes);
    const delivered = index.type(k);
    if (tm.type !== delivered) {
      warn(
        zipWarning(
          'FORMAT_WARNING',
          `'${name}' is a ${tm.type} according to the central directory, but streaming mode delivered it as a ${delivered === 'file' ? 'regular file' : delivered}${tm.type === 'symlink' ? ' whose content is the link target' : ''}`,
          index.offset(k) + start,
          'local headers carry no file type; read the archive from a file to get it',
          rec.rawName,
        ),
      );
    } else if (tm.unix && tm.mode !== (delivered === 'directory' ? DEFAULT_DIR_MODE : DEFAULT_FILE_MODE)) {
      modes++;
    }
  }

  if (index.complete) {
    for (let k = 0; k < index.count; k++) {
      if (matched[k] === 1) continue;
      warn(
        zipWarning(
          'FORMAT_WARNING',
          `'${escapePath(index.name(k))}' (local header at byte ${index.offset(k) + start}) is not in the central directory`,
          index.offset(k) + start,
          'tools that read the central directory do not see it',
          index.name(k),
        ),
      );
    }
  } else {
    warn(zipWarning('FORMAT_WARNING', `more than ${index.count} entries: the central directory was not cross-checked against them`, src.position));
  }
  if (modes > 0) {
    warn(
      zipError(
        'FORMAT_WARNING',
        `${modes} ${modes === 1 ? 'entry has' : 'entries have'} permissions in the central directory that streaming mode could not apply (${modes === 1 ? 'it was' : 'they were'} given 0644 / 0755)`,
        src.position,
        'read the archive from a file to get them',
        { severity: 'info' },
      ),
    );
  }

  // ---- end records --------------------------------------------------------------------------
  let zip64Total = -1;
  for (;;) {
    if ((await src.fill(4)) < 4) throw truncated();
    const at = src.position;
    const sig = u32(src.peek(4), 0);
    if (sig === SIG.DIGITAL_SIGNATURE) {
      const h = await readExact(src, 6, `digital signature record at byte ${at}`);
      await src.skip(u16(h, 4), LAYER, 'digital signature record');
    } else if (sig === SIG.ZIP64_EOCD) {
      const h = await readExact(src, 12, `zip64 end of central directory record at byte ${at}`);
      const rest = u64(h, ZIP64_EOCD.recordSize.offset);
      if (rest < ZIP64_EOCD.size - 12 || rest > maxMeta) {
        throw zipError('FORMAT_CORRUPT', `zip64 end of central directory record at byte ${at} has an impossible size`, at, 'the archive is corrupt');
      }
      const body = await readExact(src, rest, `zip64 end of central directory record at byte ${at}`);
      zip64Total = u64(body, ZIP64_EOCD.totalEntries.offset - 12);
      stats.variant = 'zip64';
    } else if (sig === SIG.ZIP64_LOCATOR) {
      await src.skip(ZIP64_LOCATOR.size, LAYER, 'zip64 end of central directory locator');
    } else if (sig === SIG.EOCD) {
      const e = await readExact(src, EOCD.size, `end of central directory record at byte ${at}`);
      const total = u16(e, EOCD.totalEntries.offset);
      const ok = zip64Total >= 0 ? zip64Total === count : total === U16_MAX || total === count % 0x10000;
      if (!ok) {
        throw zipError(
          'FORMAT_CORRUPT',
          `the end record at byte ${at} counts ${zip64Total >= 0 ? zip64Total : total} entries, the central directory holds ${count}`,
          at,
          'the archive is corrupt',
        );
      }
      await src.skip(u16(e, EOCD.commentLength.offset), LAYER, 'archive comment');
      break;
    } else {
      throw zipError('FORMAT_CORRUPT', `unexpected bytes at byte ${at} in the central directory (signature ${u32(src.peek(4), 0).toString(16)})`, at, 'the archive is corrupt');
    }
  }
  if (!(await src.atEnd())) {
    warn(zipWarning('FORMAT_WARNING', `data after the end of the archive (byte ${src.position}) is ignored`, src.position));
  }
}
