/**
 * The ufsdump / dump reader: Solaris ufsdump (both byte orders, NFS_MAGIC and MTB_MAGIC) and
 * Linux / 4.4BSD dump (plain and `dump -z` compressed records), as one stream of format-neutral
 * Entries in a single pass (formats.md §7).
 *
 * The stream is a sequence of units (TP_BSIZE = 1024 bytes, or c_tpbsize for MTB). Every unit
 * is a header (magic + 84446 checksum, validated every time) or a data unit of the header before
 * it: for TS_INODE / TS_ADDR each of the first c_count (<= 512) bytes of c_addr says whether a
 * data unit follows (non-zero) or the unit is a hole (zero, nothing on tape); a file longer than
 * 512 units continues in TS_ADDR headers of the same inode; TS_CLRI / TS_BITS are followed by
 * c_count bitmap units.
 *
 * State machine, one turn per header (`run`):
 *   VOLUME   the first unit is a TS_TAPE (checked by #open, which also wraps a Linux
 *            DR_COMPRESSED stream in the record inflater). A later TS_TAPE with the same c_date
 *            and the next volume number is the next concatenated volume: counted ('ufs-volume'),
 *            carried on. At a data position it is transparent (4.4BSD restore: the interrupted
 *            map continues after it); where a continuation header is awaited, a TS_TAPE naming
 *            the inode in progress supplies the rest of its map, and in the Solaris dialect one
 *            naming another inode stands in for its TS_INODE (ufsdump's `newtape`); otherwise
 *            its units are skipped. [No sample: formats.md §7.11, docs/formats/ufsdump.md.]
 *   MAPS     TS_CLRI / TS_BITS: c_count units skipped; their size bounds inode numbers.
 *   DIRS     Pass III: every directory (and Solaris attribute directory) with its entries is
 *            parsed into the DirectoryMap — names and inode numbers only, never the blocks.
 *            The first directory's "." entry settles the dialect (§7.6 (b)).
 *   RESOLVE  at the first non-directory TS_INODE (or TS_END) every path is resolved from inode
 *            2 and the reachable directories are emitted parents first, the root as `.`.
 *   FILES    Pass IV: each inode as it streams. Its first name (the shallowest, breadth-first)
 *            is the entry with the body; every other name is a 'hardlink' (size 0) to it.
 *            Symlink targets are read whole (<= maxMetaSize); file bodies stream (DumpBody):
 *            data units as zero-copy views, holes as fresh zero buffers, the last unit cut to
 *            di_size. Inodes with no name in the tree are consumed, not emitted (attribute
 *            files count as 'ufs-xattr').
 *   META     never emitted, consumed and counted: Solaris IFSHAD records and DR_HASMETA headers
 *            ('ufs-acl'), IFATTRDIR directories and their files ('ufs-xattr'), Linux
 *            DR_EXTATTRIBUTES records ('linux-xattr'), stray TS_ADDR records (skipped as
 *            ufsrestore's findinode skips them).
 *   END      TS_END stops the reader; the padding after it is not read.
 *
 * Invariants: between turns the source sits on a unit boundary; the cursor (`cur*`) describes
 * the map being consumed (inode, logical bytes left, position in c_addr) and is only ever
 * advanced unit by unit, so skipping an unread body and reading it share one code path.
 *
 * Hot path: a body is delivered in runs of present units taken straight from the source chunk
 * (one magic-byte compare per unit to notice a volume header); holes cost no input. Headers are
 * decoded into one reused DumpHeader. Nothing is allocated per unit except the zero buffers of
 * holes that the consumer asks for.
 */

import { EMPTY_BODY } from '../../entry/body-cursor.js';
import { typeFromMode, type Entry, type EntryType } from '../../entry/entry.js';
import { escapePath } from '../../entry/escape-path.js';
import { ZoneP2vError, formatError, type ErrorCode } from '../../errors.js';
import { ByteSource } from '../../io/byte-source.js';
import {
  DEFAULT_MAX_META_SIZE,
  countMeta,
  type FormatReadOptions,
  type FormatReader,
  type ReaderStats,
} from '../format.js';
import { bidUfsdump, guessDialect } from './bid.js';
import { MAX_NTREC, inflateRecords } from './compressed.js';
import { DirectoryMap, type DirRecord } from './directory-map.js';
import {
  DINODE,
  DIRBLKSIZ,
  DR_COMPRESSED,
  DR_EXTATTRIBUTES,
  DR_HASMETA,
  DR_INODEINFO,
  DR_METAONLY,
  DumpHeader,
  IFATTRDIR,
  IFDIR,
  IFLNK,
  IFSHAD,
  MTB_MAGIC,
  NFS_MAGIC,
  OFS_MAGIC,
  SPCL,
  S_IFMT,
  TP_BSIZE,
  TP_BSIZE_MAX,
  TP_NINDIR,
  TS_ADDR,
  TS_BITS,
  TS_CLRI,
  TS_END,
  TS_EOM,
  TS_INODE,
  TS_TAPE,
  UFS2_MAGIC,
  UFS_ROOTINO,
  checksumOk,
  decodeHeader,
  deviceOf,
  i32,
  magicOrder,
  mtimeNsecOf,
  ownerOf,
  u16,
  u32,
  type ByteOrder,
  type Dialect,
} from './header.js';

const LAYER = 'ufsdump';

/** Default cap of the directory map (names and links of all directories), before resolution. */
export const DEFAULT_MAX_DIRECTORY_MAP = 256 * 1024 * 1024;

/** Largest zero buffer handed out for a hole. */
const ZERO_CHUNK = 64 * 1024;

/** Bytes of a 4.4BSD short symlink target kept in the inode's block pointers (di_shortlink). */
const SHORTLINK_MAX = 60;

/** new-format d_type of a whiteout entry (4.4BSD DT_WHT): not a name. */
const DT_WHT = 14;

/** Options of the ufsdump reader (FormatReadOptions plus its own limit). */
export interface UfsdumpReadOptions extends FormatReadOptions {
  /**
   * Largest directory map kept while Pass III is read (per entry its name plus ~17 bytes, see
   * docs/formats/ufsdump.md); default 256 MiB. Exceeding it is LIMIT_MEMORY.
   */
  maxDirectoryMapBytes?: number;
}

/** The ufsdump format reader (bid + streaming read). */
export const ufsdumpFormat: FormatReader = {
  name: 'ufsdump',
  bid: bidUfsdump,
  read: readUfsdump,
};

function corrupt(what: string, offset: number, code: ErrorCode = 'FORMAT_CORRUPT', hint = 'the dump is corrupt'): ZoneP2vError {
  return formatError(code, LAYER, what, offset, hint);
}

function readUfsdump(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  return new DumpParser(src, stats, options as UfsdumpReadOptions).run();
}

/** What a DumpBody pulls from. */
interface BodySource {
  bodyChunk(): Promise<Buffer | null>;
  skipBody(): Promise<void>;
}

class DumpParser implements BodySource {
  /** The unit stream: the input, or the record inflater over it (Linux DR_COMPRESSED). */
  #src: ByteSource;
  readonly #outer: ByteSource;
  readonly #outerStart: number;
  readonly #stats: ReaderStats;
  readonly #options: UfsdumpReadOptions;
  #le = false;
  #order: ByteOrder = 'be';
  /** Unit size (TP_BSIZE, or c_tpbsize for MTB). */
  #U = TP_BSIZE;
  #mtb = false;
  #magic = NFS_MAGIC;
  /** The magic's four bytes as they appear in the stream (hot path: volume-header sniffing). */
  #m0 = 0;
  #m1 = 0;
  #m2 = 0;
  #m3 = 0;
  readonly #maxMap: number;
  readonly #maxMeta: number;
  readonly #hdr = new DumpHeader();
  readonly #map = new DirectoryMap();

  #dialect: Dialect = 'solaris';
  #dialectKnown = false;
  #date = 0;
  #volume = 0;
  /** Highest inode number the bitmaps allow (0xFFFFFFFF until a map was seen). */
  #maxIno = 0xffffffff;
  #sawMap = false;
  #resolved = false;
  #unreachable = 0;
  /** BSD short symlink target of the last header (copied only for symlinks without data). */
  #shortLink: Buffer | null = null;
  /** Names of the inode just emitted: leaf positions [first, end) of the sorted index. */
  #linkFirst = 0;
  #linkEnd = 0;
  /** Inode of the last TS_INODE (a volume's TS_TAPE naming another one replaces a TS_INODE). */
  #lastIno = 0;

  // ---- the cursor: the map being consumed -----------------------------------------------------
  #curIno = 0;
  #curType = 0;
  /** Logical bytes of the inode not yet delivered or skipped. */
  #curLeft = 0;
  #curIdx = 0;
  #curCnt = 0;
  readonly #curMap = new Uint8Array(TP_NINDIR);
  #curOffset = 0;

  constructor(src: ByteSource, stats: ReaderStats, options: UfsdumpReadOptions) {
    this.#src = src;
    this.#outer = src;
    this.#outerStart = src.position;
    this.#stats = stats;
    this.#options = options;
    this.#maxMap = options.maxDirectoryMapBytes ?? DEFAULT_MAX_DIRECTORY_MAP;
    this.#maxMeta = options.maxMetaSize ?? DEFAULT_MAX_META_SIZE;
  }

  /** VOLUME: the first header decides unit size, byte order, dialect guess and compression. */
  async #open(): Promise<void> {
    const src = this.#src;
    const start = this.#outerStart;
    await src.fill(TP_BSIZE);
    const head = src.peek(TP_BSIZE);
    const m = magicOrder(head);
    if (m === null) {
      if (head.length < SPCL.magic + 4) throw src.truncated(LAYER, 'volume header', TP_BSIZE - head.length);
      throw corrupt('no dump magic at byte 24 of the volume header', start + SPCL.magic);
    }
    const le = m.order === 'le';
    if (m.magic === UFS2_MAGIC) {
      throw corrupt('FreeBSD UFS2 dump (magic 0x19540119) is not supported', start + SPCL.magic, 'FORMAT_UNSUPPORTED', 'restore it with FreeBSD restore(8)');
    }
    if (m.magic === OFS_MAGIC) {
      throw corrupt('old-format dump (OFS_MAGIC 60011) is not supported', start + SPCL.magic, 'FORMAT_UNSUPPORTED', 'restore it with the ufsrestore of its era');
    }
    let unit = TP_BSIZE;
    if (m.magic === MTB_MAGIC) {
      if (head.length < SPCL.tpbsizeOrNtrec + 4) throw src.truncated(LAYER, 'volume header', TP_BSIZE - head.length);
      unit = i32(head, SPCL.tpbsizeOrNtrec, le);
      if (unit < TP_BSIZE || unit > TP_BSIZE_MAX || unit % TP_BSIZE !== 0) {
        throw corrupt(`MTB_MAGIC dump with block size ${unit}`, start + SPCL.tpbsizeOrNtrec);
      }
    }
    if ((await src.fill(unit)) < unit) throw src.truncated(LAYER, 'volume header', unit - src.buffered);
    const first = src.peek(unit);
    if (!checksumOk(first, unit, le)) throw corrupt('volume header checksum mismatch', start, 'FORMAT_CHECKSUM');
    if (i32(first, SPCL.type, le) !== TS_TAPE) throw corrupt('the dump does not start with a volume header (TS_TAPE)', start);
    const mtb = m.magic === MTB_MAGIC;
    const guess: Dialect = mtb ? 'solaris' : guessDialect(first, le);
    if (guess === 'linux' && (i32(first, SPCL.flags, le) & DR_COMPRESSED) !== 0) {
      const ntrec = i32(first, SPCL.tpbsizeOrNtrec, le);
      if (ntrec < 1 || ntrec > MAX_NTREC) throw corrupt(`compressed dump with a record of ${ntrec} units`, start + SPCL.tpbsizeOrNtrec);
      this.#src = new ByteSource(inflateRecords(src, le, ntrec), LAYER);
    }
    this.#stats.variant = mtb ? `solaris-mtb-${m.order}` : `${guess}-${m.order}`;
    this.#le = le;
    this.#order = m.order;
    this.#U = unit;
    this.#mtb = mtb;
    this.#magic = m.magic;
    this.#dialect = guess;
    const mb = Buffer.alloc(4);
    if (le) mb.writeUInt32LE(m.magic);
    else mb.writeUInt32BE(m.magic);
    this.#m0 = mb[0]!;
    this.#m1 = mb[1]!;
    this.#m2 = mb[2]!;
    this.#m3 = mb[3]!;
  }

  #bytesRead(): void {
    this.#stats.bytesRead = this.#outer.position - this.#outerStart;
  }

  #warn(what: string, offset: number, hint?: string): void {
    this.#options.onWarning(formatError('FORMAT_WARNING', LAYER, what, offset, hint, { severity: 'warning' }));
  }

  // ================================================================================== turns ===

  async *run(): AsyncGenerator<Entry> {
    await this.#open();
    const signal = this.#options.signal;
    const stats = this.#stats;
    const h = this.#hdr;
    await this.#readHeader();
    this.#date = h.date;
    this.#volume = h.volume;
    // Volume 1's c_count is not a unit count (4.4BSD dump sets 1; Solaris may carry c_inos).
    for (;;) {
      if (signal?.aborted) throw new ZoneP2vError('ABORTED', `${LAYER}: reading was aborted`, { layer: LAYER, severity: 'fatal' });
      this.#bytesRead();
      const at = await this.#readHeader();
      let type = h.type;
      if (type === TS_TAPE) {
        this.#newVolume(at);
        if (this.#dialect === 'solaris' && h.inumber >= UFS_ROOTINO && (h.mode & S_IFMT) !== 0 && h.inumber !== this.#lastIno) {
          // Solaris ufsdump writes the first header of a new volume as TS_TAPE in place of the
          // TS_INODE it would have written (dumptraverse.c lf_dump, `newtape`).
          type = TS_INODE;
        } else {
          if (!(this.#dialect === 'solaris' && (h.flags & DR_INODEINFO) !== 0)) {
            this.#loadMap(at);
            await this.#drainMap();
          }
          continue;
        }
      }
      switch (type) {
        case TS_CLRI:
        case TS_BITS: {
          if (h.count < 0) throw corrupt(`bitmap of ${h.count} units`, at + SPCL.count);
          const inodes = h.count * this.#U * 8;
          this.#maxIno = this.#sawMap ? Math.max(this.#maxIno, inodes) : inodes;
          this.#sawMap = true;
          await this.#skipUnits(h.count);
          break;
        }
        case TS_INODE: {
          // Hot path: one turn per inode; entries are yielded from here (no generator nesting).
          if (!(await this.#inodeRecord(at))) break;
          if (!this.#resolved) {
            for (const d of this.#resolve(at)) {
              stats.entries++;
              yield this.#dirEntry(d);
            }
          }
          const e = await this.#prepareInode(at);
          if (e === null) break;
          stats.entries++;
          this.#bytesRead();
          yield e;
          if (e.body instanceof DumpBody) await e.body.finish();
          for (let i = this.#linkFirst + 1; i < this.#linkEnd; i++) {
            stats.entries++;
            yield this.#hardlink(e, i);
          }
          break;
        }
        case TS_ADDR:
          // Continuations are read inside the cursor; one here continues nothing we emit
          // (a bitmap's, a Solaris shadow inode's, or a stray one): skipped like findinode does.
          if ((h.mode & S_IFMT) === IFSHAD) countMeta(stats, 'ufs-acl');
          this.#loadMap(at);
          await this.#drainMap();
          break;
        case TS_END:
          if (!this.#resolved) {
            for (const d of this.#resolve(at)) {
              stats.entries++;
              yield this.#dirEntry(d);
            }
          }
          this.#bytesRead();
          if (this.#unreachable > 0) {
            this.#warn(`${this.#unreachable} inode(s) not reachable from the root directory were skipped`, at, 'unlinked files or a partial dump');
          }
          return;
        case TS_EOM:
          await this.#skipToNextVolume(at);
          break;
        default:
          throw corrupt(`unknown header type ${h.type}`, at + SPCL.type);
      }
    }
  }

  /**
   * One TS_INODE: consumes metadata records and directories (Pass III) and returns false, or
   * returns true for an inode to emit (Pass IV).
   */
  async #inodeRecord(at: number): Promise<boolean> {
    const h = this.#hdr;
    if (h.inumber < UFS_ROOTINO || h.inumber > this.#maxIno) {
      throw corrupt(`inode number ${h.inumber} out of range`, at + SPCL.inumber);
    }
    this.#lastIno = h.inumber;
    const type = h.mode & S_IFMT;
    if ((h.flags & DR_EXTATTRIBUTES) !== 0) {
      countMeta(this.#stats, h.extattributes === 3 ? 'linux-xattr' : 'linux-extattr');
      this.#beginCursor(at);
      await this.skipBody();
      return false;
    }
    if (type === IFSHAD) {
      countMeta(this.#stats, 'ufs-acl');
      this.#beginCursor(at);
      await this.skipBody();
      return false;
    }
    if ((h.flags & DR_HASMETA) !== 0) countMeta(this.#stats, 'ufs-acl');
    if (type === IFDIR || type === IFATTRDIR) {
      if (this.#resolved) {
        this.#warn(`directory inode ${h.inumber} after the directory pass was ignored`, at);
        this.#beginCursor(at);
        await this.skipBody();
        return false;
      }
      await this.#readDirectory(at, type === IFATTRDIR);
      return false;
    }
    return true;
  }

  /** RESOLVE: paths from the root; returns the reachable directories, parents first. */
  #resolve(at: number): DirRecord[] {
    this.#resolved = true;
    const map = this.#map;
    if (map.dirs.length === 0 && this.#hdr.type !== TS_END) {
      throw corrupt('the dump has no root directory (inode 2) before its first file', at);
    }
    map.resolve();
    if (map.bytes > this.#maxMap) throw this.#mapLimit(at);
    return map.order;
  }

  #dirEntry(d: DirRecord): Entry {
    const [uid, gid] = ownerOf(d, this.#dialect);
    const e: Entry = {
      path: d.path!,
      type: 'directory',
      mode: d.mode & 0o7777,
      uid,
      gid,
      size: 0,
      mtime: d.mtime,
      mtimeNsec: mtimeNsecOf(d.mtimeFrac, this.#dialect),
      linkTarget: null,
      devMajor: 0,
      devMinor: 0,
      nlink: d.nlink,
      ino: d.ino,
      offset: d.offset,
      extra: {},
      body: EMPTY_BODY,
    };
    return e;
  }

  /**
   * FILES: the entry of a non-directory inode under its first name (null when it has none, or
   * is skipped); its other names are leaf positions [#linkFirst + 1, #linkEnd).
   */
  async #prepareInode(at: number): Promise<Entry | null> {
    const h = this.#hdr;
    const ino = h.inumber;
    const map = this.#map;
    const [first, end] = map.namesOf(ino);
    if (first === end) {
      if (map.isAttribute(ino)) countMeta(this.#stats, 'ufs-xattr');
      else this.#unreachable++;
      this.#beginCursor(at);
      await this.skipBody();
      return null;
    }
    this.#linkFirst = first;
    this.#linkEnd = end;
    const entryType: EntryType | null = typeFromMode(h.mode);
    if (entryType === null || entryType === 'directory') {
      throw corrupt(`unknown file type 0o${(h.mode & S_IFMT).toString(8)} of inode ${ino}`, at + SPCL.dinode + DINODE.mode);
    }
    const path = map.leafPath(first);
    if ((h.flags & DR_METAONLY) !== 0 && this.#dialect === 'linux') {
      this.#warn(`'${escapePath(path)}' was dumped without its data (DR_METAONLY) and is skipped`, at);
      this.#beginCursor(at);
      await this.skipBody();
      return null;
    }
    const [uid, gid] = ownerOf(h, this.#dialect);
    const mode = h.mode & 0o7777;
    const mtime = h.mtime;
    const mtimeNsec = mtimeNsecOf(h.mtimeFrac, this.#dialect);
    const nlink = h.nlink;
    let size = 0;
    let linkTarget: Buffer | null = null;
    let devMajor = 0;
    let devMinor = 0;
    let body: DumpBody | null = null;
    switch (entryType) {
      case 'file':
        this.#beginCursor(at);
        size = this.#curLeft;
        body = new DumpBody(this);
        break;
      case 'symlink':
        linkTarget = await this.#readSymlink(at, path);
        if (linkTarget === null) {
          this.#warn(`symbolic link '${escapePath(path)}' has no target and is skipped`, at);
          return null;
        }
        break;
      case 'char-device':
      case 'block-device':
        [devMajor, devMinor] = deviceOf(h.db0, h.db1, this.#dialect, this.#le);
        this.#beginCursor(at);
        await this.skipBody();
        break;
      default:
        this.#beginCursor(at);
        await this.skipBody();
    }
    const entry: Entry = {
      path,
      type: entryType,
      mode,
      uid,
      gid,
      size,
      mtime,
      mtimeNsec,
      linkTarget,
      devMajor,
      devMinor,
      nlink,
      ino,
      offset: at,
      extra: {},
      body: body ?? EMPTY_BODY,
    };
    return entry;
  }

  /** The 'hardlink' entry for leaf position `i` naming the inode of `first`. */
  #hardlink(first: Entry, i: number): Entry {
    return {
      path: this.#map.leafPath(i),
      type: 'hardlink',
      mode: first.mode,
      uid: first.uid,
      gid: first.gid,
      size: 0,
      mtime: first.mtime,
      mtimeNsec: first.mtimeNsec,
      linkTarget: first.path,
      devMajor: 0,
      devMinor: 0,
      nlink: first.nlink,
      ino: first.ino,
      offset: first.offset,
      extra: {},
      body: EMPTY_BODY,
    };
  }

  // ============================================================================= directories ===

  /** DIRS: one directory inode's entries into the map (Pass III). */
  async #readDirectory(at: number, attrDir: boolean): Promise<void> {
    const h = this.#hdr;
    const map = this.#map;
    if (attrDir) countMeta(this.#stats, 'ufs-xattr');
    const d = map.addDir({
      ino: h.inumber,
      mode: h.mode,
      nlink: h.nlink,
      suid: h.suid,
      sgid: h.sgid,
      uid116: h.uid116,
      gid120: h.gid120,
      uid112: h.uid112,
      gid116: h.gid116,
      mtime: h.mtime,
      mtimeFrac: h.mtimeFrac,
      offset: at,
      attrDir,
    });
    this.#beginCursor(at);
    if (d === null) {
      this.#warn(`directory inode ${h.inumber} dumped twice; the second copy was ignored`, at);
      await this.skipBody();
      return;
    }
    if (map.bytes > this.#maxMap) throw this.#mapLimit(at);
    const U = this.#U;
    for (;;) {
      const run = await this.#nextRun();
      if (run === 0) break;
      if (run < 0) throw corrupt(`hole in directory inode ${d.ino}`, this.#curOffset);
      const data = await this.#takeUnits(run);
      const base = this.#src.position - data.length;
      for (let off = 0; off < data.length; off += U) {
        const valid = Math.min(U, this.#curLeft);
        if (!this.#dialectKnown) this.#settleDialect(data, off);
        for (let c = 0; c < valid; c += DIRBLKSIZ) {
          this.#parseDirChunk(d, data, off + c, Math.min(DIRBLKSIZ, valid - c), base + off + c);
        }
        this.#curLeft -= valid;
        this.#curIdx++;
      }
    }
    await this.#drainMap();
  }

  /**
   * Dialect from the first directory's "." entry (formats.md §7.6 (b)): bytes 6,7 are u16
   * d_namlen = 1 in the old (Solaris) format, d_type + d_namlen = 1 in the new one. Big-endian
   * `00 01` is both (new format with d_type 0): the header's guess decides.
   */
  #settleDialect(b: Uint8Array, off: number): void {
    this.#dialectKnown = true;
    if (this.#mtb || b[off + 8] !== 0x2e) return;
    const b6 = b[off + 6]!;
    const b7 = b[off + 7]!;
    let dialect: Dialect | null = null;
    if (this.#le) {
      if (b6 === 1 && b7 === 0) dialect = 'solaris';
      else if (b7 === 1) dialect = 'linux';
    } else if (b7 === 1) {
      dialect = b6 === 0 ? this.#dialect : 'linux';
    }
    if (dialect !== null && dialect !== this.#dialect) {
      this.#dialect = dialect;
      this.#stats.variant = `${dialect}-${this.#order}`;
    }
  }

  /** Parses one DIRBLKSIZ chunk `b[off, off+len)` (stream offset `at`) of directory `d`. */
  #parseDirChunk(d: DirRecord, b: Buffer, off: number, len: number, at: number): void {
    const le = this.#le;
    const newFormat = this.#dialect === 'linux';
    const map = this.#map;
    let p = 0;
    while (p < len) {
      const e = off + p;
      if (len - p < 8) throw corrupt(`directory entry of inode ${d.ino} runs past its block`, at + p);
      const ino = u32(b, e, le);
      const reclen = u16(b, e + 4, le);
      if (reclen === 0) throw corrupt(`directory entry with record length 0 in inode ${d.ino}`, at + p + 4);
      if (reclen < 8 || reclen % 4 !== 0 || reclen > len - p) {
        throw corrupt(`directory entry of inode ${d.ino} runs past its block (record length ${reclen})`, at + p + 4);
      }
      if (ino !== 0) {
        const namlen = newFormat ? b[e + 7]! : u16(b, e + 6, le);
        if (namlen === 0 || namlen > 255 || 8 + namlen > reclen) {
          throw corrupt(`directory entry of inode ${d.ino} with a name of ${namlen} bytes in a record of ${reclen}`, at + p + 6);
        }
        if (!(newFormat && b[e + 6] === DT_WHT)) {
          for (let k = e + 8; k < e + 8 + namlen; k++) {
            const c = b[k]!;
            if (c === 0 || c === 0x2f) throw corrupt(`directory entry of inode ${d.ino} with a NUL or '/' in its name`, at + p + 8);
          }
          if (ino > this.#maxIno) throw corrupt(`directory entry names inode ${ino}, out of range`, at + p);
          map.addEntry(d, ino, b, e + 8, namlen);
          if (map.bytes > this.#maxMap) throw this.#mapLimit(at + p);
        }
      }
      p += reclen;
    }
  }

  #mapLimit(at: number): ZoneP2vError {
    return formatError(
      'LIMIT_MEMORY',
      LAYER,
      `the directory map exceeds the limit of ${this.#maxMap} bytes (${this.#map.entryCount} entries)`,
      at,
      'the dump is hostile or very large; raise maxDirectoryMapBytes if it is genuine',
    );
  }

  // ================================================================================ symlinks ===

  /** The target: the first di_size bytes of the data (cut at a NUL), or null when empty. */
  async #readSymlink(at: number, path: Buffer): Promise<Buffer | null> {
    const h = this.#hdr;
    const shortLink = this.#shortLink;
    const declared = h.size;
    if (declared > this.#maxMeta) {
      throw formatError(
        'LIMIT_META_SIZE',
        LAYER,
        `symlink target of ${declared} bytes for '${escapePath(path)}' exceeds the limit of ${this.#maxMeta} bytes`,
        at,
        'the dump is corrupt',
        { path },
      );
    }
    this.#beginCursor(at);
    if (h.count === 0 && declared > 0 && declared <= SHORTLINK_MAX && shortLink !== null) {
      // 4.4BSD short link kept in di_db (dumps that write no data block for it).
      this.#curLeft = 0;
      return cutAtNul(Buffer.from(shortLink.subarray(0, declared)));
    }
    const target = Buffer.alloc(declared);
    let got = 0;
    for (;;) {
      const run = await this.#nextRun();
      if (run === 0) break;
      if (run < 0) throw corrupt(`hole in symbolic link '${escapePath(path)}'`, this.#curOffset);
      const data = await this.#takeUnits(run);
      const n = Math.min(data.length, this.#curLeft);
      data.copy(target, got, 0, n);
      got += n;
      this.#curLeft -= n;
      this.#curIdx += data.length / this.#U;
    }
    await this.#drainMap();
    const t = cutAtNul(target);
    return t.length === 0 ? null : t;
  }

  // ================================================================================== cursor ===

  /** Starts consuming the map of the header just read (at `at`) for its inode. */
  #beginCursor(at: number): void {
    const h = this.#hdr;
    if (h.sizeHigh >= 0x200000) throw corrupt(`inode ${h.inumber} has a size of 2^53 bytes or more`, at + SPCL.dinode + DINODE.size64);
    this.#curIno = h.inumber;
    this.#curType = h.mode & S_IFMT;
    this.#curLeft = h.size;
    this.#curOffset = at;
    this.#loadMap(at);
  }

  /** Takes the c_addr map of the header just read (c_count must be 0..512). */
  #loadMap(at: number): void {
    const h = this.#hdr;
    if (h.count < 0 || h.count > TP_NINDIR) throw corrupt(`c_count ${h.count} (at most ${TP_NINDIR})`, at + SPCL.count);
    this.#curMap.set(h.addr.subarray(0, h.count));
    this.#curCnt = h.count;
    this.#curIdx = 0;
  }

  /**
   * The next run of the cursor: k > 0 present units, -k hole units (k never more than the
   * units the logical size still needs), 0 once the size is consumed. Reads continuation
   * headers as the map runs out.
   */
  async #nextRun(): Promise<number> {
    const map = this.#curMap;
    for (;;) {
      if (this.#curLeft === 0) return 0;
      if (this.#curIdx === this.#curCnt) {
        await this.#continuation();
        continue;
      }
      const needed = Math.ceil(this.#curLeft / this.#U);
      const i = this.#curIdx;
      const limit = Math.min(this.#curCnt, i + needed);
      const present = map[i] !== 0;
      let j = i + 1;
      if (present) while (j < limit && map[j] !== 0) j++;
      else while (j < limit && map[j] === 0) j++;
      return present ? j - i : i - j;
    }
  }

  /** Reads the header that continues the cursor's inode: TS_ADDR (or a volume's TS_TAPE). */
  async #continuation(): Promise<void> {
    const h = this.#hdr;
    for (;;) {
      const at = await this.#readHeader();
      if (h.type === TS_TAPE) {
        this.#newVolume(at);
        if (h.inumber === this.#curIno && (h.mode & S_IFMT) === this.#curType && h.count > 0) {
          this.#loadMap(at); // Solaris: the new volume's header carries the rest of the map
          return;
        }
        if (!(this.#dialect === 'solaris' && (h.flags & DR_INODEINFO) !== 0)) {
          this.#loadMap(at);
          await this.#drainMap();
        }
        continue;
      }
      if (h.type !== TS_ADDR || h.inumber !== this.#curIno || (h.mode & S_IFMT) !== this.#curType) {
        throw corrupt(
          `inode ${this.#curIno} ends ${this.#curLeft} bytes early: expected its TS_ADDR continuation, found a type ${h.type} header of inode ${h.inumber}`,
          at,
        );
      }
      this.#loadMap(at);
      return;
    }
  }

  /** Skips the present units left in the current map (after the logical size is consumed). */
  async #drainMap(): Promise<void> {
    let n = 0;
    for (let i = this.#curIdx; i < this.#curCnt; i++) if (this.#curMap[i] !== 0) n++;
    this.#curIdx = this.#curCnt;
    if (n > 0) await this.#skipUnits(n);
  }

  /** BodySource: the next piece of a regular file's body, or null at its end. */
  async bodyChunk(): Promise<Buffer | null> {
    const U = this.#U;
    const run = await this.#nextRun();
    if (run === 0) {
      await this.#drainMap();
      return null;
    }
    if (run < 0) {
      const k = Math.min(-run, Math.max(1, Math.floor(ZERO_CHUNK / U)));
      const n = Math.min(k * U, this.#curLeft);
      this.#curIdx += k;
      this.#curLeft -= n;
      return Buffer.alloc(n);
    }
    const data = await this.#takeUnits(run);
    this.#curIdx += data.length / U;
    const n = Math.min(data.length, this.#curLeft);
    this.#curLeft -= n;
    return n === data.length ? data : data.subarray(0, n);
  }

  /** BodySource: skips whatever is left of the cursor's inode (data, holes, continuations). */
  async skipBody(): Promise<void> {
    const U = this.#U;
    for (;;) {
      const run = await this.#nextRun();
      if (run === 0) break;
      const k = run < 0 ? -run : run;
      if (run > 0) await this.#skipUnits(k);
      this.#curIdx += k;
      this.#curLeft -= Math.min(k * U, this.#curLeft);
    }
    await this.#drainMap();
  }

  // =================================================================================== units ===

  /**
   * Reads and validates one header unit into `#hdr`; returns its offset. A unit without the
   * magic where a header must be is FORMAT_CORRUPT; a wrong checksum FORMAT_CHECKSUM; the end
   * of the data FORMAT_TRUNCATED (a dump ends with TS_END).
   */
  async #readHeader(): Promise<number> {
    const src = this.#src;
    const U = this.#U;
    const at = src.position;
    if (src.buffered < U) await src.fill(U);
    if (src.buffered < U) {
      throw formatError(
        'FORMAT_TRUNCATED',
        LAYER,
        `unexpected end of data where a header was expected (stream ends at byte ${at + src.buffered})`,
        at,
        'the dump is truncated (no TS_END record)',
      );
    }
    const c = src.peekChunk()!;
    const b = c.length >= U ? c : src.peek(U);
    const le = this.#le;
    if (u32(b, SPCL.magic, le) !== this.#magic) throw corrupt('expected a header, found a data unit (no magic at offset 24)', at);
    if (!checksumOk(b, U, le)) throw corrupt('header checksum mismatch', at, 'FORMAT_CHECKSUM');
    const h = this.#hdr;
    decodeHeader(b, le, h);
    this.#shortLink = null;
    if ((h.mode & S_IFMT) === IFLNK && h.count === 0) {
      const o = SPCL.dinode + DINODE.db;
      this.#shortLink = Buffer.from(b.subarray(o, o + SHORTLINK_MAX));
    }
    src.drop(U);
    return at;
  }

  /** Ensures a whole unit is buffered; returns a view holding at least `U` bytes. */
  async #unitView(): Promise<Buffer> {
    const src = this.#src;
    const U = this.#U;
    if (src.buffered < U) await src.fill(U);
    if (src.buffered < U) {
      throw formatError(
        'FORMAT_TRUNCATED',
        LAYER,
        `unexpected end of data in a data unit (stream ends at byte ${src.position + src.buffered})`,
        src.position,
        'the dump is truncated (no TS_END record)',
      );
    }
    const c = src.peekChunk()!;
    return c.length >= U ? c : src.peek(U);
  }

  /**
   * Hot path. How many of the first `max` units of `c` precede a volume header of this dump
   * (a TS_TAPE with our c_date and the next volume number); one byte compare per unit.
   */
  #unitsBeforeVolume(c: Buffer, max: number): number {
    const U = this.#U;
    for (let j = 0, o = SPCL.magic; j < max; j++, o += U) {
      if (c[o] === this.#m0 && c[o + 1] === this.#m1 && c[o + 2] === this.#m2 && c[o + 3] === this.#m3) {
        const u = c.subarray(j * U, j * U + U);
        const le = this.#le;
        if (
          i32(u, SPCL.type, le) === TS_TAPE &&
          i32(u, SPCL.date, le) === this.#date &&
          i32(u, SPCL.volume, le) === this.#volume + 1 &&
          checksumOk(u, U, le)
        ) {
          return j;
        }
      }
    }
    return max;
  }

  /** Consumes a volume header found at a data position (4.4BSD: the data continues after it). */
  async #volumeAtData(): Promise<void> {
    const at = await this.#readHeader();
    this.#newVolume(at);
  }

  /** Takes 1..k present units as one zero-copy view (k >= 1). */
  async #takeUnits(k: number): Promise<Buffer> {
    const U = this.#U;
    for (;;) {
      const c = await this.#unitView();
      const max = Math.min(k, Math.floor(c.length / U));
      const n = this.#unitsBeforeVolume(c, max);
      if (n === 0) {
        await this.#volumeAtData();
        continue;
      }
      return this.#src.takeChunk(n * U)!;
    }
  }

  /** Skips `n` units of data (holes cost nothing; these are all present). */
  async #skipUnits(n: number): Promise<void> {
    const U = this.#U;
    while (n > 0) {
      const c = await this.#unitView();
      const max = Math.min(n, Math.floor(c.length / U));
      const k = this.#unitsBeforeVolume(c, max);
      if (k === 0) {
        await this.#volumeAtData();
        continue;
      }
      this.#src.drop(k * U);
      n -= k;
    }
  }

  /** A volume header after the first: same dump, next volume (formats.md §7.11). */
  #newVolume(at: number): void {
    const h = this.#hdr;
    if (h.date !== this.#date) {
      throw corrupt(`volume header of another dump (c_date ${h.date}, this dump ${this.#date})`, at + SPCL.date);
    }
    if (h.volume !== this.#volume + 1) {
      throw corrupt(`volume ${h.volume} follows volume ${this.#volume}`, at + SPCL.volume);
    }
    this.#volume = h.volume;
    countMeta(this.#stats, 'ufs-volume');
  }

  /** TS_EOM (old diskette end of media): the next volume's TS_TAPE follows after padding. */
  async #skipToNextVolume(at: number): Promise<void> {
    const src = this.#src;
    const U = this.#U;
    for (;;) {
      if (src.buffered < U) await src.fill(U);
      if (src.buffered < U) {
        throw formatError('FORMAT_TRUNCATED', LAYER, 'end of data after an end-of-media record', at, 'the next volume is missing');
      }
      const c = src.peekChunk()!;
      const u = c.length >= U ? c : src.peek(U);
      if (this.#unitsBeforeVolume(u, 1) === 0) {
        const v = await this.#readHeader();
        this.#newVolume(v);
        return;
      }
      src.drop(U);
    }
  }
}

/** The body of a regular file: pulls pieces from the parser; skipped when the next entry is asked for. */
class DumpBody implements AsyncIterable<Buffer> {
  readonly #source: BodySource;
  #stale = false;
  #reading = false;

  constructor(source: BodySource) {
    this.#source = source;
  }

  [Symbol.asyncIterator](): AsyncIterator<Buffer> {
    return this.#iterate();
  }

  async *#iterate(): AsyncGenerator<Buffer> {
    if (this.#stale) {
      throw new ZoneP2vError('ENTRY_BODY_STALE', `${LAYER}: entry body read after the next entry was requested`, { layer: LAYER, severity: 'fatal' });
    }
    if (this.#reading) throw new Error('entry body is already being read');
    this.#reading = true;
    try {
      for (;;) {
        const c = await this.#source.bodyChunk();
        if (c === null || this.#stale) return;
        yield c;
      }
    } finally {
      this.#reading = false;
    }
  }

  /** Marks the body stale and skips its unread rest. */
  finish(): Promise<void> {
    this.#stale = true;
    return this.#source.skipBody();
  }
}

function cutAtNul(b: Buffer): Buffer {
  const nul = b.indexOf(0);
  return nul < 0 ? b : b.subarray(0, nul);
}
