/**
 * ufsdump / dump layouts and the header decoder (formats.md §7).
 *
 * A dump stream is a sequence of TP_BSIZE (1024-byte) units; Solaris MTB_MAGIC dumps use bigger
 * units (`c_tpbsize`). A unit is either a header (`spcl`: magic at 24 and the 84446 checksum
 * over all its 32-bit words, in the writer's byte order) or a data unit belonging to the header
 * before it. Tables below are byte offsets from the first byte of the header / of the 128-byte
 * on-disk inode copy / of a directory entry. Sources: illumos usr/src/head/protocols/
 * dumprestore.h and sys/fs/ufs_inode.h (Solaris `icommon`), Linux dump 0.4b47
 * compat/include/protocols/dumprestore.h (4.4BSD `new_bsd_inode`), checked against
 * corpus/generated/linuxdump-ext2*.dump.
 *
 * `decodeHeader` fills a caller-owned, reused `DumpHeader` (no allocation per header; the
 * 512-byte c_addr map is copied into the header's own array because the source view does not
 * outlive the next read).
 */

/** The header (`union u_spcl`), all int32 in the writer's byte order unless noted. */
export const SPCL = {
  size: 1024,
  type: 0,
  date: 4, // this dump (formats.md §7.2: the Solaris header comments have date/ddate swapped)
  ddate: 8, // the base dump; 0 for level 0
  volume: 12,
  tapea: 16,
  inumber: 20,
  magic: 24,
  checksum: 28,
  dinode: 32, // 128 bytes, DINODE below
  count: 160,
  addr: 164, // 512 bytes, one per following unit (c_inos int32[128] in TS_TAPE/TS_END with DR_INODEINFO)
  addrLength: 512,
  label: 676, // 16 bytes
  level: 692, // Solaris: start of c_shadow (196 bytes of ACL data when DR_HASMETA)
  shadowLength: 196,
  filesys: 696, // 64 bytes
  dev: 760, // 64 bytes
  host: 824, // 64 bytes
  flags: 888,
  firstrec: 892,
  /** Solaris MTB_MAGIC: c_tpbsize; Linux: c_ntrec (records of this many units). */
  tpbsizeOrNtrec: 896,
  /** Linux: c_extattributes (what an DR_EXTATTRIBUTES header carries). */
  extattributes: 900,
} as const;

/** The 128-byte inode copy at SPCL.dinode: fields both dialects share. */
export const DINODE = {
  size: 128,
  mode: 0, // u16, type bits included
  nlink: 2, // i16
  /** Solaris: u16 ic_suid, ic_sgid (0xFFFF = "see the 32-bit id"). */
  suid: 4,
  sgid: 6,
  size64: 8, // u64 in the writer's byte order
  atime: 16,
  mtime: 24, // int32 seconds
  mtimeFrac: 28, // Solaris: microseconds; Linux/4.4BSD: nanoseconds
  ctime: 32,
  db: 40, // 12 x int32 direct blocks (device number here, BSD short symlink target)
  ib: 88,
  flags: 100,
  blocks: 104,
  gen: 108,
} as const;

/** Fields where the two dialects differ (formats.md §7.4). */
export const SOLARIS_DINODE = {
  shadow: 112, // ic_shadow: ACL shadow inode
  uid: 116,
  gid: 120,
  oeftflag: 124, // extended-attribute directory inode
} as const;
export const BSD_DINODE = {
  uid: 112,
  gid: 116,
} as const;

/** Directory entry heads (formats.md §7.8); names follow at offset 8, NUL-terminated, padded to 4. */
export const DIRENT = {
  ino: 0, // u32
  reclen: 4, // u16
  /** old / Solaris: u16 d_namlen. */
  oldNamlen: 6,
  /** new / 4.4BSD / Linux: u8 d_type, u8 d_namlen. */
  newType: 6,
  newNamlen: 7,
  name: 8,
} as const;

/** Directory entries never cross a DIRBLKSIZ chunk (Solaris, 4.4BSD and Linux dump: 512). */
export const DIRBLKSIZ = 512;

export const TP_BSIZE = 1024;
export const TP_BSIZE_MAX = 65536;
export const TP_NINDIR = 512;
export const CHECKSUM = 84446;

export const OFS_MAGIC = 60011;
export const NFS_MAGIC = 60012;
export const MTB_MAGIC = 60013;
export const UFS2_MAGIC = 0x19540119;

export const TS_TAPE = 1;
export const TS_INODE = 2;
export const TS_BITS = 3;
export const TS_ADDR = 4;
export const TS_END = 5;
export const TS_CLRI = 6;
export const TS_EOM = 7;

export const DR_NEWHEADER = 0x0001;
/** Solaris: c_inos table present (TS_TAPE/TS_END); Linux: DR_NEWINODEFMT. Same bit. */
export const DR_INODEINFO = 0x0002;
export const DR_REDUMP = 0x0004;
export const DR_HASMETA = 0x0010;
export const DR_COMPRESSED = 0x0080;
export const DR_METAONLY = 0x0100;
export const DR_EXTATTRIBUTES = 0x8000;

export const S_IFMT = 0o170000;
export const IFIFO = 0o010000;
export const IFCHR = 0o020000;
export const IFDIR = 0o040000;
export const IFBLK = 0o060000;
export const IFREG = 0o100000;
export const IFLNK = 0o120000;
/** Solaris ACL shadow inode. */
export const IFSHAD = 0o130000;
export const IFSOCK = 0o140000;
/** Solaris extended-attribute directory (BSD's S_IFWHT has the same value; never an inode there). */
export const IFATTRDIR = 0o160000;

export const UFS_ROOTINO = 2;
/** Solaris UID_LONG / GID_LONG: the 16-bit id says "use the 32-bit one". */
export const ID_LONG = 0xffff;

export type ByteOrder = 'be' | 'le';
export type Dialect = 'solaris' | 'linux';

/** The decoded fields of one header; one instance is reused for every header. */
export class DumpHeader {
  type = 0;
  date = 0;
  volume = 0;
  tapea = 0;
  inumber = 0;
  flags = 0;
  /** c_count (signed as stored). */
  count = 0;
  /** The c_addr map, copied (only the first min(count, 512) bytes are meaningful). */
  readonly addr = new Uint8Array(TP_NINDIR);
  /** Offset 896: Linux c_ntrec, Solaris MTB c_tpbsize. */
  spare0 = 0;
  extattributes = 0;
  // inode
  mode = 0;
  nlink = 0;
  /** Logical size; may exceed 2^53 in a hostile stream (checked by the reader). */
  size = 0;
  sizeHigh = 0;
  mtime = 0;
  mtimeFrac = 0;
  db0 = 0;
  db1 = 0;
  // both dialects' ids; the reader picks by dialect
  suid = 0;
  sgid = 0;
  uid116 = 0;
  gid120 = 0;
  uid112 = 0;
  gid116 = 0;
  shadow = 0;
  oeftflag = 0;
}

/** Reads a u32 at `off` in the stream's byte order. Hot path: no bounds juggling beyond Buffer's. */
export function u32(b: Uint8Array, off: number, le: boolean): number {
  return le
    ? (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0
    : ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

export function i32(b: Uint8Array, off: number, le: boolean): number {
  return u32(b, off, le) | 0;
}

export function u16(b: Uint8Array, off: number, le: boolean): number {
  return le ? b[off]! | (b[off + 1]! << 8) : (b[off]! << 8) | b[off + 1]!;
}

/** The magic's byte order: 'be' or 'le' for any known dump magic at offset 24, else null. */
export function magicOrder(b: Uint8Array): { order: ByteOrder; magic: number } | null {
  if (b.length < SPCL.magic + 4) return null;
  const be = u32(b, SPCL.magic, false);
  if (be === NFS_MAGIC || be === MTB_MAGIC || be === OFS_MAGIC || be === UFS2_MAGIC) return { order: 'be', magic: be };
  const le = u32(b, SPCL.magic, true);
  if (le === NFS_MAGIC || le === MTB_MAGIC || le === OFS_MAGIC || le === UFS2_MAGIC) return { order: 'le', magic: le };
  return null;
}

/** True when the 32-bit words of `b[0..size)` sum to CHECKSUM (mod 2^32) in the given order. */
export function checksumOk(b: Uint8Array, size: number, le: boolean): boolean {
  let s = 0;
  for (let off = 0; off < size; off += 4) s = (s + u32(b, off, le)) | 0;
  return s === CHECKSUM;
}

/** Decodes the header at `b[0..1024)` (already checked) into `h`. */
export function decodeHeader(b: Uint8Array, le: boolean, h: DumpHeader): void {
  h.type = i32(b, SPCL.type, le);
  h.date = i32(b, SPCL.date, le);
  h.volume = i32(b, SPCL.volume, le);
  h.tapea = i32(b, SPCL.tapea, le);
  h.inumber = u32(b, SPCL.inumber, le);
  h.flags = i32(b, SPCL.flags, le);
  h.count = i32(b, SPCL.count, le);
  const n = h.count > 0 ? Math.min(h.count, TP_NINDIR) : 0;
  const addr = h.addr;
  for (let i = 0; i < n; i++) addr[i] = b[SPCL.addr + i]!;
  h.spare0 = i32(b, SPCL.tpbsizeOrNtrec, le);
  h.extattributes = i32(b, SPCL.extattributes, le);
  const d = SPCL.dinode;
  h.mode = u16(b, d + DINODE.mode, le);
  h.nlink = u16(b, d + DINODE.nlink, le);
  h.suid = u16(b, d + DINODE.suid, le);
  h.sgid = u16(b, d + DINODE.sgid, le);
  // The 64-bit size is one 64-bit value in the writer's order (formats.md §7.3).
  const w0 = u32(b, d + DINODE.size64, le);
  const w1 = u32(b, d + DINODE.size64 + 4, le);
  const hi = le ? w1 : w0;
  const lo = le ? w0 : w1;
  h.sizeHigh = hi;
  h.size = hi * 0x100000000 + lo;
  h.mtime = i32(b, d + DINODE.mtime, le);
  h.mtimeFrac = u32(b, d + DINODE.mtimeFrac, le);
  h.db0 = u32(b, d + DINODE.db, le);
  h.db1 = u32(b, d + DINODE.db + 4, le);
  h.shadow = u32(b, d + SOLARIS_DINODE.shadow, le);
  h.uid116 = u32(b, d + SOLARIS_DINODE.uid, le);
  h.gid120 = u32(b, d + SOLARIS_DINODE.gid, le);
  h.oeftflag = u32(b, d + SOLARIS_DINODE.oeftflag, le);
  h.uid112 = u32(b, d + BSD_DINODE.uid, le);
  h.gid116 = u32(b, d + BSD_DINODE.gid, le);
}

/** Owner of an inode in the given dialect (Solaris: ufsrestore's UID_LONG rule). */
export function ownerOf(h: { suid: number; sgid: number; uid116: number; gid120: number; uid112: number; gid116: number }, dialect: Dialect): [number, number] {
  if (dialect === 'linux') return [h.uid112, h.gid116];
  return [h.suid !== ID_LONG ? h.suid : h.uid116, h.sgid !== ID_LONG ? h.sgid : h.gid120];
}

/** Sub-second part of mtime in nanoseconds (Solaris stores microseconds); 0 when out of range. */
export function mtimeNsecOf(frac: number, dialect: Dialect): number {
  if (dialect === 'solaris') return frac < 1_000_000 ? frac * 1000 : 0;
  return frac < 1_000_000_000 ? frac : 0;
}

/**
 * Device numbers (formats.md §7.5). Solaris: `di_ordev` is ic_db[0] on big-endian and ic_db[1]
 * on x86; 16-bit old devs (upper half 0 or 0xFFFF) split 7/8 bits, 32-bit devs 14/18 bits.
 * Linux: ic_db[0] = major<<8 | minor when it fits, else ic_db[1] in the kernel's new encoding.
 */
export function deviceOf(db0: number, db1: number, dialect: Dialect, le: boolean): [number, number] {
  if (dialect === 'linux') {
    if (db0 !== 0) return [(db0 >>> 8) & 0xff, db0 & 0xff];
    return [(db1 & 0xfff00) >>> 8, (db1 & 0xff) | ((db1 >>> 12) & 0xfff00)];
  }
  const dev = le ? db1 : db0;
  const upper = dev >>> 16;
  if (upper === 0 || upper === 0xffff) return [(dev >>> 8) & 0x7f, dev & 0xff];
  return [dev >>> 18, dev & 0x3ffff];
}
