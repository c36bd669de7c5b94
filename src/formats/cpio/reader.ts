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
 *           path, each with its own header size and body. The body is a LazyBody: a BodyCursor
 *           made when the consumer iterates it (Solaris sparse: a BodyCursor behind the hole
 *           expander).
 *   DATA    When the consumer asks for the next entry: the unread body is skipped (through the
 *           crc sum for crc archives; BodyCursor.finish() once a cursor exists), then the data
 *           padding.
 *
 * Invariants: at HEADER the source sits on a record start; padding is measured from the
 * position read() started at (the archive start); the header family is fixed by the first
 * record, except that odc and afio headers may alternate (afio writes both).
 *
 * Hot path: an OS image is ~100,000 small records. Per record: a few synchronous buffer
 * checks, a byte-loop header decode, one path copy, the Entry and its LazyBody. No awaits
 * unless the buffer runs dry or the consumer reads a body, no regular expressions, no
 * per-record closures. Uses ByteSource.peekChunk to look at a header without copying.
 */

import { EMPTY_BODY, BodyCursor } from '../../entry/body-cursor.js';
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

async function* readCpio(
  src: ByteSource,
  stats: ReaderStats,
  options: FormatReadOptions,
): AsyncGenerator<Entry> {
  const maxMeta = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
  const signal = options.signal;
  const start = src.position;
  const hdr = new CpioHeader();
  const links = new Map<string, LinkGroup>();
  let archiveFamily: CpioVariant | null = null;
  /** Variant of the previous record (names the layer of boundary errors). */
  let lastVariant: CpioVariant | null = null;
  let pendingAcl: string | undefined;

  // crc verification state for the one body in flight (one closure for the whole archive).
  let crcSum = 0;
  let crcLeft = 0;
  let crcExpected = 0;
  let crcPath: Buffer = Buffer.alloc(0);
  let crcOffset = 0;
  let crcError: ZoneP2vError | null = null;
  const onCrcData = (chunk: Buffer): void => {
    crcSum = (crcSum + byteSum(chunk)) % 0x100000000;
    crcLeft -= chunk.length;
    if (crcLeft === 0 && crcSum !== crcExpected) {
      crcError = formatError(
        'FORMAT_CHECKSUM',
        LAYER.crc,
        `checksum mismatch for '${escapePath(crcPath)}' (header ${hex32(crcExpected)}, data sums to ${hex32(crcSum)})`,
        crcOffset,
        'the archive is corrupt',
        { path: crcPath },
      );
      throw crcError;
    }
  };

  /** Skips `pad` bytes of padding (data or name) that must be present. */
  const skipPad = (pad: number, layer: string, what: string, record: number): Promise<void> | void => {
    if (pad === 0) return;
    if (src.buffered >= pad) {
      src.take(pad);
      return;
    }
    return src.fill(pad).then((n) => {
      if (n < pad) throw truncated(layer, what, src.position + pad, record, src);
      src.take(pad);
    });
  };

  /** Reads exactly `n` bytes (n <= maxMeta, checked by the caller) as a fresh buffer. */
  const readWhole = async (n: number, layer: string, what: string, record: number): Promise<Buffer> => {
    if (src.buffered < n) await src.fill(n);
    if (src.buffered < n) throw truncated(layer, what, src.position + n, record, src);
    return Buffer.from(src.take(n));
  };

  /** A record body kept in memory (ACL text, symlink target): refused past the meta limit first. */
  const readMetaBody = async (n: number, layer: string, what: string, record: number, path: Buffer, hint: string): Promise<Buffer> => {
    if (n > maxMeta) {
      throw formatError('LIMIT_META_SIZE', layer, `${what} of ${n} bytes for '${escapePath(path)}' exceeds the limit of ${maxMeta} bytes`, record, hint, { path });
    }
    return readWhole(n, layer, what, record);
  };

  /**
   * Hot path: the unread bytes from the current position, at least `n` of them (the caller has
   * buffered them). Zero copy when the first chunk holds them, as it does but at chunk seams.
   */
  const view = (n: number): Buffer => {
    const c = src.peekChunk();
    return c !== null && c.length >= n ? c : src.peek(n);
  };

  for (;;) {
    if (signal?.aborted) {
      throw new ZoneP2vError('ABORTED', 'cpio: reading was aborted', { layer: 'cpio', severity: 'fatal' });
    }
    const record = src.position;
    stats.bytesRead = record - start;

    // ---- HEADER -----------------------------------------------------------------------------
    let avail = src.buffered;
    if (avail < 6) avail = await src.fill(6);
    const famLayer = lastVariant === null ? 'cpio' : LAYER[lastVariant];
    if (avail === 0) {
      options.onWarning(
        formatError(
          'FORMAT_WARNING',
          famLayer,
          'no TRAILER!!! record',
          record,
          'the archive ends at a record boundary without its end marker; it may be incomplete',
          { severity: 'warning' },
        ),
      );
      return;
    }
    let h = view(Math.min(avail, 6));
    const v = variantOfMagic(h);
    if (v === null) {
      if (avail < 6 && isMagicPrefix(h.subarray(0, avail))) {
        const least = h[0] === 0x30 ? ODC.size : BIN.size; // the smallest header it can be
        throw truncated(famLayer, 'header', record + least, record, src);
      }
      throw formatError(
        'FORMAT_CORRUPT',
        famLayer,
        'bad header magic',
        record,
        'the archive is corrupt or truncated',
      );
    }
    if (archiveFamily === null) {
      archiveFamily = family(v);
      stats.variant = v;
    } else if (family(v) !== archiveFamily) {
      throw formatError(
        'FORMAT_CORRUPT',
        famLayer,
        `bad header magic (a ${v} header in a ${archiveFamily} archive)`,
        record,
        'the archive is corrupt or truncated',
      );
    } else if (v === 'afio') {
      stats.variant = 'afio';
    }
    lastVariant = v;
    const layer = LAYER[v];
    const hs = headerSizeOf(v);
    if (avail < hs) avail = await src.fill(hs);
    if (avail < hs) throw truncated(layer, 'header', record + hs, record, src);
    if (h.length < hs) h = view(hs);
    const bad = decodeHeader(h, v, hdr);
    if (bad !== null) {
      throw formatError('FORMAT_CORRUPT', layer, `bad header field '${bad}'`, record + fieldOffset(v, bad));
    }

    // ---- NAME -------------------------------------------------------------------------------
    const namesize = hdr.namesize;
    if (namesize === 0) {
      throw formatError(
        'FORMAT_CORRUPT',
        layer,
        'bad name size 0',
        record + fieldOffset(v, 'namesize'),
        'the archive is corrupt',
      );
    }
    if (namesize > maxMeta) {
      throw formatError(
        'LIMIT_META_SIZE',
        layer,
        `name size ${namesize} exceeds the limit of ${maxMeta} bytes`,
        record + fieldOffset(v, 'namesize'),
        'the archive is corrupt; raise maxMetaSize if such names are genuine',
      );
    }
    if (hdr.xsize !== 0) {
      throw formatError(
        'FORMAT_UNSUPPORTED',
        layer,
        `afio extension of ${hdr.xsize} bytes is not supported`,
        record + fieldOffset(v, 'xsize'),
      );
    }
    const align = ALIGN[v];
    const nameEnd = hs + namesize;
    const rel = record - start;
    const padded = nameEnd + padAt(rel + nameEnd, align);
    if (avail < padded) avail = await src.fill(padded);
    if (avail < nameEnd) throw truncated(layer, 'name', record + nameEnd, record, src);
    if (h.length < nameEnd) h = view(avail < padded ? nameEnd : padded);
    let nameLen = 0;
    while (nameLen < namesize && h[hs + nameLen] !== 0) nameLen++;
    if (nameLen === 10) {
      let trailer = true;
      for (let i = 0; i < 10; i++) {
        if (h[hs + i] !== TRAILER[i]) {
          trailer = false;
          break;
        }
      }
      if (trailer) {
        // End of archive: take the name (and its padding when present); never read further.
        src.take(Math.min(avail, padded));
        stats.bytesRead = src.position - start;
        return;
      }
    }
    if (avail < padded) throw truncated(layer, 'name padding', record + padded, record, src);
    // A copy: an entry's path must not pin the 1 MiB chunk it was read from.
    // (A byte loop: Buffer#copy costs more than the copy itself for names this short.)
    const path = Buffer.allocUnsafe(nameLen);
    for (let i = 0; i < nameLen; i++) path[i] = h[hs + i]!;
    src.take(padded);

    // ---- META -------------------------------------------------------------------------------
    const mode = hdr.mode;
    const fmt = mode & S_IFMT;
    const size = hdr.filesize;
    if (fmt === XATTR_CPIO_MODE) {
      // Solaris `cpio -@` attribute header or attribute data: not part of the tree.
      countMeta(stats, 'solaris-xattr');
      pendingAcl = undefined; // an ACL just before belonged to the attribute
      await src.skip(size, layer, 'extended attribute record');
      const p = skipPad(padAt(src.position - start, align), layer, 'data padding', record);
      if (p) await p;
      continue;
    }
    if (mode === SECMODE) {
      const body = await readMetaBody(size, layer, 'ACL record', record, path, 'raise maxMetaSize if it is genuine');
      pendingAcl = solarisAclText(body);
      countMeta(stats, 'solaris-acl');
      const p = skipPad(padAt(src.position - start, align), layer, 'data padding', record);
      if (p) await p;
      continue;
    }

    // ---- ENTRY ------------------------------------------------------------------------------
    // Type bits 0: a regular file, as V6-era modes and afio's header test have it, and as
    // libarchive's disk writer treats it.
    let type: EntryType | null = fmt === 0 ? 'file' : typeFromMode(mode);
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

    let linkTarget: Buffer | null = null;
    let body: AsyncIterable<Buffer> = EMPTY_BODY;
    let sparseCursor: BodyCursor | null = null;
    let entrySize = size;
    const extra: EntryExtra = { variant: v };

    if (type === 'symlink') {
      const target = await readMetaBody(size, layer, 'symlink target', record, path, 'the archive is corrupt');
      // C readers (GNU cpio, libarchive) stop a target at its first NUL; so do we.
      const nul = target.indexOf(0);
      linkTarget = nul < 0 ? target : target.subarray(0, nul);
      // The target is in linkTarget; the body is empty, so size is 0 (as tar reports it).
      entrySize = 0;
    } else if (
      fmt === S_IFREG &&
      (mode & HIGH_ORD_MASK) === C_ISSPARSE &&
      (v === 'odc' || v === 'newc') &&
      size > MIN_HOLES_HDRSIZE
    ) {
      // Solaris sparse file (illumos cpio gethdr: odc and newc ("ASC") headers only).
      const prefix = parseHolesPrefix(
        await readWhole(MIN_HOLES_HDRSIZE, layer, 'sparse map', record),
        size,
      );
      if (prefix === null) {
        throw formatError(
          'FORMAT_CORRUPT',
          layer,
          `invalid sparse file information for '${escapePath(path)}'`,
          record,
          'the archive is corrupt',
          { path },
        );
      }
      if (prefix.holesSize > maxMeta) {
        throw formatError(
          'LIMIT_META_SIZE',
          layer,
          `sparse map of ${prefix.holesSize} bytes for '${escapePath(path)}' exceeds the limit of ${maxMeta} bytes`,
          record,
          'raise maxMetaSize if it is genuine',
          { path },
        );
      }
      const dataSize = size - prefix.holesSize;
      const text = await readWhole(prefix.holesSize - MIN_HOLES_HDRSIZE, layer, 'sparse map', record);
      const runs = parseHolesRuns(text, prefix, dataSize);
      if (runs === null) {
        throw formatError(
          'FORMAT_CORRUPT',
          layer,
          `invalid sparse file information for '${escapePath(path)}'`,
          record,
          'the archive is corrupt',
          { path },
        );
      }
      extra.sparseMap = runs;
      entrySize = prefix.origSize;
      sparseCursor = new BodyCursor(src, dataSize, layer);
      const data = sparseCursor.iterable;
      body = { [Symbol.asyncIterator]: () => expandSparse(data, runs, prefix.origSize, layer) };
    }

    if (type === 'file' && hdr.nlink > 1) {
      const key = `${hdr.devMajor},${hdr.devMinor},${hdr.ino}`;
      const group = links.get(key);
      if (group === undefined) {
        links.set(key, { path, remaining: hdr.nlink - 1 });
      } else {
        type = 'hardlink';
        linkTarget = group.path;
        if (--group.remaining <= 0) links.delete(key);
      }
    }

    let lazy: LazyBody | null = null;
    if (sparseCursor === null && size > 0 && type !== 'symlink') {
      // Writers sum the data of regular files only (symlinks carry 0: formats.md §3.2).
      if (v === 'crc' && fmt === S_IFREG) {
        crcSum = 0;
        crcLeft = size;
        crcExpected = hdr.check;
        crcPath = path;
        crcOffset = record;
        lazy = new LazyBody(src, size, layer, onCrcData);
      } else {
        lazy = new LazyBody(src, size, layer, undefined);
      }
      body = lazy;
    }

    const isDevice = type === 'char-device' || type === 'block-device';
    if (pendingAcl !== undefined) {
      extra.acl = pendingAcl;
      pendingAcl = undefined;
    }
    const entry: Entry = {
      path,
      type,
      mode: mode & 0o7777,
      uid: hdr.uid,
      gid: hdr.gid,
      size: entrySize,
      mtime: hdr.mtime,
      linkTarget,
      devMajor: isDevice ? hdr.rdevMajor : 0,
      devMinor: isDevice ? hdr.rdevMinor : 0,
      nlink: hdr.nlink,
      ino: hdr.ino,
      offset: record,
      extra,
      body,
    };
    stats.entries++;
    stats.bytesRead = src.position - start;
    yield entry;

    // ---- DATA -------------------------------------------------------------------------------
    if (sparseCursor !== null) await sparseCursor.finish();
    if (lazy !== null) {
      const p = lazy.finish();
      if (p) await p;
    }
    if (crcError !== null) throw crcError;
    const pad = padAt(src.position - start, align);
    if (pad !== 0) {
      const p = skipPad(pad, layer, 'data padding', record);
      if (p) await p;
    }
  }
}

/**
 * The body of one entry: a BodyCursor, created only when the consumer iterates the body.
 *
 * Hot path: most bodies of a listing or a filtered extraction are never looked at. For those
 * the reader skips the data itself when it is buffered (feeding the crc sum), saving the
 * cursor, its iterable and two promises per record. Once the next entry was requested the body
 * is stale: iterating it then goes through an empty, finished BodyCursor, which throws
 * ENTRY_BODY_STALE exactly as every other body does.
 */
class LazyBody implements AsyncIterable<Buffer> {
  #cursor: BodyCursor | null = null;
  #stale = false;
  readonly #src: ByteSource;
  readonly #size: number;
  readonly #layer: string;
  readonly #onData: ((chunk: Buffer) => void) | undefined;

  constructor(src: ByteSource, size: number, layer: string, onData: ((chunk: Buffer) => void) | undefined) {
    this.#src = src;
    this.#size = size;
    this.#layer = layer;
    this.#onData = onData;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    if (this.#cursor === null) {
      this.#cursor = new BodyCursor(this.#src, this.#stale ? 0 : this.#size, this.#layer, this.#onData);
      if (this.#stale) void this.#cursor.finish();
    }
    return this.#cursor.iterable[Symbol.asyncIterator]();
  }

  /**
   * Called when the next entry is requested: skips whatever the consumer did not read.
   * Synchronous (returns undefined) when the body was never opened and is fully buffered.
   */
  finish(): Promise<void> | undefined {
    if (this.#cursor !== null) return this.#cursor.finish();
    this.#stale = true;
    const src = this.#src;
    if (src.buffered < this.#size) {
      this.#cursor = new BodyCursor(src, this.#size, this.#layer, this.#onData);
      return this.#cursor.finish();
    }
    let left = this.#size;
    const onData = this.#onData;
    while (left > 0) {
      const c = src.takeChunk(left)!;
      left -= c.length;
      if (onData !== undefined) onData(c);
    }
    return undefined;
  }
}

function hex32(x: number): string {
  return '0x' + x.toString(16).padStart(8, '0');
}

/** Bytes of padding needed at relative position `rel` for alignment `align` (a power of 2). */
function padAt(rel: number, align: number): number {
  if (align === 1) return 0;
  return (align - (rel % align)) % align;
}
