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
import { EntryIterator, type EntrySource } from '../../entry/entry-iterator.js';
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
  newPaxFields,
  parsePaxInto,
  parsePaxInteger,
  parsePaxRecords,
  parsePaxTime,
  paxExtra,
  type PaxFields,
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
  return n - src.drop(n);
}

/** Skips `n` bytes: synchronously from the buffer when possible, else through the source. */
async function skipBytes(src: ByteSource, n: number, what: string): Promise<void> {
  const left = skipBuffered(src, n);
  if (left > 0) await src.skip(left, LAYER, what);
}

function paxUidLike(f: Buffer | undefined, field: string, offset: number, warn: (w: ZoneP2vError) => void): number | undefined {
  if (f === undefined) return undefined;
  const v = parsePaxInteger(f);
  if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) return v;
  warn(formatError('FORMAT_WARNING', LAYER, `invalid pax ${field} value`, offset, 'the value is ignored', { severity: 'warning' }));
  return undefined;
}

/** Typeflags of the meta records this reader consumes (never entries). */
function isMetaTypeflag(tf: number): boolean {
  return (
    tf === TF_PAX_LOCAL ||
    tf === TF_SOLARIS_X ||
    tf === TF_PAX_GLOBAL ||
    tf === TF_GNU_LONGNAME ||
    tf === TF_GNU_LONGLINK ||
    tf === TF_SOLARIS_ACL ||
    tf === TF_SOLARIS_XATTR ||
    tf === TF_GNU_VOLHDR
  );
}

/** What an entry's typeflag makes of it; null for an unknown typeflag. */
function typeOf(tf: number, path: Buffer): EntryType | null {
  switch (tf) {
    case TF_REG:
    case TF_CONTIG:
    case TF_GNU_SPARSE:
      return 'file';
    case TF_AREG:
      return path.length > 0 && path[path.length - 1] === 0x2f ? 'directory' : 'file';
    case TF_LINK:
      return 'hardlink';
    case TF_SYMLINK:
      return 'symlink';
    case TF_CHR:
      return 'char-device';
    case TF_BLK:
      return 'block-device';
    case TF_DIR:
    case TF_GNU_DUMPDIR:
      return 'directory';
    case TF_FIFO:
      return 'fifo';
    default:
      return null;
  }
}

/** Entry types whose data follows the header (a directory's, symlink's or device's never does). */
function hasDataOf(type: EntryType): boolean {
  return type === 'file' || type === 'hardlink';
}

/**
 * Reads a tar stream from `src` (positioned on the first header) and yields its entries.
 * See the file comment for the state machine and the policies.
 */
export function readTar(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  return new EntryIterator(new TarReader(src, stats, options));
}

/**
 * One archive being read: the pending meta state, the pax globals and the body in flight.
 *
 * Hot path: next() is small and handles the usual member (an optional pax `x` header, then a
 * file, directory or link whose body is buffered) without waiting; whatever is rare (other
 * meta records, sparse files, GNU dump directories, unknown typeflags) lives in methods of
 * its own. One large function with every case inline cost several hundred milliseconds of
 * optimizing-compiler time per run, twice (a rare branch deoptimized it).
 */
class TarReader implements EntrySource {
  readonly #src: ByteSource;
  readonly #stats: ReaderStats;
  readonly #limit: number;
  readonly #onWarning: FormatReadOptions['onWarning'];
  readonly #signal: AbortSignal | undefined;
  readonly #base: number;
  readonly #globals = new PaxGlobals();
  readonly #unames = new NameFieldCache();
  readonly #gnames = new NameFieldCache();

  // Pending meta state for the next entry.
  /** The pending local pax records (x/X), keyword → value, a later record winning. */
  #local: Record<string, Buffer> | null = null;
  /** Their bodies, in order (GNU sparse 0.0 reads the records as a sequence); an array only past one. */
  #localBodies: Buffer | Buffer[] | null = null;
  /** Scratch for the fields the reader applies, refilled per entry (hot path: no allocation). */
  readonly #fields: PaxFields = newPaxFields();
  #longName: Buffer | null = null;
  #longLink: Buffer | null = null;
  #acl: { type: number; text: string } | null = null;
  #pendingAt = -1;
  #pendingBytes = 0;

  #sawPax = false;
  #rank = -1;
  /** The body handed out with the last entry, and the padding after it. */
  #cursor: BodyCursor | SparseBody | null = null;
  #pad = 0;

  constructor(src: ByteSource, stats: ReaderStats, options: FormatReadOptions) {
    this.#src = src;
    this.#stats = stats;
    this.#limit = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
    this.#onWarning = options.onWarning;
    this.#signal = options.signal;
    this.#base = src.position;
  }

  noteBytesRead(): void {
    this.#stats.bytesRead = this.#src.position - this.#base;
  }

  close(): void {
    this.noteBytesRead();
  }

  /** After the last entry: the warning for dangling meta records, the variant of an empty archive. */
  end(): void {
    if (this.#pendingAt >= 0) this.#warn('extended header or long name is not followed by an entry', this.#pendingAt);
    if (this.#rank < 0 && this.#stats.variant === '') this.#stats.variant = 'ustar';
  }

  /** The next entry, or null at the end of the archive. Hot path. */
  async next(): Promise<Entry | null> {
    const src = this.#src;
    for (;;) {
      const cursor = this.#cursor;
      if (cursor !== null) {
        // A read or buffered body is finished synchronously.
        if (!(cursor instanceof BodyCursor && cursor.finishBuffered())) await cursor.finish();
        this.#cursor = null;
      }
      if (this.#pad > 0) {
        const left = skipBuffered(src, this.#pad);
        this.#pad = 0;
        if (left > 0) await src.skip(left, LAYER, 'padding');
      }
      this.noteBytesRead();
      if (this.#signal?.aborted) {
        throw new ZoneP2vError('ABORTED', `${LAYER}: reading aborted at byte ${src.position}`, {
          layer: LAYER,
          offset: src.position,
          cause: this.#signal.reason,
        });
      }

      // ---- the next header block
      const off = src.position;
      if (src.buffered < BLOCK_SIZE) await src.fill(BLOCK_SIZE);
      const avail = src.buffered;
      if (avail < BLOCK_SIZE) {
        if (avail > 0 && !isZero(src.peek(avail), 0, avail)) throw src.truncated(LAYER, 'header', BLOCK_SIZE - avail);
        this.#warn('archive ends without an end-of-archive marker', off, 'the archive may be truncated');
        return null;
      }
      const h = src.take(BLOCK_SIZE);
      const ck = verifyChecksum(h);
      if (ck === Checksum.Zero) {
        if (await this.#zeroBlock(off)) return null;
        continue;
      }
      if (ck === Checksum.Bad) {
        throw fail('FORMAT_CHECKSUM', 'header checksum mismatch', off, 'the archive is corrupt, or this is not a tar header');
      }

      const magic = magicOf(h);
      this.#noteRank(magic === Magic.Ustar ? RANK_USTAR : magic === Magic.Gnu ? RANK_GNU : RANK_V7);
      const tf = h[TYPEFLAG_OFF]!;
      if (tf === TF_PAX_LOCAL || tf === TF_SOLARIS_X) {
        // The usual meta record (a pax header before most members of a pax archive).
        const body = this.#bufferedMeta(h, off);
        if (body !== null) this.#addLocal(body, off, tf);
        else await this.#paxLocal(h, off, tf);
        continue;
      }
      if (isMetaTypeflag(tf)) {
        await this.#meta(h, off, tf);
        continue;
      }
      const entry = this.#entry(h, off, magic, tf);
      const e = entry instanceof Promise ? await entry : entry;
      if (e === null) continue;
      this.#clearPending();
      this.#stats.entries++;
      this.noteBytesRead();
      return e;
    }
  }

  // ---------------------------------------------------------------- meta records

  /**
   * A zero block at `off` (already taken): true when it ends the archive (another zero block,
   * EOF, or anything but a header after it), false when a header follows (warning, reading
   * goes on).
   */
  async #zeroBlock(off: number): Promise<boolean> {
    const src = this.#src;
    this.noteBytesRead();
    if (src.buffered < BLOCK_SIZE) await src.fill(BLOCK_SIZE);
    const n = src.buffered;
    if (n === 0) return true;
    if (n < BLOCK_SIZE) {
      if (!isZero(src.peek(n), 0, n)) this.#warn('lone zero block followed by a partial block', off, 'treated as the end of the archive');
      return true;
    }
    const next = verifyChecksum(src.peek(BLOCK_SIZE));
    if (next === Checksum.Zero) {
      src.take(BLOCK_SIZE);
      this.noteBytesRead();
      return true;
    }
    if (next === Checksum.Bad) {
      this.#warn('lone zero block followed by non-header data', off, 'treated as the end of the archive');
      return true;
    }
    this.#warn('lone zero block inside the archive', off, 'skipped; reading continues');
    return false;
  }

  /**
   * The body of a pax `x`/`X` record when it is within the limit and buffered with its
   * padding: a private copy (record values are views into it and may live on in `extra.pax`),
   * taken without waiting. Null otherwise (#paxLocal reads it). Hot path.
   */
  #bufferedMeta(h: Buffer, off: number): Buffer | null {
    const size = parseNumeric(h, SIZE_OFF, SIZE_LEN, true);
    if (!(size >= 0 && size <= this.#limit)) return null; // invalid or large: the general path judges it
    const pad = paddingOf(size);
    if (this.#src.buffered < size + pad) return null;
    const body = Buffer.allocUnsafe(size);
    this.#src.takeInto(body, 0, size);
    this.#src.drop(pad);
    return body;
  }

  /** A pax `x`/`X` record read through the general path (not buffered yet, or large). */
  async #paxLocal(h: Buffer, off: number, tf: number): Promise<void> {
    const what = tf === TF_PAX_LOCAL ? 'pax extended header' : 'Solaris extended header';
    this.#addLocal(await this.#readPaxBody(h, off, what), off, tf);
  }

  /** Parses a pax `x`/`X` body and keeps its records pending for the next entry. */
  #addLocal(body: Buffer, off: number, tf: number): void {
    const what = tf === TF_PAX_LOCAL ? 'pax extended header' : 'Solaris extended header';
    countMeta(this.#stats, tf === TF_PAX_LOCAL ? 'pax-x' : 'solaris-X');
    this.#sawPax = true;
    this.#noteRank(RANK_PAX);
    this.#addPending(off, body.length);
    if (this.#local === null) this.#local = {};
    const bodies = this.#localBodies;
    this.#localBodies = bodies === null ? body : Array.isArray(bodies) ? [...bodies, body] : [bodies, body];
    const malformedAt = parsePaxInto(body, this.#local);
    if (malformedAt >= 0) {
      this.#warn(`malformed ${what} record`, off + BLOCK_SIZE + malformedAt, 'the rest of that header is ignored');
    }
  }

  /** The other meta records: g, L, K, A, E, V. */
  async #meta(h: Buffer, off: number, tf: number): Promise<void> {
    switch (tf) {
      case TF_PAX_GLOBAL: {
        const body = await this.#readPaxBody(h, off, 'pax global header');
        countMeta(this.#stats, 'pax-g');
        this.#sawPax = true;
        this.#noteRank(RANK_PAX);
        const parsed = parsePaxRecords(body);
        if (parsed.malformedAt >= 0) {
          this.#warn('malformed pax global header record', off + BLOCK_SIZE + parsed.malformedAt, 'the rest of that header is ignored');
        }
        this.#globals.merge(parsed.records, this.#limit, off);
        return;
      }
      case TF_GNU_LONGNAME:
      case TF_GNU_LONGLINK: {
        const isName = tf === TF_GNU_LONGNAME;
        const body = await this.#readMeta(h, off, isName ? 'GNU long name' : 'GNU long link name');
        countMeta(this.#stats, isName ? 'gnu-longname' : 'gnu-longlink');
        this.#noteRank(RANK_GNU);
        this.#addPending(off, body.length);
        if (isName) this.#longName = longNameOf(body);
        else this.#longLink = longNameOf(body);
        return;
      }
      case TF_SOLARIS_ACL: {
        const body = await this.#readMeta(h, off, 'Solaris ACL record');
        countMeta(this.#stats, 'solaris-acl');
        this.#addPending(off, body.length);
        this.#acl = parseAcl(body);
        if (this.#acl === null) this.#warn('malformed Solaris ACL record', off, 'the ACL is ignored');
        return;
      }
      case TF_SOLARIS_XATTR:
        // Extended-attribute header and attribute data records (formats.md §4.7): consumed
        // whole, never emitted. Whatever was pending described the attribute, not a file.
        await this.#skipMember(checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), 'size', off, false));
        countMeta(this.#stats, 'solaris-xattr');
        this.#clearPending();
        return;
      case TF_GNU_VOLHDR:
        await this.#skipMember(checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), 'size', off, false));
        countMeta(this.#stats, 'gnu-volume-label');
        this.#noteRank(RANK_GNU);
        return;
    }
  }

  /** Reads a meta record body (size-checked against the limit) and its padding. */
  async #readMeta(h: Buffer, offset: number, what: string): Promise<Buffer> {
    const size = checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), `${what} size`, offset, false);
    const limit = this.#limit;
    if (size > limit) {
      throw fail(
        'LIMIT_META_SIZE',
        `${what} of ${size} bytes exceeds the meta record limit of ${limit} bytes`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
    const body = size === 0 ? Buffer.alloc(0) : await this.#src.read(size, LAYER, what);
    await skipBytes(this.#src, paddingOf(size), `${what} padding`);
    return body;
  }

  /**
   * Reads a pax (x/g/X) body. Within the meta limit it is read whole. A larger body is walked
   * record by record without buffering it: records the reader applies (path, size, ids, times,
   * sparse and device keys) must still fit the limit (LIMIT_META_SIZE otherwise); any other
   * oversized record (a big xattr or ACL, libarchive's pax_large_attr sample) is skipped with a
   * warning, so one huge attribute cannot fail a whole image nor grow memory.
   */
  async #readPaxBody(h: Buffer, offset: number, what: string): Promise<Buffer> {
    const src = this.#src;
    const limit = this.#limit;
    const size = checked(parseNumeric(h, SIZE_OFF, SIZE_LEN, true), `${what} size`, offset, false);
    // Within the limit, or absurd (a 4 GiB `g` header): #readMeta reads it or refuses it at once.
    // A private copy: record values are views into it and may live on in `extra.pax`.
    if (size <= limit || size > limit * PAX_STREAM_FACTOR) return Buffer.from(await this.#readMeta(h, offset, what));
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
        this.#warn(`malformed ${what} record`, src.position, 'the rest of that header is ignored');
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
        this.#warn(`${what} record '${key}' of ${len} bytes exceeds the meta record limit of ${limit} bytes`, src.position, 'the record is ignored');
        await skipBytes(src, len, what);
      }
      left -= len;
    }
    await skipBytes(src, left + paddingOf(size), `${what} padding`);
    return Buffer.concat(kept, keptBytes);
  }

  /** Skips a member's data (and padding) without looking at it. */
  async #skipMember(size: number): Promise<void> {
    if (size > 0) await skipBytes(this.#src, size + paddingOf(size), 'entry body');
  }

  // ---------------------------------------------------------------- entries

  /**
   * The entry a header describes, with the pending meta records applied; null when the member
   * is skipped (unknown typeflag). Hot path: synchronous unless the member needs more reading
   * first (a sparse map, a dump directory's listing, the ustar hard-link size rule at a seam).
   */
  #entry(h: Buffer, off: number, magic: Magic, tf: number): Entry | null | Promise<Entry | null> {
    const local = this.#local;
    const f: PaxFields | null = local !== null || this.#globals.size > 0 ? collectPaxFields(this.#fields, this.#globals, local) : null;

    // A pax size is validated whatever the type (a negative one is fatal, formats.md §4.4).
    let paxSize = -1;
    if (f !== null && f.size !== undefined) {
      const v = parsePaxInteger(f.size);
      if (v !== v || v < 0) throw fail('FORMAT_CORRUPT', `invalid pax size "${f.size.toString('latin1', 0, 40)}"`, off);
      paxSize = checked(v, 'pax size', off, false);
    }
    const path: Buffer = f !== null && f.path !== undefined ? f.path : this.#longName !== null ? this.#longName : headerPath(h, magic);
    const type = typeOf(tf, path);
    if (type === null || tf === TF_GNU_DUMPDIR) return this.#skippedData(h, off, magic, tf, f, paxSize, path);
    // Stored size: what follows the header in the stream (before the hard-link rule). The
    // header field is only parsed for the types whose data follows.
    const stored = hasDataOf(type) ? dataSizeOf(h, off, paxSize) : 0;
    if (type === 'hardlink' && stored > 0 && !this.#sawPax) {
      // Hard-link size rule (formats.md §4.8).
      if (magic !== Magic.Ustar) return this.#build(h, off, magic, tf, f, path, type, 0);
      const src = this.#src;
      if (src.buffered < BLOCK_SIZE) return this.#hardlinkAtSeam(h, off, magic, tf, f, path, stored);
      return this.#build(h, off, magic, tf, f, path, type, verifyChecksum(src.peek(BLOCK_SIZE)) !== Checksum.Bad ? 0 : stored);
    }
    if (tf === TF_GNU_SPARSE || (f !== null && type === 'file' && isPaxSparse(f))) return this.#sparse(h, off, magic, tf, f!, path, stored);
    return this.#build(h, off, magic, tf, f, path, type, stored);
  }

  /** A member whose data is not a body: a GNU dump directory (its listing), or an unknown typeflag (skipped, null). */
  async #skippedData(h: Buffer, off: number, magic: Magic, tf: number, f: PaxFields | null, paxSize: number, path: Buffer): Promise<Entry | null> {
    if (tf !== TF_GNU_DUMPDIR) {
      this.#warn(`unknown typeflag ${typeflagName(tf)}`, off, 'the entry is skipped', path);
      countMeta(this.#stats, 'unknown-typeflag');
      await this.#skipMember(dataSizeOf(h, off, paxSize));
      this.#clearPending();
      return null;
    }
    // A GNU incremental directory: its data is a listing of names, not file content.
    await this.#skipMember(dataSizeOf(h, off, paxSize));
    return this.#build(h, off, magic, tf, f, path, 'directory', 0);
  }

  /** The ustar hard-link size rule when the next block is not buffered yet. */
  async #hardlinkAtSeam(h: Buffer, off: number, magic: Magic, tf: number, f: PaxFields | null, path: Buffer, stored: number): Promise<Entry> {
    const src = this.#src;
    await src.fill(BLOCK_SIZE);
    const obeyed = src.buffered >= BLOCK_SIZE && verifyChecksum(src.peek(BLOCK_SIZE)) === Checksum.Bad;
    return this.#build(h, off, magic, tf, f, path, 'hardlink', obeyed ? stored : 0);
  }

  /**
   * A sparse file: GNU old sparse ('S'), or GNU sparse 0.0, 0.1 or 1.0 in pax (formats.md
   * §4.9). The header fields and pax overrides come first (their warnings in the same order
   * as for any entry), then the map.
   */
  async #sparse(h: Buffer, off: number, magic: Magic, tf: number, f: PaxFields | null, path: Buffer, stored: number): Promise<Entry> {
    const src = this.#src;
    const limit = this.#limit;
    const pax = f !== null && isPaxSparse(f);
    const e = this.#build(h, off, magic, tf, f, pax && f.sparseName !== undefined ? f.sparseName : path, 'file', 0);
    let size = stored;
    let flat: number[] | null = null;
    let sparse10 = false;
    if (f !== null) {
      if (pax) {
        if (f.sparseMajor !== undefined && f.sparseMajor.length === 1 && f.sparseMajor[0] === 0x31) sparse10 = true;
        else if (f.sparseMap !== undefined) flat = parseSparseMap01(f.sparseMap, off);
        else flat = sparseMap00([this.#localBodies!].flat().flatMap((b) => parsePaxRecords(b).records), off);
        size = -1;
        const realsize = f.sparseRealsize ?? f.sparseSize;
        if (realsize !== undefined) {
          const v = parsePaxInteger(realsize);
          if (!(v >= 0)) throw fail('FORMAT_CORRUPT', 'invalid GNU sparse real size', off);
          size = checked(v, 'GNU sparse real size', off, false);
        }
      } else if (f.holesdata !== undefined && parseHolesdata(f.holesdata, stored) === null) {
        // An 'S' header wins over a Solaris map; a malformed one is still reported.
        this.#warn('malformed SUN.holesdata map', off, 'the map is ignored; the body holds the whole file', e.path);
      }
    }
    if (tf === TF_GNU_SPARSE) {
      size = checked(parseNumeric(h, GNU_REALSIZE_OFF, GNU_REALSIZE_LEN, true), 'GNU sparse real size', off, false);
      flat = await readOldGnuSparse(h, src, limit, off);
    }
    let data = stored;
    if (sparse10) {
      const m = await readSparseMap10(src, stored, limit, off);
      flat = m.flat;
      data = stored - m.consumed;
    }
    const runs = flat!;
    if (size < 0) size = runs.length >= 2 ? runs[runs.length - 2]! + runs[runs.length - 1]! : 0;
    const map = checkSparseRuns(runs, size, data, off);
    const sb = new SparseBody(new BodyCursor(src, data, LAYER), map, size, off);
    e.size = size;
    e.extra.sparseMap = map;
    e.body = sb.iterable;
    this.#cursor = sb;
    this.#pad = paddingOf(stored);
    return e;
  }

  /**
   * Builds the Entry: header fields, the pax overrides, the body over the `stored` bytes that
   * follow, the pending ACL. Hot path.
   */
  #build(h: Buffer, off: number, magic: Magic, tf: number, f: PaxFields | null, path: Buffer, type: EntryType, stored: number): Entry {
    const extra: EntryExtra = { variant: f !== null ? 'pax' : VARIANTS[magic === Magic.Ustar ? RANK_USTAR : magic === Magic.Gnu ? RANK_GNU : RANK_V7] };
    let linkTarget: Buffer | null = null;
    if (type === 'hardlink' || type === 'symlink') {
      linkTarget =
        f !== null && f.linkpath !== undefined
          ? f.linkpath
          : this.#longLink !== null
            ? this.#longLink
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
      uname = this.#unames.get(h, UNAME_OFF, UNAME_LEN) || undefined;
      gname = this.#gnames.get(h, GNAME_OFF, GNAME_LEN) || undefined;
    }
    const isDevice = type === 'char-device' || type === 'block-device';
    let devMajor = 0;
    let devMinor = 0;
    if (isDevice) {
      devMajor = checked(parseNumeric(h, DEVMAJOR_OFF, DEVMAJOR_LEN, false), 'devmajor', off, false);
      devMinor = checked(parseNumeric(h, DEVMINOR_OFF, DEVMINOR_LEN, false), 'devminor', off, false);
    }
    let nlink: number | undefined;
    let ino: number | undefined;
    if (f !== null) {
      extra.pax = paxExtra(this.#globals, this.#local);
      const warn = this.#onWarning;
      if (f.uid !== undefined) uid = paxUidLike(f.uid, 'uid', off, warn) ?? uid;
      if (f.gid !== undefined) gid = paxUidLike(f.gid, 'gid', off, warn) ?? gid;
      if (f.uname !== undefined) uname = f.uname.toString(f.binary ? 'latin1' : 'utf8');
      if (f.gname !== undefined) gname = f.gname.toString(f.binary ? 'latin1' : 'utf8');
      if (f.mtime !== undefined) {
        const t = parsePaxTime(f.mtime);
        if (t === null) {
          this.#warn('invalid pax mtime value', off, 'the header mtime is used');
        } else {
          mtime = t.sec;
          mtimeNsec = t.nsec;
        }
      }
      if (isDevice) {
        devMajor = paxUidLike(f.devmajor, 'devmajor', off, warn) ?? devMajor;
        devMinor = paxUidLike(f.devminor, 'devminor', off, warn) ?? devMinor;
      }
      if (f.nlink !== undefined) nlink = paxUidLike(f.nlink, 'SCHILY.nlink', off, warn);
      if (f.ino !== undefined) ino = paxUidLike(f.ino, 'SCHILY.ino', off, warn);
      if (type === 'file' && f.holesdata !== undefined && tf !== TF_GNU_SPARSE && !isPaxSparse(f)) {
        const holes = parseHolesdata(f.holesdata, stored);
        if (holes === null) this.#warn('malformed SUN.holesdata map', off, 'the map is ignored; the body holds the whole file', path);
        else extra.sparseMap = holes;
      }
    }

    let body: AsyncIterable<Buffer> = EMPTY_BODY;
    if (stored > 0) {
      const c = new BodyCursor(this.#src, stored, LAYER);
      this.#cursor = c;
      this.#pad = paddingOf(stored);
      body = c;
    }
    const acl = this.#acl;
    if (acl !== null) {
      extra.acl = acl.text;
      extra.aclType = acl.type;
    }
    return {
      path,
      type,
      mode: mode >= 0 && mode <= Number.MAX_SAFE_INTEGER ? mode % 0o10000 : 0,
      uid,
      gid,
      uname,
      gname,
      size: stored,
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
  }

  // ---------------------------------------------------------------- pending state

  #warn(what: string, offset: number, hint?: string, path?: Buffer): void {
    this.#onWarning(formatError('FORMAT_WARNING', LAYER, what, offset, hint, { severity: 'warning', path }));
  }

  #noteRank(r: number): void {
    if (r > this.#rank) {
      this.#rank = r;
      this.#stats.variant = VARIANTS[r]!;
    }
  }

  #clearPending(): void {
    this.#local = null;
    this.#localBodies = null;
    this.#longName = null;
    this.#longLink = null;
    this.#acl = null;
    this.#pendingAt = -1;
    this.#pendingBytes = 0;
  }

  #addPending(offset: number, bytes: number): void {
    if (this.#pendingAt < 0) this.#pendingAt = offset;
    this.#pendingBytes += bytes;
    if (this.#pendingBytes > this.#limit) {
      throw fail(
        'LIMIT_META_SIZE',
        `extended headers for one entry hold ${this.#pendingBytes} bytes, more than the meta record limit of ${this.#limit}`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
  }
}

/** Whether pax records describe a GNU sparse file (1.0 major, a 0.1 map, or 0.0 offsets). */
function isPaxSparse(f: PaxFields): boolean {
  return (f.sparseMajor !== undefined && f.sparseMajor.length === 1 && f.sparseMajor[0] === 0x31) || f.sparseMap !== undefined || f.sparseOffsets;
}

/** The tar family reader (v7, ustar, GNU, pax, Solaris). */
export const tarFormat: FormatReader = {
  name: 'tar',
  bid: bidTar,
  read: readTar,
};
