/**
 * The tar reader: v7, POSIX ustar, GNU, pax and the Solaris extensions (formats.md §4).
 *
 * State machine, one 512-byte header per step:
 *   header → meta record (x / X / g / L / K / A / E / V): consumed here, counted in
 *            stats.metaRecords, and (except g, E, V) kept pending for the next entry;
 *          → entry: the pending records applied, yielded with a BodyCursor (or a SparseBody)
 *            over its data; when the consumer asks for the next entry the unread body and its
 *            padding are skipped (readers never demand draining);
 *          → zero block: end of archive when another zero block or EOF follows (the rest of
 *            the stream, e.g. a second concatenated archive or record padding, is not read).
 * Invariants: between steps the source is positioned on a 512-byte boundary of the archive;
 * pending meta state (local pax records, GNU long names, Solaris ACL) is cleared whenever an
 * entry, an unknown-typeflag member or an `E` record consumes it; `g` records persist to the
 * end; the total of pending and global meta bytes stays within `maxMetaSize`.
 *
 * Policy decisions (formats.md §4.8, §4.10):
 *   - hard-link size: 0 → no body; pax archive (an x/X/g header seen) → the size is obeyed;
 *     v7 or GNU header → ignored; plain ustar → ignored when the next block is a valid header,
 *     a zero block or EOF, else obeyed (libarchive's rule, except that a zero block also means
 *     "no data": old writers put the target size on a final link followed by the end blocks);
 *   - EOF exactly at a header boundary without end blocks: one FORMAT_WARNING; EOF inside a
 *     header, body, padding or meta record: FORMAT_TRUNCATED;
 *   - a lone zero block followed by a valid header: warning, reading continues; followed by
 *     anything else: warning, end of archive (plexus-archiver writes one zero block + junk).
 * Hot path: the header is parsed from the 512-byte view without copying; per entry the only
 * allocations are the Entry, its path (and link target), `extra` and the body cursor.
 */

import { BodyCursor, EMPTY_BODY } from '../../entry/body-cursor.js';
import type { Entry, EntryExtra, EntryType } from '../../entry/entry.js';
import { ZoneP2vError, formatError, type ErrorCode } from '../../errors.js';
import type { ByteSource } from '../../io/byte-source.js';
import {
  DEFAULT_MAX_META_SIZE,
  countMeta,
  type FormatBid,
  type FormatReadOptions,
  type FormatReader,
  type ReaderStats,
} from '../format.js';
import {
  BLOCK_SIZE,
  Checksum,
  DEVMAJOR_LEN,
  DEVMAJOR_OFF,
  DEVMINOR_LEN,
  DEVMINOR_OFF,
  GID_LEN,
  GID_OFF,
  GNAME_LEN,
  GNAME_OFF,
  GNU_REALSIZE_LEN,
  GNU_REALSIZE_OFF,
  LINKNAME_LEN,
  LINKNAME_OFF,
  MODE_LEN,
  MODE_OFF,
  MTIME_LEN,
  MTIME_OFF,
  Magic,
  NAME_OFF,
  NameFieldCache,
  SIZE_LEN,
  SIZE_OFF,
  TYPEFLAG_OFF,
  UID_LEN,
  UID_OFF,
  UNAME_LEN,
  UNAME_OFF,
  copyField,
  hasPosixVersion,
  headerPath,
  isPlausibleNumeric,
  isZero,
  magicOf,
  paddingOf,
  parseNumeric,
  typeflagName,
  verifyChecksum,
} from './header.js';
import {
  PaxGlobals,
  collectPaxFields,
  parsePaxInteger,
  parsePaxRecords,
  parsePaxTime,
  paxExtra,
  type PaxFields,
  type PaxRecord,
} from './pax.js';
import {
  SparseBody,
  checkSparseRuns,
  parseHolesdata,
  parseSparseMap01,
  readOldGnuSparse,
  readSparseMap10,
  sparseMap00,
  type SparseMap,
} from './sparse.js';

const LAYER = 'tar';

// Typeflags (formats.md §4.3).
const TF_AREG = 0x00; // NUL: v7 regular file (directory when the name ends in '/')
const TF_REG = 0x30; // '0'
const TF_LINK = 0x31; // '1'
const TF_SYMLINK = 0x32; // '2'
const TF_CHR = 0x33; // '3'
const TF_BLK = 0x34; // '4'
const TF_DIR = 0x35; // '5'
const TF_FIFO = 0x36; // '6'
const TF_CONTIG = 0x37; // '7'
const TF_PAX_LOCAL = 0x78; // 'x'
const TF_PAX_GLOBAL = 0x67; // 'g'
const TF_SOLARIS_X = 0x58; // 'X' (Solaris extended header, same syntax as 'x')
const TF_SOLARIS_ACL = 0x41; // 'A'
const TF_SOLARIS_XATTR = 0x45; // 'E'
const TF_GNU_LONGNAME = 0x4c; // 'L'
const TF_GNU_LONGLINK = 0x4b; // 'K'
const TF_GNU_SPARSE = 0x53; // 'S'
const TF_GNU_DUMPDIR = 0x44; // 'D'
const TF_GNU_VOLHDR = 0x56; // 'V'

const VARIANTS = ['v7', 'ustar', 'gnu', 'pax'] as const;
const RANK_V7 = 0;
const RANK_USTAR = 1;
const RANK_GNU = 2;
const RANK_PAX = 3;

// ---------------------------------------------------------------------------------------------
// Detection

/**
 * Bids on the first ≤ 1024 bytes (formats.md §1): a valid checksum (unsigned or signed) plus
 * the ustar magic at 257 is a strong bid (64 bits with version "00" or the GNU magic, 56 for
 * "ustar\0" with another version); a valid checksum with plausible numeric fields and a name is
 * a weak v7 bid (24); two zero blocks (an empty archive) bid 10 as ustar.
 */
export function bidTar(head: Buffer): FormatBid | null {
  if (head.length < BLOCK_SIZE) return null;
  const ck = verifyChecksum(head);
  if (ck === Checksum.Zero) {
    if (head.length >= 2 * BLOCK_SIZE && isZero(head, BLOCK_SIZE, BLOCK_SIZE)) return { bits: 10, variant: 'ustar' };
    return null;
  }
  if (ck === Checksum.Bad) return null;
  const magic = magicOf(head);
  if (magic === Magic.Ustar) return { bits: hasPosixVersion(head) ? 64 : 56, variant: 'ustar' };
  if (magic === Magic.Gnu) return { bits: 64, variant: 'gnu' };
  if (head[NAME_OFF] === 0) return null;
  const tf = head[TYPEFLAG_OFF]!;
  const tfOk = tf === 0 || (tf >= 0x30 && tf <= 0x37) || (tf >= 0x41 && tf <= 0x5a) || (tf >= 0x61 && tf <= 0x7a);
  if (
    !tfOk ||
    !isPlausibleNumeric(head, MODE_OFF, MODE_LEN) ||
    !isPlausibleNumeric(head, UID_OFF, UID_LEN) ||
    !isPlausibleNumeric(head, GID_OFF, GID_LEN) ||
    !isPlausibleNumeric(head, SIZE_OFF, SIZE_LEN) ||
    !isPlausibleNumeric(head, MTIME_OFF, MTIME_LEN)
  ) {
    return null;
  }
  return { bits: 24, variant: 'v7' };
}

// ---------------------------------------------------------------------------------------------
// Reading

/** A pax header up to this many times the meta limit is walked record by record; larger is refused. */
const PAX_STREAM_FACTOR = 64;

/** pax keywords the reader applies: never dropped for size. */
const APPLIED_PAX_KEY = /^(path|linkpath|size|uid|gid|uname|gname|mtime|hdrcharset|GNU\.sparse\..*|SUN\..*|SCHILY\.(devmajor|devminor|nlink|ino))$/;

function fail(code: ErrorCode, what: string, offset: number, hint = 'the archive is corrupt'): ZoneP2vError {
  return formatError(code, LAYER, what, offset, hint);
}

/** Validates a parsed numeric value: NaN → FORMAT_CORRUPT, ±Infinity → FORMAT_UNSUPPORTED. */
function checked(v: number, field: string, offset: number, allowNegative: boolean): number {
  if (v !== v) throw fail('FORMAT_CORRUPT', `invalid ${field} field`, offset);
  if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
    throw fail('FORMAT_UNSUPPORTED', `${field} value beyond 2^53 - 1`, offset, 'this reader handles values up to 2^53 - 1');
  }
  if (v < 0 && !allowNegative) throw fail('FORMAT_CORRUPT', `negative ${field} (${v})`, offset);
  return v;
}

/** The size of the data following a header: the pax `size` when given (≥ 0), else the header field. */
function dataSizeOf(h: Buffer, offset: number, paxSize: number): number {
  return paxSize >= 0 ? paxSize : checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), 'size', offset, false);
}

/** The Solaris `A` record body: 7 octal digits (ACL type + entry count), NUL, ACL text, NUL. */
function parseAcl(body: Buffer): { type: number; text: string } | null {
  if (body.length < 8 || body[7] !== 0) return null;
  let type = 0;
  for (let i = 0; i < 7; i++) {
    const c = body[i]!;
    if (c < 0x30 || c > 0x37) return null;
    type = type * 8 + (c - 0x30);
  }
  let end = 8;
  while (end < body.length && body[end] !== 0) end++;
  return { type, text: body.toString('latin1', 8, end) };
}

/** A GNU `L`/`K` body: the name up to its NUL, copied. */
function longNameOf(body: Buffer): Buffer {
  let n = 0;
  while (n < body.length && body[n] !== 0) n++;
  return Buffer.from(body.subarray(0, n));
}

/** Consumes up to `n` already-buffered bytes without waiting; returns how many are left to skip. */
function skipBuffered(src: ByteSource, n: number): number {
  let left = n;
  while (left > 0 && src.buffered > 0) left -= src.takeChunk(left)!.length;
  return left;
}

/** Skips `n` bytes: synchronously from the buffer when possible, else through the source. */
async function skipBytes(src: ByteSource, n: number, what: string): Promise<void> {
  const left = skipBuffered(src, n);
  if (left > 0) await src.skip(left, LAYER, what);
}

/**
 * An entry body handed out as `entry.body`: asks the cursor for its iterable only when the
 * consumer iterates, so listing (bodies never read) does not build one per entry. Hot path.
 */
class LazyBody implements AsyncIterable<Buffer> {
  readonly #cursor: BodyCursor | SparseBody;

  constructor(cursor: BodyCursor | SparseBody) {
    this.#cursor = cursor;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#cursor.iterable[Symbol.asyncIterator]();
  }
}

function paxUidLike(f: Buffer | undefined, field: string, offset: number, warn: (w: ZoneP2vError) => void): number | undefined {
  if (f === undefined) return undefined;
  const v = parsePaxInteger(f);
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return v;
  warn(formatError('FORMAT_WARNING', LAYER, `invalid pax ${field} value`, offset, 'the value is ignored', { severity: 'warning' }));
  return undefined;
}

/**
 * Reads a tar stream from `src` (positioned on the first header) and yields its entries.
 * See the file comment for the state machine and the policies.
 */
export async function* readTar(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  const limit = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
  const onWarning = options.onWarning;
  const signal = options.signal;
  const base = src.position;
  const globals = new PaxGlobals();
  const unames = new NameFieldCache();
  const gnames = new NameFieldCache();

  // Pending meta state for the next entry.
  let local: PaxRecord[] | null = null;
  let longName: Buffer | null = null;
  let longLink: Buffer | null = null;
  let acl: { type: number; text: string } | null = null;
  let pendingAt = -1;
  let pendingBytes = 0;

  let sawPax = false;
  let rank = -1;
  let cursor: BodyCursor | SparseBody | null = null;
  let pad = 0;

  const warn = (what: string, offset: number, hint?: string, path?: Buffer): void => {
    onWarning(formatError('FORMAT_WARNING', LAYER, what, offset, hint, { severity: 'warning', path }));
  };
  const noteRank = (r: number): void => {
    if (r > rank) {
      rank = r;
      stats.variant = VARIANTS[r]!;
    }
  };
  const clearPending = (): void => {
    local = null;
    longName = null;
    longLink = null;
    acl = null;
    pendingAt = -1;
    pendingBytes = 0;
  };
  const addPending = (offset: number, bytes: number): void => {
    if (pendingAt < 0) pendingAt = offset;
    pendingBytes += bytes;
    if (pendingBytes > limit) {
      throw fail(
        'LIMIT_META_SIZE',
        `extended headers for one entry hold ${pendingBytes} bytes, more than the meta record limit of ${limit}`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
  };
  /** Reads a meta record body (size-checked against the limit) and its padding. */
  const readMeta = async (h: Buffer, offset: number, what: string): Promise<Buffer> => {
    const size = checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), `${what} size`, offset, false);
    if (size > limit) {
      throw fail(
        'LIMIT_META_SIZE',
        `${what} of ${size} bytes exceeds the meta record limit of ${limit} bytes`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
    const body = size === 0 ? Buffer.alloc(0) : await src.read(size, LAYER, what);
    await skipBytes(src, paddingOf(size), `${what} padding`);
    return body;
  };
  /**
   * Reads a pax (x/g/X) body. Within the meta limit it is read whole. A larger body is walked
   * record by record without buffering it: records the reader applies (path, size, ids, times,
   * sparse and device keys) must still fit the limit (LIMIT_META_SIZE otherwise); any other
   * oversized record (a big xattr or ACL, libarchive's pax_large_attr sample) is skipped with a
   * warning, so one huge attribute cannot fail a whole image nor grow memory.
   */
  const readPaxBody = async (h: Buffer, offset: number, what: string): Promise<Buffer> => {
    const size = checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), `${what} size`, offset, false);
    // Within the limit, or absurd (a 4 GiB `g` header): readMeta reads it or refuses it at once.
    if (size <= limit || size > limit * PAX_STREAM_FACTOR) return Buffer.from(await readMeta(h, offset, what));
    const kept: Buffer[] = [];
    let keptBytes = 0;
    let left = size;
    while (left > 0) {
      await src.fill(Math.min(left, 512));
      const head = src.peek(Math.min(left, 512));
      if (head[0] === 0) break;
      let len = 0;
      let j = 0;
      while (j < head.length && head[j]! >= 0x30 && head[j]! <= 0x39 && j < 16) len = len * 10 + (head[j++]! - 0x30);
      let k = j + 1;
      while (k < head.length && head[k] !== 0x3d) k++;
      if (j === 0 || head[j] !== 0x20 || k >= head.length || len > left || len < k + 2) {
        warn(`malformed ${what} record`, src.position, 'the rest of that header is ignored');
        break;
      }
      const key = head.toString('utf8', j + 1, k);
      if (keptBytes + len <= limit) {
        const rec = await src.read(len, LAYER, what);
        kept.push(Buffer.from(rec));
        keptBytes += len;
      } else if (APPLIED_PAX_KEY.test(key)) {
        throw fail('LIMIT_META_SIZE', `${what} record '${key}' of ${len} bytes exceeds the meta record limit of ${limit} bytes`, src.position, 'raise maxMetaSize if the archive is trusted');
      } else {
        warn(`${what} record '${key}' of ${len} bytes exceeds the meta record limit of ${limit} bytes`, src.position, 'the record is ignored');
        await skipBytes(src, len, what);
      }
      left -= len;
    }
    await skipBytes(src, left + paddingOf(size), `${what} padding`);
    return Buffer.concat(kept, keptBytes);
  };
  /** Skips a member's data (and padding) without looking at it. */
  const skipMember = async (size: number): Promise<void> => {
    if (size > 0) await skipBytes(src, size + paddingOf(size), 'entry body');
  };

  try {
    for (;;) {
      if (cursor !== null) {
        // A fully read plain body needs no skipping: finish() only marks it stale, synchronously.
        if (cursor instanceof BodyCursor && cursor.remaining === 0) void cursor.finish();
        else await cursor.finish();
        cursor = null;
      }
      if (pad > 0) {
        pad = skipBuffered(src, pad);
        if (pad > 0) await src.skip(pad, LAYER, 'padding');
        pad = 0;
      }
      stats.bytesRead = src.position - base;
      if (signal?.aborted) {
        throw new ZoneP2vError('ABORTED', `${LAYER}: reading aborted at byte ${src.position}`, {
          layer: LAYER,
          offset: src.position,
          cause: signal.reason,
        });
      }

      // ---- the next header block
      const off = src.position;
      if (src.buffered < BLOCK_SIZE) await src.fill(BLOCK_SIZE);
      const avail = src.buffered;
      if (avail < BLOCK_SIZE) {
        if (avail > 0 && !isZero(src.peek(avail), 0, avail)) throw src.truncated(LAYER, 'header', BLOCK_SIZE - avail);
        warn('archive ends without an end-of-archive marker', off, 'the archive may be truncated');
        break;
      }
      const h = src.take(BLOCK_SIZE);
      const ck = verifyChecksum(h);

      if (ck === Checksum.Zero) {
        stats.bytesRead = src.position - base;
        if (src.buffered < BLOCK_SIZE) await src.fill(BLOCK_SIZE);
        const n = src.buffered;
        if (n === 0) break;
        if (n < BLOCK_SIZE) {
          if (!isZero(src.peek(n), 0, n)) warn('lone zero block followed by a partial block', off, 'treated as the end of the archive');
          break;
        }
        const next = verifyChecksum(src.peek(BLOCK_SIZE));
        if (next === Checksum.Zero) {
          src.take(BLOCK_SIZE);
          stats.bytesRead = src.position - base;
          break;
        }
        if (next === Checksum.Bad) {
          warn('lone zero block followed by non-header data', off, 'treated as the end of the archive');
          break;
        }
        warn('lone zero block inside the archive', off, 'skipped; reading continues');
        continue;
      }
      if (ck === Checksum.Bad) {
        throw fail('FORMAT_CHECKSUM', 'header checksum mismatch', off, 'the archive is corrupt, or this is not a tar header');
      }

      const magic = magicOf(h);
      noteRank(magic === Magic.Ustar ? RANK_USTAR : magic === Magic.Gnu ? RANK_GNU : RANK_V7);
      const tf = h[TYPEFLAG_OFF]!;

      // ---- meta records
      switch (tf) {
        case TF_PAX_LOCAL:
        case TF_SOLARIS_X: {
          const what = tf === TF_PAX_LOCAL ? 'pax extended header' : 'Solaris extended header';
          // A private copy: record values are views into it and may live on in `extra.pax`.
          const body = await readPaxBody(h, off, what);
          countMeta(stats, tf === TF_PAX_LOCAL ? 'pax-x' : 'solaris-X');
          sawPax = true;
          noteRank(RANK_PAX);
          addPending(off, body.length);
          const parsed = parsePaxRecords(body);
          if (parsed.malformedAt >= 0) {
            warn(`malformed ${what} record`, off + BLOCK_SIZE + parsed.malformedAt, 'the rest of that header is ignored');
          }
          local = local === null ? parsed.records : local.concat(parsed.records);
          continue;
        }
        case TF_PAX_GLOBAL: {
          const body = await readPaxBody(h, off, 'pax global header');
          countMeta(stats, 'pax-g');
          sawPax = true;
          noteRank(RANK_PAX);
          const parsed = parsePaxRecords(body);
          if (parsed.malformedAt >= 0) {
            warn('malformed pax global header record', off + BLOCK_SIZE + parsed.malformedAt, 'the rest of that header is ignored');
          }
          globals.merge(parsed.records, limit, off);
          continue;
        }
        case TF_GNU_LONGNAME:
        case TF_GNU_LONGLINK: {
          const isName = tf === TF_GNU_LONGNAME;
          const body = await readMeta(h, off, isName ? 'GNU long name' : 'GNU long link name');
          countMeta(stats, isName ? 'gnu-longname' : 'gnu-longlink');
          noteRank(RANK_GNU);
          addPending(off, body.length);
          if (isName) longName = longNameOf(body);
          else longLink = longNameOf(body);
          continue;
        }
        case TF_SOLARIS_ACL: {
          const body = await readMeta(h, off, 'Solaris ACL record');
          countMeta(stats, 'solaris-acl');
          addPending(off, body.length);
          acl = parseAcl(body);
          if (acl === null) warn('malformed Solaris ACL record', off, 'the ACL is ignored');
          continue;
        }
        case TF_SOLARIS_XATTR: {
          // Extended-attribute header and attribute data records (formats.md §4.7): consumed
          // whole, never emitted. Whatever was pending described the attribute, not a file.
          await skipMember(checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), 'size', off, false));
          countMeta(stats, 'solaris-xattr');
          clearPending();
          continue;
        }
        case TF_GNU_VOLHDR: {
          await skipMember(checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), 'size', off, false));
          countMeta(stats, 'gnu-volume-label');
          noteRank(RANK_GNU);
          continue;
        }
      }

      // ---- an entry
      const f: PaxFields | null = local !== null || globals.size > 0 ? collectPaxFields(globals, local) : null;

      // A pax size is validated whatever the type (a negative one is fatal, formats.md §4.4).
      let paxSize = -1;
      if (f !== null && f.size !== undefined) {
        const v = parsePaxInteger(f.size);
        if (v !== v || v < 0) throw fail('FORMAT_CORRUPT', `invalid pax size "${f.size.toString('latin1', 0, 40)}"`, off);
        paxSize = checked(v, 'pax size', off, false);
      }
      // Stored size: what follows the header in the stream (before the hard-link rule). The
      // header field is only parsed for the types whose data follows.
      let stored = 0;

      let path: Buffer =
        f !== null && f.path !== undefined ? f.path : longName !== null ? longName : headerPath(h, magic);

      let type: EntryType;
      let hasData = true;
      switch (tf) {
        case TF_REG:
        case TF_CONTIG:
        case TF_GNU_SPARSE:
          type = 'file';
          break;
        case TF_AREG:
          if (path.length > 0 && path[path.length - 1] === 0x2f) {
            type = 'directory';
            hasData = false;
          } else {
            type = 'file';
          }
          break;
        case TF_LINK:
          type = 'hardlink';
          break;
        case TF_SYMLINK:
          type = 'symlink';
          hasData = false;
          break;
        case TF_CHR:
          type = 'char-device';
          hasData = false;
          break;
        case TF_BLK:
          type = 'block-device';
          hasData = false;
          break;
        case TF_DIR:
          type = 'directory';
          hasData = false;
          break;
        case TF_FIFO:
          type = 'fifo';
          hasData = false;
          break;
        case TF_GNU_DUMPDIR:
          // A GNU incremental directory: its data is a listing of names, not file content.
          type = 'directory';
          await skipMember(dataSizeOf(h, off, paxSize));
          hasData = false;
          break;
        default: {
          warn(`unknown typeflag ${typeflagName(tf)}`, off, 'the entry is skipped', path);
          countMeta(stats, 'unknown-typeflag');
          await skipMember(dataSizeOf(h, off, paxSize));
          clearPending();
          continue;
        }
      }
      if (hasData) stored = dataSizeOf(h, off, paxSize);

      // Hard-link size rule (formats.md §4.8).
      if (type === 'hardlink' && stored > 0 && !sawPax) {
        if (magic !== Magic.Ustar) {
          stored = 0;
        } else {
          if (src.buffered < BLOCK_SIZE) await src.fill(BLOCK_SIZE);
          if (src.buffered < BLOCK_SIZE || verifyChecksum(src.peek(BLOCK_SIZE)) !== Checksum.Bad) stored = 0;
        }
      }

      const extra: EntryExtra = { variant: f !== null ? 'pax' : VARIANTS[magic === Magic.Ustar ? RANK_USTAR : magic === Magic.Gnu ? RANK_GNU : RANK_V7] };

      let linkTarget: Buffer | null = null;
      if (type === 'hardlink' || type === 'symlink') {
        linkTarget =
          f !== null && f.linkpath !== undefined
            ? f.linkpath
            : longLink !== null
              ? longLink
              : copyField(h, LINKNAME_OFF, LINKNAME_LEN);
      }

      const mode = parseNumeric(h, MODE_OFF, MODE_LEN, false);
      let uid = checked(parseNumeric(h, UID_OFF, UID_LEN, false), 'uid', off, false);
      let gid = checked(parseNumeric(h, GID_OFF, GID_LEN, false), 'gid', off, false);
      let mtime = checked(parseNumeric(h, MTIME_OFF, MTIME_LEN, false), 'mtime', off, true);
      let mtimeNsec: number | undefined;
      let uname: string | undefined;
      let gname: string | undefined;
      if (magic !== Magic.V7) {
        uname = unames.get(h, UNAME_OFF, UNAME_LEN) || undefined;
        gname = gnames.get(h, GNAME_OFF, GNAME_LEN) || undefined;
      }
      let devMajor = 0;
      let devMinor = 0;
      if (type === 'char-device' || type === 'block-device') {
        devMajor = checked(parseNumeric(h, DEVMAJOR_OFF, DEVMAJOR_LEN, false), 'devmajor', off, false);
        devMinor = checked(parseNumeric(h, DEVMINOR_OFF, DEVMINOR_LEN, false), 'devminor', off, false);
      }
      let nlink: number | undefined;
      let ino: number | undefined;

      let size = stored;
      let sparseFlat: number[] | null = null;
      let sparse10 = false;
      let holes: SparseMap | null = null;

      if (f !== null) {
        extra.pax = paxExtra(globals, local);
        const warnFn = onWarning;
        uid = paxUidLike(f.uid, 'uid', off, warnFn) ?? uid;
        gid = paxUidLike(f.gid, 'gid', off, warnFn) ?? gid;
        if (f.uname !== undefined) uname = f.uname.toString(f.binary ? 'latin1' : 'utf8');
        if (f.gname !== undefined) gname = f.gname.toString(f.binary ? 'latin1' : 'utf8');
        if (f.mtime !== undefined) {
          const t = parsePaxTime(f.mtime);
          if (t === null) {
            warn('invalid pax mtime value', off, 'the header mtime is used');
          } else {
            mtime = t.sec;
            mtimeNsec = t.nsec;
          }
        }
        if (type === 'char-device' || type === 'block-device') {
          devMajor = paxUidLike(f.devmajor, 'devmajor', off, warnFn) ?? devMajor;
          devMinor = paxUidLike(f.devminor, 'devminor', off, warnFn) ?? devMinor;
        }
        nlink = paxUidLike(f.nlink, 'SCHILY.nlink', off, warnFn);
        ino = paxUidLike(f.ino, 'SCHILY.ino', off, warnFn);

        if (type === 'file') {
          // GNU sparse in pax (formats.md §4.9).
          const realsize = f.sparseRealsize ?? f.sparseSize;
          if (f.sparseMajor !== undefined && f.sparseMajor.length === 1 && f.sparseMajor[0] === 0x31) {
            sparse10 = true;
          } else if (f.sparseMap !== undefined) {
            sparseFlat = parseSparseMap01(f.sparseMap, off);
          } else if (f.sparseOffsets && local !== null) {
            sparseFlat = sparseMap00(local, off);
          }
          if (sparse10 || sparseFlat !== null) {
            if (f.sparseName !== undefined) path = f.sparseName;
            size = -1;
            if (realsize !== undefined) {
              const v = parsePaxInteger(realsize);
              if (!(v >= 0)) throw fail('FORMAT_CORRUPT', 'invalid GNU sparse real size', off);
              size = checked(v, 'GNU sparse real size', off, false);
            }
          } else if (f.holesdata !== undefined) {
            holes = parseHolesdata(f.holesdata, size);
            if (holes === null) warn('malformed SUN.holesdata map', off, 'the map is ignored; the body holds the whole file', path);
          }
        }
      }

      if (tf === TF_GNU_SPARSE) {
        size = checked(parseNumeric(h, GNU_REALSIZE_OFF, GNU_REALSIZE_LEN, true), 'GNU sparse real size', off, false);
        sparseFlat = await readOldGnuSparse(h, src, limit, off);
      }

      // ---- the body
      let body: AsyncIterable<Buffer> = EMPTY_BODY;
      if (sparse10 || sparseFlat !== null) {
        let data = stored;
        if (sparse10) {
          const m = await readSparseMap10(src, stored, limit, off);
          sparseFlat = m.flat;
          data = stored - m.consumed;
        }
        const flat = sparseFlat!;
        if (size < 0) size = flat.length >= 2 ? flat[flat.length - 2]! + flat[flat.length - 1]! : 0;
        const map = checkSparseRuns(flat, size, data, off);
        extra.sparseMap = map;
        const sb = new SparseBody(new BodyCursor(src, data, LAYER), map, size, off);
        cursor = sb;
        body = new LazyBody(sb);
        pad = paddingOf(stored);
      } else {
        size = stored;
        if (stored > 0) {
          const c = new BodyCursor(src, stored, LAYER);
          cursor = c;
          body = new LazyBody(c);
          pad = paddingOf(stored);
        }
        if (holes !== null) extra.sparseMap = holes;
      }

      if (acl !== null) {
        extra.acl = acl.text;
        extra.aclType = acl.type;
      }

      const entry: Entry = {
        path,
        type,
        mode: mode >= 0 && mode <= Number.MAX_SAFE_INTEGER ? mode % 0o10000 : 0,
        uid,
        gid,
        uname,
        gname,
        size,
        mtime,
        mtimeNsec,
        linkTarget,
        devMajor,
        devMinor,
        nlink,
        ino,
        offset: off,
        extra,
        body,
      };
      clearPending();
      stats.entries++;
      stats.bytesRead = src.position - base;
      yield entry;
    }
  } finally {
    stats.bytesRead = src.position - base;
  }

  if (pendingAt >= 0) warn('extended header or long name is not followed by an entry', pendingAt);
  if (rank < 0 && stats.variant === '') stats.variant = 'ustar';
}

/** The tar family reader (v7, ustar, GNU, pax, Solaris). */
export const tarFormat: FormatReader = {
  name: 'tar',
  bid: bidTar,
  read: readTar,
};
