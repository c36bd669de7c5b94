/**
 * A small cpio writer for tests: every variant the reader knows (odc, newc, crc, afio large
 * ASCII, old binary in both byte orders), with knobs to write what real tools never would
 * (wrong checksums, absurd name sizes, missing trailers). It also reports where each part of
 * each record lies, for truncation tests.
 *
 * Layouts follow formats.md §3.2 (afio: libarchive's afiol_* table); written from the spec,
 * not from any other writer.
 */

export type BuildVariant = 'odc' | 'newc' | 'crc' | 'afio' | 'bin-le' | 'bin-be';

export interface BuildEntry {
  /** Name bytes (a string is taken as latin1). A NUL is appended unless `noNul`. */
  name: string | Buffer;
  /** Full mode, type bits included (default regular file 0644). */
  mode?: number;
  uid?: number;
  gid?: number;
  nlink?: number;
  /** Inode number (default: a fresh one per entry). */
  ino?: number;
  /** Device of the file: newc devmajor/devminor; odc/bin/afio store major<<8|minor. */
  devMajor?: number;
  devMinor?: number;
  /** Device number of a device node. */
  rdevMajor?: number;
  rdevMinor?: number;
  mtime?: number;
  /** Data bytes (a string is taken as latin1). */
  data?: string | Buffer;
  /** Header filesize when it must differ from the data length. */
  size?: number;
  /** Header namesize when it must differ from the name length + 1. */
  namesize?: number;
  /** crc check value; default: byte sum of the data for regular files, 0 otherwise. */
  check?: number;
  /** Do not append the NUL to the name. */
  noNul?: boolean;
  /** afio: value of the xsize field (default 0). */
  xsize?: number;
}

export interface BuildOptions {
  /** Append the TRAILER!!! record (default true). */
  trailer?: boolean;
  /** Pad the whole archive with NULs to a multiple of this (e.g. 512 like GNU cpio). */
  blockSize?: number;
}

/** Where the parts of one record lie in the built archive. */
export interface RecordLayout {
  header: number;
  name: number;
  namePad: number;
  data: number;
  dataPad: number;
  end: number;
}

const ALIGN: Record<BuildVariant, number> = { odc: 1, afio: 1, newc: 4, crc: 4, 'bin-le': 2, 'bin-be': 2 };

function num(v: number, width: number, radix: 8 | 16, field: string): string {
  const s = v.toString(radix).toUpperCase();
  if (v < 0 || s.length > width) throw new RangeError(`${field}=${v} does not fit ${width} base-${radix} digits`);
  return s.padStart(width, '0');
}

function bytesOf(x: string | Buffer | undefined): Buffer {
  if (x === undefined) return Buffer.alloc(0);
  return typeof x === 'string' ? Buffer.from(x, 'latin1') : x;
}

function byteSum(b: Buffer): number {
  let s = 0;
  for (const c of b) s = (s + c) % 0x100000000;
  return s;
}

let nextIno = 1000;

function header(variant: BuildVariant, e: BuildEntry, namesize: number, size: number, data: Buffer): Buffer {
  const mode = e.mode ?? 0o100644;
  const ino = e.ino ?? nextIno++;
  const uid = e.uid ?? 0;
  const gid = e.gid ?? 0;
  const nlink = e.nlink ?? 1;
  const mtime = e.mtime ?? 1600000000;
  const dev = ((e.devMajor ?? 0) << 8) | (e.devMinor ?? 0);
  const rdev = ((e.rdevMajor ?? 0) << 8) | (e.rdevMinor ?? 0);
  switch (variant) {
    case 'odc':
      return Buffer.from(
        '070707' +
          num(dev, 6, 8, 'dev') +
          num(ino, 6, 8, 'ino') +
          num(mode, 6, 8, 'mode') +
          num(uid, 6, 8, 'uid') +
          num(gid, 6, 8, 'gid') +
          num(nlink, 6, 8, 'nlink') +
          num(rdev, 6, 8, 'rdev') +
          num(mtime, 11, 8, 'mtime') +
          num(namesize, 6, 8, 'namesize') +
          num(size, 11, 8, 'filesize'),
        'latin1',
      );
    case 'newc':
    case 'crc': {
      const isReg = (mode & 0o170000) === 0o100000;
      const check = variant === 'crc' ? (e.check ?? (isReg ? byteSum(data) : 0)) : (e.check ?? 0);
      return Buffer.from(
        (variant === 'crc' ? '070702' : '070701') +
          num(ino, 8, 16, 'ino') +
          num(mode, 8, 16, 'mode') +
          num(uid, 8, 16, 'uid') +
          num(gid, 8, 16, 'gid') +
          num(nlink, 8, 16, 'nlink') +
          num(mtime, 8, 16, 'mtime') +
          num(size, 8, 16, 'filesize') +
          num(e.devMajor ?? 0, 8, 16, 'devmajor') +
          num(e.devMinor ?? 0, 8, 16, 'devminor') +
          num(e.rdevMajor ?? 0, 8, 16, 'rdevmajor') +
          num(e.rdevMinor ?? 0, 8, 16, 'rdevminor') +
          num(namesize, 8, 16, 'namesize') +
          num(check, 8, 16, 'check'),
        'latin1',
      );
    }
    case 'afio':
      return Buffer.from(
        '070727' +
          num(dev, 8, 16, 'dev') +
          num(ino, 16, 16, 'ino') +
          'm' +
          num(mode, 6, 8, 'mode') +
          num(uid, 8, 16, 'uid') +
          num(gid, 8, 16, 'gid') +
          num(nlink, 8, 16, 'nlink') +
          num(rdev, 8, 16, 'rdev') +
          num(mtime, 16, 16, 'mtime') +
          'n' +
          num(namesize, 4, 16, 'namesize') +
          '0000' +
          num(e.xsize ?? 0, 4, 16, 'xsize') +
          's' +
          num(size, 16, 16, 'filesize') +
          ':',
        'latin1',
      );
    case 'bin-le':
    case 'bin-be': {
      const le = variant === 'bin-le';
      const h = Buffer.alloc(26);
      const w = (o: number, x: number, field: string): void => {
        if (x < 0 || x > 0xffff) throw new RangeError(`${field}=${x} does not fit 16 bits`);
        if (le) h.writeUInt16LE(x, o);
        else h.writeUInt16BE(x, o);
      };
      const w32 = (o: number, x: number, field: string): void => {
        if (x < 0 || x > 0xffffffff) throw new RangeError(`${field}=${x} does not fit 32 bits`);
        w(o, Math.floor(x / 0x10000), field); // most significant word first
        w(o + 2, x % 0x10000, field);
      };
      w(0, 0o070707, 'magic');
      w(2, dev, 'dev');
      w(4, ino & 0xffff, 'ino');
      w(6, mode, 'mode');
      w(8, uid, 'uid');
      w(10, gid, 'gid');
      w(12, nlink, 'nlink');
      w(14, rdev, 'rdev');
      w32(16, mtime, 'mtime');
      w(20, namesize, 'namesize');
      w32(22, size, 'filesize');
      return h;
    }
  }
}

function pad(rel: number, align: number): number {
  return (align - (rel % align)) % align;
}

/** Builds an archive and reports the layout of every record (the trailer included). */
export function buildCpioArchive(
  variant: BuildVariant,
  entries: BuildEntry[],
  options: BuildOptions = {},
): { bytes: Buffer; records: RecordLayout[] } {
  const parts: Buffer[] = [];
  const records: RecordLayout[] = [];
  let pos = 0;
  const align = ALIGN[variant];
  const all = options.trailer === false ? entries : [...entries, { name: 'TRAILER!!!', mode: 0, nlink: 1, ino: 0 }];
  for (const e of all) {
    const nameBytes = bytesOf(e.name);
    const storedName = e.noNul ? nameBytes : Buffer.concat([nameBytes, Buffer.alloc(1)]);
    const data = bytesOf(e.data);
    const namesize = e.namesize ?? storedName.length;
    const size = e.size ?? data.length;
    const h = header(variant, e, namesize, size, data);
    const rec: RecordLayout = { header: pos, name: 0, namePad: 0, data: 0, dataPad: 0, end: 0 };
    parts.push(h);
    pos += h.length;
    rec.name = pos;
    parts.push(storedName);
    pos += storedName.length;
    rec.namePad = pos;
    const np = pad(pos, align);
    parts.push(Buffer.alloc(np));
    pos += np;
    rec.data = pos;
    parts.push(data);
    pos += data.length;
    rec.dataPad = pos;
    const dp = pad(pos, align);
    parts.push(Buffer.alloc(dp));
    pos += dp;
    rec.end = pos;
    records.push(rec);
  }
  if (options.blockSize) {
    const bp = pad(pos, options.blockSize);
    parts.push(Buffer.alloc(bp));
    pos += bp;
  }
  return { bytes: Buffer.concat(parts, pos), records };
}

/** Builds an archive (see buildCpioArchive). */
export function buildCpio(variant: BuildVariant, entries: BuildEntry[], options: BuildOptions = {}): Buffer {
  return buildCpioArchive(variant, entries, options).bytes;
}

/** A newc header from raw field strings: lets a test hand-craft what the builder would refuse. */
export function rawNewcHeader(fields: Partial<Record<NewcField, string>>, magic = '070701'): Buffer {
  const order: NewcField[] = [
    'ino',
    'mode',
    'uid',
    'gid',
    'nlink',
    'mtime',
    'filesize',
    'devmajor',
    'devminor',
    'rdevmajor',
    'rdevminor',
    'namesize',
    'check',
  ];
  return Buffer.from(magic + order.map((f) => (fields[f] ?? '00000000').padStart(8, '0')).join(''), 'latin1');
}

export type NewcField =
  | 'ino'
  | 'mode'
  | 'uid'
  | 'gid'
  | 'nlink'
  | 'mtime'
  | 'filesize'
  | 'devmajor'
  | 'devminor'
  | 'rdevmajor'
  | 'rdevminor'
  | 'namesize'
  | 'check';

/** The Solaris sparse "holes header" text for data runs [offset, length] of a file of `size`. */
export function solarisHolesText(runs: Array<[number, number]>, size: number): Buffer {
  const pairs = runs.map(([o, l]) => `${o} ${o + l}`);
  // The last hole offset must be the file size: end with an empty run there when needed.
  const last = runs[runs.length - 1];
  if (!last || last[0] + last[1] !== size) pairs.push(`${size} ${size}`);
  const body = pairs.join(' ');
  const total = 32 + body.length + 1;
  const head = `${String(total).padStart(10, ' ')} ${String(size).padStart(20, ' ')} `;
  return Buffer.concat([Buffer.from(head + body, 'latin1'), Buffer.alloc(1)]);
}
