/**
 * The cpio reader: odc, newc, crc, afio large ASCII and old binary in both byte orders
 * (formats.md §3), as one stream of format-neutral Entries.
 *
 * State machine, one turn per record:
 *   HEADER  The fixed header is buffered and decoded into one reused CpioHeader. Nothing left
 *           at a record boundary ends the archive with one FORMAT_WARNING (no trailer); a partial
 *           header is FORMAT_TRUNCATED; a wrong magic is FORMAT_CORRUPT.
 *   NAME    namesize is checked (0, or above maxMetaSize) before anything is buffered for it.
 *           A record named `TRAILER!!!` ends the archive whatever its type, size or padding
 *           (libarchive test_read_format_cpio_symlink_trailer); nothing after it is read.
 *   META    Solaris extended-attribute records (type 0xB000) and ACL records (mode SECMODE) are
 *           consumed and counted in stats.metaRecords, never emitted (formats.md §3.6); the ACL
 *           text waits for the next emitted entry (extra.acl).
 *   ENTRY   Type from mode & S_IFMT; a symlink target is read whole into linkTarget (size 0,
 *           empty body); hard links are grouped by (dev, ino) for regular files with nlink > 1
 *           only (formats.md §3.5): the first member is a 'file', later ones 'hardlink' to its
 *           path, each with its own header size and body. The body is a BodyCursor
 *           (Solaris sparse: a BodyCursor behind the hole expander).
 *   DATA    When the consumer asks for the next entry: the unread body is skipped (through the
 *           crc sum for crc archives; synchronously when it is buffered), then the data
 *           padding.
 *
 * Invariants: at HEADER the source sits on a record start; padding is measured from the
 * position read() started at (the archive start); the header family is fixed by the first
 * record, except that odc and afio headers may alternate (afio writes both).
 *
 * Hot path: an OS image is ~100,000 small records. Per record: a few synchronous buffer
 * checks, a byte-loop header decode, one path copy, the Entry and its BodyCursor. No awaits
 * unless the buffer runs dry or the consumer reads a body, no regular expressions, no
 * per-record closures. Uses ByteSource.peekChunk to look at a header without copying.
 */

import { EMPTY_BODY, BodyCursor } from '../../entry/body-cursor.js';
import { EntryIterator, type EntrySource } from '../../entry/entry-iterator.js';
import { typeFromMode, type Entry, type EntryExtra, type EntryType } from '../../entry/entry.js';
import { escapePath } from '../../entry/escape-path.js';
import { ZoneP2vError, formatError } from '../../errors.js';
import type { ByteSource } from '../../io/byte-source.js';
import {
  DEFAULT_MAX_META_SIZE,
  countMeta,
  type FormatReadOptions,
  type FormatReader,
  type ReaderStats,
} from '../format.js';
import { bidCpio } from './bid.js';
import { byteSum } from './byte-sum.js';
import {
  BIN,
  C_ISSPARSE,
  CpioHeader,
  HIGH_ORD_MASK,
  MIN_HOLES_HDRSIZE,
  ODC,
  SECMODE,
  S_IFMT,
  S_IFREG,
  XATTR_CPIO_MODE,
  decodeHeader,
  fieldOffset,
  headerSizeOf,
  variantOfMagic,
  type CpioVariant,
} from './header.js';
import { solarisAclText } from './solaris-acl.js';
import { expandSparse, parseHolesPrefix, parseHolesRuns } from './sparse.js';

/** Error layer of each variant (`cpio-<variant>`), built once. */
const LAYER: Record<CpioVariant, string> = {
  odc: 'cpio-odc',
  newc: 'cpio-newc',
  crc: 'cpio-crc',
  afio: 'cpio-afio',
  'bin-le': 'cpio-bin-le',
  'bin-be': 'cpio-bin-be',
};

/** Alignment of header+name and of data, measured from the archive start. */
const ALIGN: Record<CpioVariant, number> = {
  odc: 1,
  afio: 1,
  newc: 4,
  crc: 4,
  'bin-le': 2,
  'bin-be': 2,
};

/** Variants that may follow each other in one archive. */
function family(v: CpioVariant): CpioVariant {
  return v === 'afio' ? 'odc' : v;
}

/** "TRAILER!!!" (the name without its NUL). */
const TRAILER = [0x54, 0x52, 0x41, 0x49, 0x4c, 0x45, 0x52, 0x21, 0x21, 0x21];

const MAGIC_PREFIXES = ['070707', '070701', '070702', '070727'].map((m) => Buffer.from(m, 'latin1'));

/** True when `b` (shorter than 6 bytes) could be the start of some cpio magic. */
function isMagicPrefix(b: Uint8Array): boolean {
  if (b.length >= 1 && b.length <= 2) {
    if (b[0] === 0xc7 && (b.length === 1 || b[1] === 0x71)) return true;
    if (b[0] === 0x71 && (b.length === 1 || b[1] === 0xc7)) return true;
  }
  return MAGIC_PREFIXES.some((m) => b.every((c, i) => m[i] === c));
}

interface LinkGroup {
  /** Path of the first member: the target of every later one. */
  path: Buffer;
  /** Members still expected (nlink - 1 after the first); the group is dropped at 0. */
  remaining: number;
}

/** The cpio format reader (bid + streaming read). */
export const cpioFormat: FormatReader = {
  name: 'cpio',
  bid: bidCpio,
  read: readCpio,
};

/**
 * FORMAT_TRUNCATED for a record part that ends at `partEnd` while the stream ends before it.
 * Like BodyCursor's own truncation errors, the offset is where the data runs out; the message
 * names the part and the record.
 */
function truncated(layer: string, what: string, partEnd: number, record: number, src: ByteSource): ZoneP2vError {
  const end = src.position + src.buffered;
  return formatError(
    'FORMAT_TRUNCATED',
    layer,
    `unexpected end of data in the ${what} of the record at byte ${record} (needed ${partEnd - end} more bytes)`,
    end,
    'the archive is truncated',
  );
}

function readCpio(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  return new EntryIterator(new CpioReader(src, stats, options));
}

/**
 * One archive being read (see the file comment). Hot path: next() handles the usual record (a
 * buffered header and name, a file or directory) without waiting; meta records, symlink
 * targets and sparse files have methods of their own, so that the hot function stays small
 * for the optimizing compiler (one large generator was compiled three times per run, ~50 ms
 * each, as rare branches deoptimized it).
 */
class CpioReader implements EntrySource {
  readonly #src: ByteSource;
  readonly #stats: ReaderStats;
  readonly #maxMeta: number;
  readonly #signal: AbortSignal | undefined;
  readonly #onWarning: FormatReadOptions['onWarning'];
  readonly #start: number;
  readonly #hdr = new CpioHeader();
  readonly #links = new Map<string, LinkGroup>();
  #archiveFamily: CpioVariant | null = null;
  /** Variant of the previous record (names the layer of boundary errors). */
  #lastVariant: CpioVariant | null = null;
  #pendingAcl: string | undefined;

  // The data of the entry handed out last: skipped (and padded) when the next one is asked for.
  #cursor: BodyCursor | null = null;
  #sparseCursor: BodyCursor | null = null;
  #dataLayer = '';
  #dataAlign = 1;
  #dataRecord = 0;

  // crc verification state for the one body in flight (one closure for the whole archive).
  #crcSum = 0;
  #crcLeft = 0;
  #crcExpected = 0;
  #crcPath: Buffer = Buffer.alloc(0);
  #crcOffset = 0;
  #crcError: ZoneP2vError | null = null;
  readonly #onCrcData = (chunk: Buffer): void => {
    this.#crcSum = (this.#crcSum + byteSum(chunk)) % 0x100000000;
    this.#crcLeft -= chunk.length;
    if (this.#crcLeft === 0 && this.#crcSum !== this.#crcExpected) {
      this.#crcError = formatError(
        'FORMAT_CHECKSUM',
        LAYER.crc,
        `checksum mismatch for '${escapePath(this.#crcPath)}' (header ${hex32(this.#crcExpected)}, data sums to ${hex32(this.#crcSum)})`,
        this.#crcOffset,
        'the archive is corrupt',
        { path: this.#crcPath },
      );
      throw this.#crcError;
    }
  };

  constructor(src: ByteSource, stats: ReaderStats, options: FormatReadOptions) {
    this.#src = src;
    this.#stats = stats;
    this.#maxMeta = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
    this.#signal = options.signal;
    this.#onWarning = options.onWarning;
    this.#start = src.position;
  }

  /** Nothing to add at the end: the trailer (or its absence) was handled by next(). */
  end(): void {}

  close(): void {}

  /**
   * Hot path: the unread bytes from the current position, at least `n` of them (the caller has
   * buffered them). Zero copy when the first chunk holds them, as it does but at chunk seams.
   */
  #view(n: number): Buffer {
    const c = this.#src.peekChunk();
    return c !== null && c.length >= n ? c : this.#src.peek(n);
  }

  /** The next entry, or null at the end of the archive. Hot path. */
  async next(): Promise<Entry | null> {
    const src = this.#src;
    const start = this.#start;
    if (this.#dataLayer !== '') {
      const done = this.#finishData();
      if (done !== undefined) await done;
    }
    for (;;) {
      if (this.#signal?.aborted) {
        throw new ZoneP2vError('ABORTED', 'cpio: reading was aborted', { layer: 'cpio', severity: 'fatal' });
      }
      const record = src.position;
      this.#stats.bytesRead = record - start;

      // ---- HEADER -----------------------------------------------------------------------------
      let avail = src.buffered;
      if (avail < 6) avail = await src.fill(6);
      const lastVariant = this.#lastVariant;
      const famLayer = lastVariant === null ? 'cpio' : LAYER[lastVariant];
      if (avail === 0) {
        this.#onWarning(
          formatError(
            'FORMAT_WARNING',
            famLayer,
            'no TRAILER!!! record',
            record,
            'the archive ends at a record boundary without its end marker; it may be incomplete',
            { severity: 'warning' },
          ),
        );
        return null;
      }
      let h = this.#view(Math.min(avail, 6));
      const v = variantOfMagic(h);
      if (v === null) throw this.#badMagic(h, avail, famLayer, record);
      if (this.#archiveFamily === null) {
        this.#archiveFamily = family(v);
        this.#stats.variant = v;
      } else if (family(v) !== this.#archiveFamily) {
        throw formatError(
          'FORMAT_CORRUPT',
          famLayer,
          `bad header magic (a ${v} header in a ${this.#archiveFamily} archive)`,
          record,
          'the archive is corrupt or truncated',
        );
      } else if (v === 'afio') {
        this.#stats.variant = 'afio';
      }
      this.#lastVariant = v;
      const layer = LAYER[v];
      const hs = headerSizeOf(v);
      if (avail < hs) avail = await src.fill(hs);
      if (avail < hs) throw truncated(layer, 'header', record + hs, record, src);
      if (h.length < hs) h = this.#view(hs);
      const hdr = this.#hdr;
      const bad = decodeHeader(h, v, hdr);
      if (bad !== null) {
        throw formatError('FORMAT_CORRUPT', layer, `bad header field '${bad}'`, record + fieldOffset(v, bad));
      }

      // ---- NAME -------------------------------------------------------------------------------
      const namesize = hdr.namesize;
      if (namesize === 0 || namesize > this.#maxMeta || hdr.xsize !== 0) throw this.#badName(v, layer, record);
      const align = ALIGN[v];
      const nameEnd = hs + namesize;
      const padded = nameEnd + padAt(record - start + nameEnd, align);
      if (avail < padded) avail = await src.fill(padded);
      if (avail < nameEnd) throw truncated(layer, 'name', record + nameEnd, record, src);
      if (h.length < nameEnd) h = this.#view(avail < padded ? nameEnd : padded);
      let nameLen = 0;
      while (nameLen < namesize && h[hs + nameLen] !== 0) nameLen++;
      if (nameLen === 10 && isTrailer(h, hs)) {
        // End of archive: take the name (and its padding when present); never read further.
        src.take(Math.min(avail, padded));
        this.#stats.bytesRead = src.position - start;
        return null;
      }
      if (avail < padded) throw truncated(layer, 'name padding', record + padded, record, src);
      // A copy: an entry's path must not pin the 1 MiB chunk it was read from.
      // (A byte loop: Buffer#copy costs more than the copy itself for names this short.)
      const path = Buffer.allocUnsafe(nameLen);
      for (let i = 0; i < nameLen; i++) path[i] = h[hs + i]!;
      src.take(padded);

      // ---- META -------------------------------------------------------------------------------
      const fmt = hdr.mode & S_IFMT;
      if (fmt === XATTR_CPIO_MODE || hdr.mode === SECMODE) {
        await this.#metaRecord(v, layer, record, path);
        continue;
      }

      // ---- ENTRY ------------------------------------------------------------------------------
      const e = this.#entry(v, layer, record, path);
      return e instanceof Promise ? await e : e;
    }
  }

  /** FORMAT_TRUNCATED for a partial magic at the end of the stream, FORMAT_CORRUPT otherwise. */
  #badMagic(h: Buffer, avail: number, famLayer: string, record: number): ZoneP2vError {
    if (avail < 6 && isMagicPrefix(h.subarray(0, avail))) {
      const least = h[0] === 0x30 ? ODC.size : BIN.size; // the smallest header it can be
      return truncated(famLayer, 'header', record + least, record, this.#src);
    }
    return formatError('FORMAT_CORRUPT', famLayer, 'bad header magic', record, 'the archive is corrupt or truncated');
  }

  /** The error for a name size of 0, a name size past the limit, or an afio extension. */
  #badName(v: CpioVariant, layer: string, record: number): ZoneP2vError {
    const hdr = this.#hdr;
    if (hdr.namesize === 0) {
      return formatError('FORMAT_CORRUPT', layer, 'bad name size 0', record + fieldOffset(v, 'namesize'), 'the archive is corrupt');
    }
    if (hdr.namesize > this.#maxMeta) {
      return formatError(
        'LIMIT_META_SIZE',
        layer,
        `name size ${hdr.namesize} exceeds the limit of ${this.#maxMeta} bytes`,
        record + fieldOffset(v, 'namesize'),
        'the archive is corrupt; raise maxMetaSize if such names are genuine',
      );
    }
    return formatError('FORMAT_UNSUPPORTED', layer, `afio extension of ${hdr.xsize} bytes is not supported`, record + fieldOffset(v, 'xsize'));
  }

  /**
   * The data of the entry handed out last: the unread body is skipped (through the crc sum for
   * crc archives), then the data padding. Hot path: synchronous (undefined) when the body was
   * read or is buffered.
   */
  #finishData(): Promise<void> | undefined {
    const cursor = this.#cursor;
    if (this.#sparseCursor === null && (cursor === null || cursor.finishBuffered())) {
      this.#cursor = null;
      if (this.#crcError !== null) throw this.#crcError;
      const pad = padAt(this.#src.position - this.#start, this.#dataAlign);
      if (pad === 0 || this.#src.buffered >= pad) {
        this.#src.drop(pad);
        this.#dataLayer = '';
        return;
      }
    }
    return this.#finishDataAsync();
  }

  async #finishDataAsync(): Promise<void> {
    if (this.#sparseCursor !== null) await this.#sparseCursor.finish();
    this.#sparseCursor = null;
    if (this.#cursor !== null && !this.#cursor.finishBuffered()) await this.#cursor.finish();
    this.#cursor = null;
    if (this.#crcError !== null) throw this.#crcError;
    const layer = this.#dataLayer;
    this.#dataLayer = '';
    await this.#skipPad(padAt(this.#src.position - this.#start, this.#dataAlign), layer, 'data padding', this.#dataRecord);
  }

  /** Skips `pad` bytes of padding (data or name) that must be present. */
  async #skipPad(pad: number, layer: string, what: string, record: number): Promise<void> {
    if (pad === 0) return;
    const src = this.#src;
    if (src.buffered < pad && (await src.fill(pad)) < pad) throw truncated(layer, what, src.position + pad, record, src);
    src.drop(pad);
  }

  /** Reads exactly `n` bytes (n <= maxMeta, checked by the caller) as a fresh buffer. */
  async #readWhole(n: number, layer: string, what: string, record: number): Promise<Buffer> {
    const src = this.#src;
    if (src.buffered < n) await src.fill(n);
    if (src.buffered < n) throw truncated(layer, what, src.position + n, record, src);
    return Buffer.from(src.take(n));
  }

  /** A record body kept in memory (ACL text, symlink target): refused past the meta limit first. */
  async #readMetaBody(n: number, layer: string, what: string, record: number, path: Buffer, hint: string): Promise<Buffer> {
    if (n > this.#maxMeta) {
      throw formatError('LIMIT_META_SIZE', layer, `${what} of ${n} bytes for '${escapePath(path)}' exceeds the limit of ${this.#maxMeta} bytes`, record, hint, { path });
    }
    return this.#readWhole(n, layer, what, record);
  }

  /** A Solaris extended-attribute record or ACL record: consumed, counted, never emitted (formats.md §3.6). */
  async #metaRecord(v: CpioVariant, layer: string, record: number, path: Buffer): Promise<void> {
    const src = this.#src;
    const size = this.#hdr.filesize;
    if ((this.#hdr.mode & S_IFMT) === XATTR_CPIO_MODE) {
      // Solaris `cpio -@` attribute header or attribute data: not part of the tree.
      countMeta(this.#stats, 'solaris-xattr');
      this.#pendingAcl = undefined; // an ACL just before belonged to the attribute
      await src.skip(size, layer, 'extended attribute record');
    } else {
      const body = await this.#readMetaBody(size, layer, 'ACL record', record, path, 'raise maxMetaSize if it is genuine');
      this.#pendingAcl = solarisAclText(body);
      countMeta(this.#stats, 'solaris-acl');
    }
    await this.#skipPad(padAt(src.position - this.#start, ALIGN[v]), layer, 'data padding', record);
  }

  /**
   * The entry of a record whose header and name were consumed. Hot path: synchronous for
   * everything but a symlink (its target is read) and a Solaris sparse file (its map is read).
   */
  #entry(v: CpioVariant, layer: string, record: number, path: Buffer): Entry | Promise<Entry> {
    const hdr = this.#hdr;
    const mode = hdr.mode;
    const fmt = mode & S_IFMT;
    // Type bits 0: a regular file, as V6-era modes and afio's header test have it, and as
    // libarchive's disk writer treats it.
    const type: EntryType | null = fmt === 0 ? 'file' : typeFromMode(mode);
    if (type === null) {
      throw formatError(
        'FORMAT_CORRUPT',
        layer,
        `unknown file type 0o${fmt.toString(8)} in the mode of '${escapePath(path)}'`,
        record + fieldOffset(v, 'mode'),
        'the archive is corrupt',
        { path },
      );
    }
    if (type === 'symlink') return this.#symlink(v, layer, record, path);
    if (fmt === S_IFREG && (mode & HIGH_ORD_MASK) === C_ISSPARSE && (v === 'odc' || v === 'newc') && hdr.filesize > MIN_HOLES_HDRSIZE) {
      return this.#sparse(v, layer, record, path);
    }
    const e = this.#build(v, layer, record, path, type, null, hdr.filesize);
    const size = hdr.filesize;
    if (size > 0) {
      // Writers sum the data of regular files only (symlinks carry 0: formats.md §3.2).
      let cursor: BodyCursor;
      if (v === 'crc' && fmt === S_IFREG) {
        this.#crcSum = 0;
        this.#crcLeft = size;
        this.#crcExpected = hdr.check;
        this.#crcPath = path;
        this.#crcOffset = record;
        cursor = new BodyCursor(this.#src, size, layer, this.#onCrcData);
      } else {
        cursor = new BodyCursor(this.#src, size, layer);
      }
      this.#cursor = cursor;
      e.body = cursor;
    }
    return e;
  }

  /** A symlink: its target is the record's data, read whole (size 0, empty body, as tar reports it). */
  async #symlink(v: CpioVariant, layer: string, record: number, path: Buffer): Promise<Entry> {
    const target = await this.#readMetaBody(this.#hdr.filesize, layer, 'symlink target', record, path, 'the archive is corrupt');
    // C readers (GNU cpio, libarchive) stop a target at its first NUL; so do we.
    const nul = target.indexOf(0);
    return this.#build(v, layer, record, path, 'symlink', nul < 0 ? target : target.subarray(0, nul), 0);
  }

  /** A Solaris sparse file (illumos cpio gethdr: odc and newc ("ASC") headers only). */
  async #sparse(v: CpioVariant, layer: string, record: number, path: Buffer): Promise<Entry> {
    const size = this.#hdr.filesize;
    const prefix = parseHolesPrefix(await this.#readWhole(MIN_HOLES_HDRSIZE, layer, 'sparse map', record), size);
    if (prefix === null) {
      throw formatError('FORMAT_CORRUPT', layer, `invalid sparse file information for '${escapePath(path)}'`, record, 'the archive is corrupt', { path });
    }
    if (prefix.holesSize > this.#maxMeta) {
      throw formatError(
        'LIMIT_META_SIZE',
        layer,
        `sparse map of ${prefix.holesSize} bytes for '${escapePath(path)}' exceeds the limit of ${this.#maxMeta} bytes`,
        record,
        'raise maxMetaSize if it is genuine',
        { path },
      );
    }
    const dataSize = size - prefix.holesSize;
    const text = await this.#readWhole(prefix.holesSize - MIN_HOLES_HDRSIZE, layer, 'sparse map', record);
    const runs = parseHolesRuns(text, prefix, dataSize);
    if (runs === null) {
      throw formatError('FORMAT_CORRUPT', layer, `invalid sparse file information for '${escapePath(path)}'`, record, 'the archive is corrupt', { path });
    }
    const e = this.#build(v, layer, record, path, 'file', null, prefix.origSize);
    e.extra.sparseMap = runs;
    const cursor = new BodyCursor(this.#src, dataSize, layer);
    this.#sparseCursor = cursor;
    const data = cursor.iterable;
    e.body = { [Symbol.asyncIterator]: () => expandSparse(data, runs, prefix.origSize, layer) };
    return e;
  }

  /**
   * The Entry of the current header, hard links grouped (formats.md §3.5: by (dev, ino), for
   * regular files with nlink > 1; the first member is a 'file', later ones 'hardlink' to its
   * path), the pending ACL attached, an empty body (the caller sets it). Notes the data to skip
   * after it. Hot path.
   */
  #build(v: CpioVariant, layer: string, record: number, path: Buffer, type: EntryType, linkTarget: Buffer | null, size: number): Entry {
    const hdr = this.#hdr;
    if (type === 'file' && hdr.nlink > 1) {
      const key = `${hdr.devMajor},${hdr.devMinor},${hdr.ino}`;
      const group = this.#links.get(key);
      if (group === undefined) {
        this.#links.set(key, { path, remaining: hdr.nlink - 1 });
      } else {
        type = 'hardlink';
        linkTarget = group.path;
        if (--group.remaining <= 0) this.#links.delete(key);
      }
    }
    const extra: EntryExtra = { variant: v };
    if (this.#pendingAcl !== undefined) {
      extra.acl = this.#pendingAcl;
      this.#pendingAcl = undefined;
    }
    const isDevice = type === 'char-device' || type === 'block-device';
    this.#dataLayer = layer;
    this.#dataAlign = ALIGN[v];
    this.#dataRecord = record;
    this.#stats.entries++;
    this.#stats.bytesRead = this.#src.position - this.#start;
    return {
      path,
      type,
      mode: hdr.mode & 0o7777,
      uid: hdr.uid,
      gid: hdr.gid,
      size,
      mtime: hdr.mtime,
      linkTarget,
      devMajor: isDevice ? hdr.rdevMajor : 0,
      devMinor: isDevice ? hdr.rdevMinor : 0,
      nlink: hdr.nlink,
      ino: hdr.ino,
      offset: record,
      extra,
      body: EMPTY_BODY,
    };
  }
}

/** True when the name at `hs` (10 bytes long) is `TRAILER!!!`. */
function isTrailer(h: Buffer, hs: number): boolean {
  for (let i = 0; i < 10; i++) if (h[hs + i] !== TRAILER[i]) return false;
  return true;
}

function hex32(x: number): string {
  return '0x' + x.toString(16).padStart(8, '0');
}

/** Bytes of padding needed at relative position `rel` for alignment `align` (a power of 2). */
function padAt(rel: number, align: number): number {
  if (align === 1) return 0;
  return (align - (rel % align)) % align;
}
