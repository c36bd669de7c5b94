/**
 * A small zip writer for tests, from the layouts in PKWARE APPNOTE §4.3 (not from any other
 * writer): stored and deflate entries, data descriptors with and without signature, zip64
 * extras, end records and descriptors, Unix attributes and the common extras — and knobs to
 * write what real tools never would (wrong CRCs, local/central name mismatches, central
 * entries pointing at another entry's data, junk between entries). It reports where each part
 * of each entry lies, for truncation tests.
 */
import { crc32, deflateRawSync } from 'node:zlib';

export type Bytes = string | Buffer;
const b = (x: Bytes): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

export interface ZipBuildEntry {
  /** Name bytes (a string is taken as latin1; use a Buffer for UTF-8). */
  name: Bytes;
  data?: Bytes;
  /** 0 stored (default), 8 deflate, anything else: `compressed` (or the data) written as is. */
  method?: number;
  /** The compressed bytes to write instead of compressing `data`. */
  compressed?: Buffer;
  /** Flag bit 3: sizes in a data descriptor after the data (`sig`: with PK\7\8). */
  descriptor?: 'sig' | 'nosig';
  /** Write the uncompressed size in the local header even with bit 3 (as bsdtar does). */
  sizeInLocalHeader?: boolean;
  /** zip64: 0xFFFFFFFF sizes with a zip64 extra in both headers, 64-bit descriptor sizes. */
  zip64?: boolean;
  /** CRC-32 to record instead of the real one. */
  crc?: number;
  /** Name for the local header when it must differ from the central one. */
  localName?: Bytes;
  /** Unix mode with type bits: version made by = Unix, attributes in the high word. */
  mode?: number;
  /** Raw external attributes and made-by (override `mode`). */
  externalAttributes?: number;
  versionMadeBy?: number;
  /** Extra general purpose flag bits (e.g. 1 = encrypted). */
  flags?: number;
  /** DOS date and time fields (default 2020-09-13 12:26:40). */
  dosDate?: number;
  dosTime?: number;
  /** 0x5455 extended timestamp (mtime) in both headers. */
  mtime?: number;
  /** 0x7875 uid/gid in both headers. */
  uid?: number;
  gid?: number;
  /** Info-ZIP Unicode Path extra (0x7075) in both headers, with the raw name's CRC (or `unicodeCrc`). */
  unicodePath?: Buffer;
  unicodeCrc?: number;
  /** Extra fields appended verbatim. */
  localExtra?: Buffer;
  centralExtra?: Buffer;
  /** The central record points at this entry's local header instead (overlap tests). */
  centralOffsetOf?: number;
  /** Sizes to record instead of the real ones (central and, without bit 3, local). */
  recordedSize?: number;
  recordedCompressedSize?: number;
}

export interface ZipBuildOptions {
  /** Bytes before the first local header (a self-extractor stub). */
  prefix?: Buffer;
  /** Offsets in the central directory count from the zip part (an unadjusted self-extractor). */
  offsetsFromZipStart?: boolean;
  /** Bytes written after entry i (junk between entries). */
  junkAfter?: Record<number, Buffer>;
  /** Archive comment. */
  comment?: Bytes;
  /** Write zip64 end records (end record fields saturated). */
  zip64End?: boolean;
  /** Leave the central directory and end records out. */
  noCentralDirectory?: boolean;
  /** Central directory order (indices into entries; default archive order). */
  centralOrder?: number[];
  /** Leave these entries out of the central directory. */
  omitFromCentral?: number[];
  /** Total entries written in the end record instead of the real count. */
  recordedCount?: number;
}

export interface EntryLayout {
  header: number;
  name: number;
  data: number;
  dataEnd: number;
  /** Start of the data descriptor (= end when there is none). */
  descriptor: number;
  end: number;
}

export interface BuiltZip {
  bytes: Buffer;
  entries: EntryLayout[];
  centralDirectory: number;
  endRecord: number;
}

const DEFAULT_DOS_DATE = ((2020 - 1980) << 9) | (9 << 5) | 13;
const DEFAULT_DOS_TIME = (12 << 11) | (26 << 5) | 20;

function u16(n: number): Buffer {
  const x = Buffer.alloc(2);
  x.writeUInt16LE(n & 0xffff);
  return x;
}
function u32(n: number): Buffer {
  const x = Buffer.alloc(4);
  x.writeUInt32LE(n >>> 0);
  return x;
}
function u64(n: number): Buffer {
  const x = Buffer.alloc(8);
  x.writeBigUInt64LE(BigInt(n));
  return x;
}

export function extraField(id: number, data: Buffer): Buffer {
  return Buffer.concat([u16(id), u16(data.length), data]);
}

/** 0x7075 Unicode Path: version 1, CRC-32 of the raw name, the UTF-8 name. */
export function unicodePathExtra(rawName: Buffer, utf8: Buffer, crc = crc32(rawName)): Buffer {
  return extraField(0x7075, Buffer.concat([Buffer.from([1]), u32(crc), utf8]));
}

interface Prepared {
  e: ZipBuildEntry;
  name: Buffer;
  localName: Buffer;
  data: Buffer;
  compressed: Buffer;
  method: number;
  crc: number;
  flags: number;
  usize: number;
  csize: number;
}

function prepare(e: ZipBuildEntry): Prepared {
  const name = b(e.name);
  const data = b(e.data ?? '');
  const method = e.method ?? 0;
  const compressed = e.compressed ?? (method === 8 ? deflateRawSync(data) : data);
  let flags = (e.flags ?? 0) | (e.descriptor ? 0x8 : 0);
  if (Buffer.isBuffer(e.name) && [...e.name].some((c) => c >= 0x80) && e.unicodePath === undefined) flags |= 0x800;
  return {
    e,
    name,
    localName: e.localName === undefined ? name : b(e.localName),
    data,
    compressed,
    method,
    crc: e.crc ?? crc32(data),
    flags,
    usize: e.recordedSize ?? data.length,
    csize: e.recordedCompressedSize ?? compressed.length,
  };
}

function commonExtras(p: Prepared, rawName: Buffer, central: boolean): Buffer {
  const parts: Buffer[] = [];
  const e = p.e;
  if (e.mtime !== undefined) parts.push(extraField(0x5455, Buffer.concat([Buffer.from([1]), u32(e.mtime)])));
  if (e.uid !== undefined || e.gid !== undefined) {
    parts.push(extraField(0x7875, Buffer.concat([Buffer.from([1, 4]), u32(e.uid ?? 0), Buffer.from([4]), u32(e.gid ?? 0)])));
  }
  if (e.unicodePath !== undefined) parts.push(unicodePathExtra(rawName, e.unicodePath, e.unicodeCrc));
  const verbatim = central ? e.centralExtra : e.localExtra;
  if (verbatim) parts.push(verbatim);
  return Buffer.concat(parts);
}

export function buildZip(entries: ZipBuildEntry[], options: ZipBuildOptions = {}): BuiltZip {
  const parts: Buffer[] = [];
  let pos = 0;
  const push = (x: Buffer) => {
    parts.push(x);
    pos += x.length;
  };
  if (options.prefix) push(options.prefix);
  const zipStart = options.offsetsFromZipStart ? pos : 0;
  const prepared = entries.map(prepare);
  const layout: EntryLayout[] = [];

  prepared.forEach((p, i) => {
    const e = p.e;
    const header = pos;
    const dd = e.descriptor !== undefined;
    const z = e.zip64 === true;
    let lcsize = dd ? 0 : p.csize;
    let lusize = dd ? (e.sizeInLocalHeader ? p.usize : 0) : p.usize;
    let zipExtra: Buffer = Buffer.alloc(0);
    if (z) {
      zipExtra = extraField(0x0001, Buffer.concat([u64(dd ? 0 : p.usize), u64(dd ? 0 : p.csize)]));
      lcsize = 0xffffffff;
      lusize = 0xffffffff;
    }
    const extra = Buffer.concat([zipExtra, commonExtras(p, p.localName, false)]);
    push(
      Buffer.concat([
        u32(0x04034b50),
        u16(z ? 45 : 20),
        u16(p.flags),
        u16(p.method),
        u16(e.dosTime ?? DEFAULT_DOS_TIME),
        u16(e.dosDate ?? DEFAULT_DOS_DATE),
        u32(dd ? 0 : p.crc),
        u32(lcsize),
        u32(lusize),
        u16(p.localName.length),
        u16(extra.length),
      ]),
    );
    const name = pos;
    push(p.localName);
    push(extra);
    const data = pos;
    push(p.compressed);
    const dataEnd = pos;
    if (dd) {
      const sig = e.descriptor === 'sig' ? u32(0x08074b50) : Buffer.alloc(0);
      const sizes = z ? Buffer.concat([u64(p.csize), u64(p.usize)]) : Buffer.concat([u32(p.csize), u32(p.usize)]);
      push(Buffer.concat([sig, u32(p.crc), sizes]));
    }
    layout.push({ header, name, data, dataEnd, descriptor: dataEnd, end: pos });
    const junk = options.junkAfter?.[i];
    if (junk) push(junk);
  });

  if (options.noCentralDirectory) return { bytes: Buffer.concat(parts), entries: layout, centralDirectory: pos, endRecord: pos };

  const cdStart = pos;
  const order = (options.centralOrder ?? prepared.map((_, i) => i)).filter((i) => !options.omitFromCentral?.includes(i));
  for (const i of order) {
    const p = prepared[i]!;
    const e = p.e;
    const offset = layout[e.centralOffsetOf ?? i]!.header - zipStart;
    const z = e.zip64 === true;
    const zipExtra = z ? extraField(0x0001, Buffer.concat([u64(p.usize), u64(p.csize), u64(offset)])) : Buffer.alloc(0);
    const extra = Buffer.concat([zipExtra, commonExtras(p, p.name, true)]);
    const madeBy = e.versionMadeBy ?? (e.mode !== undefined ? (3 << 8) | 30 : 20);
    const external = e.externalAttributes ?? (e.mode !== undefined ? (e.mode << 16) >>> 0 : 0);
    push(
      Buffer.concat([
        u32(0x02014b50),
        u16(madeBy),
        u16(z ? 45 : 20),
        u16(p.flags),
        u16(p.method),
        u16(e.dosTime ?? DEFAULT_DOS_TIME),
        u16(e.dosDate ?? DEFAULT_DOS_DATE),
        u32(p.crc),
        u32(z ? 0xffffffff : p.csize),
        u32(z ? 0xffffffff : p.usize),
        u16(p.name.length),
        u16(extra.length),
        u16(0),
        u16(0),
        u16(0),
        u32(external),
        u32(z ? 0xffffffff : offset),
      ]),
    );
    push(p.name);
    push(extra);
  }
  const cdSize = pos - cdStart;
  const count = options.recordedCount ?? order.length;
  const comment = b(options.comment ?? '');
  if (options.zip64End) {
    const z64 = pos;
    push(
      Buffer.concat([
        u32(0x06064b50),
        u64(44),
        u16(45),
        u16(45),
        u32(0),
        u32(0),
        u64(count),
        u64(count),
        u64(cdSize),
        u64(cdStart - zipStart),
      ]),
    );
    push(Buffer.concat([u32(0x07064b50), u32(0), u64(z64 - zipStart), u32(1)]));
  }
  const endRecord = pos;
  const z = options.zip64End === true;
  push(
    Buffer.concat([
      u32(0x06054b50),
      u16(0),
      u16(0),
      u16(z ? 0xffff : count),
      u16(z ? 0xffff : count),
      u32(z ? 0xffffffff : cdSize),
      u32(z ? 0xffffffff : cdStart - zipStart),
      u16(comment.length),
      comment,
    ]),
  );
  return { bytes: Buffer.concat(parts), entries: layout, centralDirectory: cdStart, endRecord };
}
