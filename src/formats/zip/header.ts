/**
 * zip record layouts (PKWARE APPNOTE 6.3.x §4.3, formats.md §5) and their decoders.
 *
 * Every layout is a table of named fields (offset, length) measured from the record's first
 * byte; all numbers are little-endian. The decoders fill plain objects and never throw: a
 * caller checks the signature first and the lengths it needs. 64-bit fields above 2^53 decode
 * as -1 (no archive this reader can open holds such a value; callers treat it as corrupt).
 */

/** One field of a record layout. */
export interface FieldSpec {
  readonly offset: number;
  readonly length: number;
}

/** Record signatures, as read with readUInt32LE. */
export const SIG = {
  /** `PK\3\4` local file header. */
  LOCAL: 0x04034b50,
  /** `PK\1\2` central directory file header. */
  CENTRAL: 0x02014b50,
  /** `PK\5\6` end of central directory record. */
  EOCD: 0x06054b50,
  /** `PK\6\6` zip64 end of central directory record. */
  ZIP64_EOCD: 0x06064b50,
  /** `PK\6\7` zip64 end of central directory locator. */
  ZIP64_LOCATOR: 0x07064b50,
  /** `PK\7\8` data descriptor (optional) and spanning marker at the start of a split archive. */
  DESCRIPTOR: 0x08074b50,
  /** `PK00` temporary spanning marker: a split archive that turned out to need one segment. */
  SPAN_TEMP: 0x30304b50,
  /** `PK\5\5` digital signature record, which may end the central directory. */
  DIGITAL_SIGNATURE: 0x05054b50,
} as const;

/** Local file header (APPNOTE §4.3.7): 30 bytes, then name and extra field. */
export const LOCAL = {
  size: 30,
  signature: { offset: 0, length: 4 },
  versionNeeded: { offset: 4, length: 2 },
  flags: { offset: 6, length: 2 },
  method: { offset: 8, length: 2 },
  dosTime: { offset: 10, length: 2 },
  dosDate: { offset: 12, length: 2 },
  crc32: { offset: 14, length: 4 },
  compressedSize: { offset: 18, length: 4 },
  uncompressedSize: { offset: 22, length: 4 },
  nameLength: { offset: 26, length: 2 },
  extraLength: { offset: 28, length: 2 },
} as const;

/** Central directory file header (APPNOTE §4.3.12): 46 bytes, then name, extra, comment. */
export const CENTRAL = {
  size: 46,
  signature: { offset: 0, length: 4 },
  versionMadeBy: { offset: 4, length: 2 },
  versionNeeded: { offset: 6, length: 2 },
  flags: { offset: 8, length: 2 },
  method: { offset: 10, length: 2 },
  dosTime: { offset: 12, length: 2 },
  dosDate: { offset: 14, length: 2 },
  crc32: { offset: 16, length: 4 },
  compressedSize: { offset: 20, length: 4 },
  uncompressedSize: { offset: 24, length: 4 },
  nameLength: { offset: 28, length: 2 },
  extraLength: { offset: 30, length: 2 },
  commentLength: { offset: 32, length: 2 },
  diskStart: { offset: 34, length: 2 },
  internalAttributes: { offset: 36, length: 2 },
  externalAttributes: { offset: 38, length: 4 },
  localHeaderOffset: { offset: 42, length: 4 },
} as const;

/** End of central directory record (APPNOTE §4.3.16): 22 bytes, then the archive comment. */
export const EOCD = {
  size: 22,
  signature: { offset: 0, length: 4 },
  diskNumber: { offset: 4, length: 2 },
  centralDirectoryDisk: { offset: 6, length: 2 },
  entriesOnDisk: { offset: 8, length: 2 },
  totalEntries: { offset: 10, length: 2 },
  centralDirectorySize: { offset: 12, length: 4 },
  centralDirectoryOffset: { offset: 16, length: 4 },
  commentLength: { offset: 20, length: 2 },
} as const;

/** Largest archive comment, hence how far from the end the EOCD can start. */
export const MAX_COMMENT = 0xffff;

/** zip64 end of central directory locator (APPNOTE §4.3.15): 20 bytes, just before the EOCD. */
export const ZIP64_LOCATOR = {
  size: 20,
  signature: { offset: 0, length: 4 },
  eocdDisk: { offset: 4, length: 4 },
  eocdOffset: { offset: 8, length: 8 },
  totalDisks: { offset: 16, length: 4 },
} as const;

/** zip64 end of central directory record (APPNOTE §4.3.14): 56 bytes + extensible data. */
export const ZIP64_EOCD = {
  size: 56,
  signature: { offset: 0, length: 4 },
  /** Size of the rest of the record: total size - 12. */
  recordSize: { offset: 4, length: 8 },
  versionMadeBy: { offset: 12, length: 2 },
  versionNeeded: { offset: 14, length: 2 },
  diskNumber: { offset: 16, length: 4 },
  centralDirectoryDisk: { offset: 20, length: 4 },
  entriesOnDisk: { offset: 24, length: 8 },
  totalEntries: { offset: 32, length: 8 },
  centralDirectorySize: { offset: 40, length: 8 },
  centralDirectoryOffset: { offset: 48, length: 8 },
} as const;

/**
 * Data descriptor (APPNOTE §4.3.9): after the data of an entry with flag bit 3. The signature
 * is optional; sizes are 8 bytes when the entry is zip64. Four shapes, by byte length.
 */
export const DESCRIPTOR_SHAPES = [
  { signature: true, zip64: false, size: 16, crc32: 4, compressedSize: 8, uncompressedSize: 12 },
  { signature: true, zip64: true, size: 24, crc32: 4, compressedSize: 8, uncompressedSize: 16 },
  { signature: false, zip64: false, size: 12, crc32: 0, compressedSize: 4, uncompressedSize: 8 },
  { signature: false, zip64: true, size: 20, crc32: 0, compressedSize: 4, uncompressedSize: 12 },
] as const;

export type DescriptorShape = (typeof DESCRIPTOR_SHAPES)[number];

/** The longest descriptor plus the 4-byte signature that must follow it. */
export const DESCRIPTOR_LOOKAHEAD = 24 + 4;

/** General purpose flag bits (APPNOTE §4.4.4). */
export const FLAG = {
  ENCRYPTED: 0x0001,
  DATA_DESCRIPTOR: 0x0008,
  STRONG_ENCRYPTION: 0x0040,
  UTF8: 0x0800,
  /** Central directory encryption masks local header values. */
  MASKED_HEADER: 0x2000,
  /** Bits APPNOTE marks unused or reserved (7-10, 12, 14, 15). */
  RESERVED: 0xd780,
} as const;

/** Compression methods this reader decodes. */
export const METHOD_STORED = 0;
export const METHOD_DEFLATE = 8;
/** WinZip AES: the real method is inside the 0x9901 extra, the data is encrypted. */
export const METHOD_AES = 99;

/** Names of compression methods (APPNOTE §4.4.5), for messages. */
export const METHOD_NAMES: Readonly<Record<number, string>> = {
  0: 'stored',
  1: 'shrink',
  2: 'reduce 1',
  3: 'reduce 2',
  4: 'reduce 3',
  5: 'reduce 4',
  6: 'implode',
  8: 'deflate',
  9: 'deflate64',
  10: 'PKWARE DCL implode',
  12: 'bzip2',
  14: 'lzma',
  16: 'IBM z/OS CMPSC',
  18: 'IBM TERSE',
  19: 'IBM LZ77 z',
  20: 'zstd (old id)',
  93: 'zstd',
  94: 'mp3',
  95: 'xz',
  96: 'jpeg',
  97: 'WavPack',
  98: 'PPMd',
  99: 'AES encryption',
};

/** Host systems in the high byte of "version made by" (APPNOTE §4.4.2). */
export const HOST_MSDOS = 0;
export const HOST_UNIX = 3;
export const HOST_NTFS = 10;
export const HOST_VFAT = 14;
export const HOST_OSX = 19;

/** MS-DOS attribute bits in the low byte of the external attributes. */
export const DOS_DIRECTORY = 0x10;

/** Extra field header ids (APPNOTE §4.5, §4.6; Info-ZIP extrafld.txt). */
export const EXTRA = {
  ZIP64: 0x0001,
  PKWARE_UNIX: 0x000d,
  EXTENDED_TIMESTAMP: 0x5455,
  INFOZIP_UNIX_OLD: 0x5855,
  INFOZIP_UNIX_UID16: 0x7855,
  UNICODE_PATH: 0x7075,
  INFOZIP_UNIX_UX: 0x7875,
} as const;

/** Marker of a 32-bit field whose value is in the zip64 extra. */
export const U32_MAX = 0xffffffff;
export const U16_MAX = 0xffff;

/** Fields of a local file header. */
export interface LocalHeader {
  versionNeeded: number;
  flags: number;
  method: number;
  dosTime: number;
  dosDate: number;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  nameLength: number;
  extraLength: number;
}

/** Fields of a central directory file header. */
export interface CentralHeader extends LocalHeader {
  versionMadeBy: number;
  commentLength: number;
  diskStart: number;
  internalAttributes: number;
  externalAttributes: number;
  localHeaderOffset: number;
}

export interface EndRecord {
  diskNumber: number;
  centralDirectoryDisk: number;
  entriesOnDisk: number;
  totalEntries: number;
  centralDirectorySize: number;
  centralDirectoryOffset: number;
  commentLength: number;
}

export function u16(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8);
}

export function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** A 64-bit little-endian number, or -1 when it exceeds Number.MAX_SAFE_INTEGER. */
export function u64(b: Uint8Array, at: number): number {
  const lo = u32(b, at);
  const hi = u32(b, at + 4);
  if (hi > 0x1fffff) return -1;
  return hi * 0x100000000 + lo;
}

/** Decodes the 30-byte local header at `at` (the signature was checked by the caller). */
export function decodeLocal(b: Uint8Array, at = 0): LocalHeader {
  return {
    versionNeeded: u16(b, at + LOCAL.versionNeeded.offset),
    flags: u16(b, at + LOCAL.flags.offset),
    method: u16(b, at + LOCAL.method.offset),
    dosTime: u16(b, at + LOCAL.dosTime.offset),
    dosDate: u16(b, at + LOCAL.dosDate.offset),
    crc32: u32(b, at + LOCAL.crc32.offset),
    compressedSize: u32(b, at + LOCAL.compressedSize.offset),
    uncompressedSize: u32(b, at + LOCAL.uncompressedSize.offset),
    nameLength: u16(b, at + LOCAL.nameLength.offset),
    extraLength: u16(b, at + LOCAL.extraLength.offset),
  };
}

/** Decodes the 46-byte central header at `at` (the signature was checked by the caller). */
export function decodeCentral(b: Uint8Array, at = 0): CentralHeader {
  return {
    versionMadeBy: u16(b, at + CENTRAL.versionMadeBy.offset),
    versionNeeded: u16(b, at + CENTRAL.versionNeeded.offset),
    flags: u16(b, at + CENTRAL.flags.offset),
    method: u16(b, at + CENTRAL.method.offset),
    dosTime: u16(b, at + CENTRAL.dosTime.offset),
    dosDate: u16(b, at + CENTRAL.dosDate.offset),
    crc32: u32(b, at + CENTRAL.crc32.offset),
    compressedSize: u32(b, at + CENTRAL.compressedSize.offset),
    uncompressedSize: u32(b, at + CENTRAL.uncompressedSize.offset),
    nameLength: u16(b, at + CENTRAL.nameLength.offset),
    extraLength: u16(b, at + CENTRAL.extraLength.offset),
    commentLength: u16(b, at + CENTRAL.commentLength.offset),
    diskStart: u16(b, at + CENTRAL.diskStart.offset),
    internalAttributes: u16(b, at + CENTRAL.internalAttributes.offset),
    externalAttributes: u32(b, at + CENTRAL.externalAttributes.offset),
    localHeaderOffset: u32(b, at + CENTRAL.localHeaderOffset.offset),
  };
}

/** Decodes the 22-byte end of central directory record at `at`. */
export function decodeEnd(b: Uint8Array, at = 0): EndRecord {
  return {
    diskNumber: u16(b, at + EOCD.diskNumber.offset),
    centralDirectoryDisk: u16(b, at + EOCD.centralDirectoryDisk.offset),
    entriesOnDisk: u16(b, at + EOCD.entriesOnDisk.offset),
    totalEntries: u16(b, at + EOCD.totalEntries.offset),
    centralDirectorySize: u32(b, at + EOCD.centralDirectorySize.offset),
    centralDirectoryOffset: u32(b, at + EOCD.centralDirectoryOffset.offset),
    commentLength: u16(b, at + EOCD.commentLength.offset),
  };
}

/** Decodes the 56-byte zip64 end record at `at` into EOCD terms (-1 for unsafe numbers). */
export function decodeZip64End(b: Uint8Array, at = 0): EndRecord & { recordSize: number } {
  return {
    recordSize: u64(b, at + ZIP64_EOCD.recordSize.offset),
    diskNumber: u32(b, at + ZIP64_EOCD.diskNumber.offset),
    centralDirectoryDisk: u32(b, at + ZIP64_EOCD.centralDirectoryDisk.offset),
    entriesOnDisk: u64(b, at + ZIP64_EOCD.entriesOnDisk.offset),
    totalEntries: u64(b, at + ZIP64_EOCD.totalEntries.offset),
    centralDirectorySize: u64(b, at + ZIP64_EOCD.centralDirectorySize.offset),
    centralDirectoryOffset: u64(b, at + ZIP64_EOCD.centralDirectoryOffset.offset),
    commentLength: 0,
  };
}

/** `method` with its name, for messages: `12 (bzip2)`. */
export function describeMethod(method: number): string {
  const name = METHOD_NAMES[method];
  return name === undefined ? `${method} (unknown)` : `${method} (${name})`;
}

/**
 * DOS date and time as seconds since the epoch, read as UTC: zip stores local wall-clock time
 * without a zone, and the zone of the machine that wrote it is unknown (formats.md §5). Writers
 * that know better add the 0x5455 extended timestamp, which wins when present.
 */
export function dosToEpoch(dosDate: number, dosTime: number): number {
  const year = 1980 + (dosDate >> 9);
  const month = (dosDate >> 5) & 0x0f;
  const day = dosDate & 0x1f;
  const hour = dosTime >> 11;
  const minute = (dosTime >> 5) & 0x3f;
  const second = (dosTime & 0x1f) * 2;
  return Math.floor(Date.UTC(year, month - 1, day, hour, minute, second) / 1000);
}
