/**
 * cpio header layouts and the header decoder.
 *
 * Every layout is a table of named fields (offset, length) measured from the first header byte
 * (formats.md §3.2; afio from libarchive's archive_read_support_format_cpio.c, afiol_* table).
 * `decodeHeader` fills a caller-owned, reused `CpioHeader` (no allocation per record: an OS
 * image holds ~100,000 records) and returns null, or the name of the first bad field.
 *
 * Hot path: the ASCII field parser is a small loop over bytes with a lookup table; no
 * substrings, no parseInt, no regular expressions.
 */

/** One field of a header layout. */
export interface FieldSpec {
  readonly offset: number;
  readonly length: number;
}

/** odc / POSIX.1 "portable ASCII" (`070707`): 76 bytes, every number in octal; no padding anywhere. */
export const ODC = {
  size: 76,
  magic: { offset: 0, length: 6 },
  dev: { offset: 6, length: 6 },
  ino: { offset: 12, length: 6 },
  mode: { offset: 18, length: 6 },
  uid: { offset: 24, length: 6 },
  gid: { offset: 30, length: 6 },
  nlink: { offset: 36, length: 6 },
  rdev: { offset: 42, length: 6 },
  mtime: { offset: 48, length: 11 },
  namesize: { offset: 59, length: 6 },
  filesize: { offset: 65, length: 11 },
} as const;

/**
 * newc / SVR4 (`070701`) and crc (`070702`): 110 bytes, every number 8 hex digits (either case).
 * Header+name and data are each padded with NULs to a multiple of 4.
 */
export const NEWC = {
  size: 110,
  magic: { offset: 0, length: 6 },
  ino: { offset: 6, length: 8 },
  mode: { offset: 14, length: 8 },
  uid: { offset: 22, length: 8 },
  gid: { offset: 30, length: 8 },
  nlink: { offset: 38, length: 8 },
  mtime: { offset: 46, length: 8 },
  filesize: { offset: 54, length: 8 },
  devmajor: { offset: 62, length: 8 },
  devminor: { offset: 70, length: 8 },
  rdevmajor: { offset: 78, length: 8 },
  rdevminor: { offset: 86, length: 8 },
  namesize: { offset: 94, length: 8 },
  check: { offset: 102, length: 8 },
} as const;

/**
 * afio "large ASCII" (`070727`): 116 bytes; hex numbers except the octal mode, with the marker
 * characters `m`, `n`, `s`, `:` at fixed places. Neither the name nor the data is padded.
 * afio writes it only for members odc cannot describe and mixes it with odc headers.
 */
export const AFIO = {
  size: 116,
  magic: { offset: 0, length: 6 },
  dev: { offset: 6, length: 8 },
  ino: { offset: 14, length: 16 },
  inoMark: { offset: 30, length: 1 }, // 'm'
  mode: { offset: 31, length: 6 }, // octal
  uid: { offset: 37, length: 8 },
  gid: { offset: 45, length: 8 },
  nlink: { offset: 53, length: 8 },
  rdev: { offset: 61, length: 8 },
  mtime: { offset: 69, length: 16 },
  mtimeMark: { offset: 85, length: 1 }, // 'n'
  namesize: { offset: 86, length: 4 },
  flag: { offset: 90, length: 4 },
  xsize: { offset: 94, length: 4 },
  xsizeMark: { offset: 98, length: 1 }, // 's'
  filesize: { offset: 99, length: 16 },
  filesizeMark: { offset: 115, length: 1 }, // ':'
} as const;

/**
 * Old binary (u16 magic 0o070707 = 0x71C7): 13 16-bit words in the writer's byte order; the
 * 32-bit mtime and filesize are two words, most significant word first (PDP-11 order) in both
 * byte orders. Header+name and data are each padded to an even length.
 */
export const BIN = {
  size: 26,
  magic: { offset: 0, length: 2 },
  dev: { offset: 2, length: 2 },
  ino: { offset: 4, length: 2 },
  mode: { offset: 6, length: 2 },
  uid: { offset: 8, length: 2 },
  gid: { offset: 10, length: 2 },
  nlink: { offset: 12, length: 2 },
  rdev: { offset: 14, length: 2 },
  mtime: { offset: 16, length: 4 },
  namesize: { offset: 20, length: 2 },
  filesize: { offset: 22, length: 4 },
} as const;

export type CpioVariant = 'odc' | 'newc' | 'crc' | 'afio' | 'bin-le' | 'bin-be';

/** Mode bits (formats.md §3.3, §3.6; illumos usr/src/cmd/cpio/cpio.h, archives.h). */
export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
/** Solaris `_XATTR_CPIO_MODE`: ORed into the type of extended-attribute records. */
export const XATTR_CPIO_MODE = 0xb000;
/** Solaris `SECMODE`: the whole mode of an ACL ("ancillary") record. */
export const SECMODE = 0xe080;
/** Solaris sparse flag `C_ISSPARSE` (0o200000); `HIGH_ORD_MASK` selects the bits it lives in. */
export const C_ISSPARSE = 0o200000;
export const HIGH_ORD_MASK = 0x30000;
/** Solaris sparse "holes header" prefix: `%10lu %20llu ` (illumos cpio.h MIN_HOLES_HDRSIZE). */
export const MIN_HOLES_HDRSIZE = 10 + 1 + 20 + 1;

/** The decoded numeric fields of one header; one instance is reused for every record. */
export class CpioHeader {
  variant: CpioVariant = 'newc';
  /** Bytes of the fixed header (76, 110, 116 or 26). */
  headerSize = 0;
  /** Device of the archived file: newc has major/minor, the others one number split as x>>8, x&0xFF. */
  devMajor = 0;
  devMinor = 0;
  ino = 0;
  /** Full mode as stored, type and Solaris high bits included. */
  mode = 0;
  uid = 0;
  gid = 0;
  nlink = 0;
  rdevMajor = 0;
  rdevMinor = 0;
  mtime = 0;
  namesize = 0;
  filesize = 0;
  /** crc: byte sum of the data; 0 elsewhere. */
  check = 0;
  /** afio: extension size (must be 0: its layout is not documented). */
  xsize = 0;
}

/**
 * Hex value of every byte, -1 for non-hex bytes. Octal checks reuse it (`v < 8`).
 * Hot path: one typed-array load per digit.
 */
const DIGIT = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) DIGIT[0x30 + c] = c;
for (let c = 0; c < 6; c++) {
  DIGIT[0x41 + c] = 10 + c;
  DIGIT[0x61 + c] = 10 + c;
}

/** Parses `len` hex digits at `off`; -1 when a byte is not a hex digit or the value is not exact. */
function hex(h: Uint8Array, off: number, len: number): number {
  let v = 0;
  const end = off + len;
  for (let i = off; i < end; i++) {
    const d = DIGIT[h[i]!]!;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v <= Number.MAX_SAFE_INTEGER ? v : -1;
}

/** Parses `len` octal digits at `off`; -1 when a byte is not an octal digit. */
function oct(h: Uint8Array, off: number, len: number): number {
  let v = 0;
  const end = off + len;
  for (let i = off; i < end; i++) {
    const d = DIGIT[h[i]!]!;
    if (d < 0 || d > 7) return -1;
    v = v * 8 + d;
  }
  return v;
}

/** Counts leading octal (radix 8) or hex (16) digits of h[off, off+len) that are present in `h`. */
export function countDigits(h: Uint8Array, off: number, len: number, radix: 8 | 16): number {
  const end = Math.min(off + len, h.length);
  let n = 0;
  for (let i = off; i < end; i++) {
    const d = DIGIT[h[i]!]!;
    if (d < 0 || d >= radix) return -1;
    n++;
  }
  return n;
}

/** The variant a header starts with, from its magic (`h` needs 6 bytes for the ASCII ones). */
export function variantOfMagic(h: Uint8Array): CpioVariant | null {
  if (h.length >= 2) {
    if (h[0] === 0xc7 && h[1] === 0x71) return 'bin-le';
    if (h[0] === 0x71 && h[1] === 0xc7) return 'bin-be';
  }
  if (h.length < 6) return null;
  // "07070" then 7 (odc), 1 (newc), 2 (crc); "070727" (afio)
  if (h[0] !== 0x30 || h[1] !== 0x37 || h[2] !== 0x30 || h[3] !== 0x37) return null;
  if (h[4] === 0x30) {
    if (h[5] === 0x37) return 'odc';
    if (h[5] === 0x31) return 'newc';
    if (h[5] === 0x32) return 'crc';
    return null;
  }
  if (h[4] === 0x32 && h[5] === 0x37) return 'afio';
  return null;
}

/** Header size of a variant. */
export function headerSizeOf(v: CpioVariant): number {
  switch (v) {
    case 'odc':
      return ODC.size;
    case 'newc':
    case 'crc':
      return NEWC.size;
    case 'afio':
      return AFIO.size;
    default:
      return BIN.size;
  }
}

/**
 * Decodes the fixed header of variant `v` from `h` (at least headerSizeOf(v) bytes, magic
 * already checked) into `out`. Returns null, or the name of the first malformed field.
 */
export function decodeHeader(h: Uint8Array, v: CpioVariant, out: CpioHeader): string | null {
  out.variant = v;
  out.check = 0;
  out.xsize = 0;
  switch (v) {
    case 'newc':
    case 'crc':
      return decodeNewc(h, out);
    case 'odc':
      return decodeOdc(h, out);
    case 'afio':
      return decodeAfio(h, out);
    case 'bin-le':
      return decodeBin(h, out, true);
    case 'bin-be':
      return decodeBin(h, out, false);
  }
}

/**
 * Hot path: 8 hex digits, unrolled. Any invalid digit is -1 in DIGIT, so the OR of all digits
 * is negative exactly when one is invalid. Values fit 32 bits unsigned.
 */
function hex8(h: Uint8Array, o: number): number {
  const a = DIGIT[h[o]!]!;
  const b = DIGIT[h[o + 1]!]!;
  const c = DIGIT[h[o + 2]!]!;
  const d = DIGIT[h[o + 3]!]!;
  const e = DIGIT[h[o + 4]!]!;
  const f = DIGIT[h[o + 5]!]!;
  const g = DIGIT[h[o + 6]!]!;
  const i = DIGIT[h[o + 7]!]!;
  if ((a | b | c | d | e | f | g | i) < 0) return -1;
  return ((a << 28) | (b << 24) | (c << 20) | (d << 16) | (e << 12) | (f << 8) | (g << 4) | i) >>> 0;
}

function decodeNewc(h: Uint8Array, out: CpioHeader): string | null {
  out.headerSize = NEWC.size;
  let x: number;
  if ((x = hex8(h, NEWC.ino.offset)) < 0) return 'ino';
  out.ino = x;
  if ((x = hex8(h, NEWC.mode.offset)) < 0) return 'mode';
  out.mode = x;
  if ((x = hex8(h, NEWC.uid.offset)) < 0) return 'uid';
  out.uid = x;
  if ((x = hex8(h, NEWC.gid.offset)) < 0) return 'gid';
  out.gid = x;
  if ((x = hex8(h, NEWC.nlink.offset)) < 0) return 'nlink';
  out.nlink = x;
  if ((x = hex8(h, NEWC.mtime.offset)) < 0) return 'mtime';
  out.mtime = x;
  if ((x = hex8(h, NEWC.filesize.offset)) < 0) return 'filesize';
  out.filesize = x;
  if ((x = hex8(h, NEWC.devmajor.offset)) < 0) return 'devmajor';
  out.devMajor = x;
  if ((x = hex8(h, NEWC.devminor.offset)) < 0) return 'devminor';
  out.devMinor = x;
  if ((x = hex8(h, NEWC.rdevmajor.offset)) < 0) return 'rdevmajor';
  out.rdevMajor = x;
  if ((x = hex8(h, NEWC.rdevminor.offset)) < 0) return 'rdevminor';
  out.rdevMinor = x;
  if ((x = hex8(h, NEWC.namesize.offset)) < 0) return 'namesize';
  out.namesize = x;
  if ((x = hex8(h, NEWC.check.offset)) < 0) return 'check';
  out.check = x;
  return null;
}

function decodeOdc(h: Uint8Array, out: CpioHeader): string | null {
  out.headerSize = ODC.size;
  let x: number;
  if ((x = oct(h, ODC.dev.offset, 6)) < 0) return 'dev';
  out.devMajor = x >>> 8;
  out.devMinor = x & 0xff;
  if ((x = oct(h, ODC.ino.offset, 6)) < 0) return 'ino';
  out.ino = x;
  if ((x = oct(h, ODC.mode.offset, 6)) < 0) return 'mode';
  out.mode = x;
  if ((x = oct(h, ODC.uid.offset, 6)) < 0) return 'uid';
  out.uid = x;
  if ((x = oct(h, ODC.gid.offset, 6)) < 0) return 'gid';
  out.gid = x;
  if ((x = oct(h, ODC.nlink.offset, 6)) < 0) return 'nlink';
  out.nlink = x;
  if ((x = oct(h, ODC.rdev.offset, 6)) < 0) return 'rdev';
  out.rdevMajor = x >>> 8;
  out.rdevMinor = x & 0xff;
  if ((x = oct(h, ODC.mtime.offset, 11)) < 0) return 'mtime';
  out.mtime = x;
  if ((x = oct(h, ODC.namesize.offset, 6)) < 0) return 'namesize';
  out.namesize = x;
  if ((x = oct(h, ODC.filesize.offset, 11)) < 0) return 'filesize';
  out.filesize = x;
  return null;
}

function decodeAfio(h: Uint8Array, out: CpioHeader): string | null {
  out.headerSize = AFIO.size;
  let x: number;
  if ((x = hex(h, AFIO.dev.offset, 8)) < 0) return 'dev';
  out.devMajor = Math.floor(x / 256);
  out.devMinor = x % 256;
  if ((x = hex(h, AFIO.ino.offset, 16)) < 0) return 'ino';
  out.ino = x;
  if (h[AFIO.inoMark.offset] !== 0x6d) return 'ino'; // 'm'
  if ((x = oct(h, AFIO.mode.offset, 6)) < 0) return 'mode';
  out.mode = x;
  if ((x = hex(h, AFIO.uid.offset, 8)) < 0) return 'uid';
  out.uid = x;
  if ((x = hex(h, AFIO.gid.offset, 8)) < 0) return 'gid';
  out.gid = x;
  if ((x = hex(h, AFIO.nlink.offset, 8)) < 0) return 'nlink';
  out.nlink = x;
  if ((x = hex(h, AFIO.rdev.offset, 8)) < 0) return 'rdev';
  out.rdevMajor = Math.floor(x / 256);
  out.rdevMinor = x % 256;
  if ((x = hex(h, AFIO.mtime.offset, 16)) < 0) return 'mtime';
  out.mtime = x;
  if (h[AFIO.mtimeMark.offset] !== 0x6e) return 'mtime'; // 'n'
  if ((x = hex(h, AFIO.namesize.offset, 4)) < 0) return 'namesize';
  out.namesize = x;
  if (hex(h, AFIO.flag.offset, 4) < 0) return 'flag';
  if ((x = hex(h, AFIO.xsize.offset, 4)) < 0) return 'xsize';
  out.xsize = x;
  if (h[AFIO.xsizeMark.offset] !== 0x73) return 'xsize'; // 's'
  if ((x = hex(h, AFIO.filesize.offset, 16)) < 0) return 'filesize';
  out.filesize = x;
  if (h[AFIO.filesizeMark.offset] !== 0x3a) return 'filesize'; // ':'
  return null;
}

function u16(h: Uint8Array, o: number, le: boolean): number {
  return le ? h[o]! | (h[o + 1]! << 8) : (h[o]! << 8) | h[o + 1]!;
}

function decodeBin(h: Uint8Array, out: CpioHeader, le: boolean): string | null {
  out.headerSize = BIN.size;
  const dev = u16(h, BIN.dev.offset, le);
  out.devMajor = dev >>> 8;
  out.devMinor = dev & 0xff;
  out.ino = u16(h, BIN.ino.offset, le);
  out.mode = u16(h, BIN.mode.offset, le);
  out.uid = u16(h, BIN.uid.offset, le);
  out.gid = u16(h, BIN.gid.offset, le);
  out.nlink = u16(h, BIN.nlink.offset, le);
  const rdev = u16(h, BIN.rdev.offset, le);
  out.rdevMajor = rdev >>> 8;
  out.rdevMinor = rdev & 0xff;
  // 32-bit values: most significant word first, whatever the byte order (PDP-11 order).
  out.mtime = u16(h, BIN.mtime.offset, le) * 0x10000 + u16(h, BIN.mtime.offset + 2, le);
  out.namesize = u16(h, BIN.namesize.offset, le);
  out.filesize = u16(h, BIN.filesize.offset, le) * 0x10000 + u16(h, BIN.filesize.offset + 2, le);
  return null;
}

/** Offset of a named field inside the header of variant `v` (for error messages). */
export function fieldOffset(v: CpioVariant, field: string): number {
  const table: Record<string, FieldSpec | number> =
    v === 'odc' ? ODC : v === 'afio' ? AFIO : v === 'newc' || v === 'crc' ? NEWC : BIN;
  const f = table[field];
  return typeof f === 'object' ? f.offset : 0;
}
