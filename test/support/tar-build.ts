/**
 * Builds tar archives in code for tests: ustar / GNU / v7 headers with any field overridden,
 * signed or wrong checksums, base-256 numbers, pax records, GNU long names and sparse members,
 * Solaris records. Written from the layout in spec/formats.md §4, not from any tar
 * implementation.
 */

export type Bytes = string | Buffer;

const b = (x: Bytes): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

/** `n` as zero-padded octal filling `len - 1` digits plus a NUL (the common writer style). */
export function octal(n: number, len: number): Buffer {
  const s = n.toString(8).padStart(len - 1, '0');
  if (s.length > len - 1) throw new RangeError(`${n} does not fit in ${len} octal bytes`);
  return Buffer.from(s + '\0', 'latin1');
}

/** GNU base-256: 0x80 + big-endian magnitude (positive) or two's complement with 0xFF (negative). */
export function base256(n: number, len: number): Buffer {
  const out = Buffer.alloc(len);
  let v = BigInt(n);
  const mod = 1n << BigInt(8 * len);
  if (v < 0n) v += mod;
  for (let i = len - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  // Negative values are plain two's complement (top byte 0xFF); positive ones get the 0x80 flag.
  if (n >= 0) out[0] = 0x80 | out[0]!;
  return out;
}

export type Magic = 'ustar' | 'gnu' | 'v7' | 'ustar-noversion';

export interface HeaderSpec {
  name?: Bytes;
  mode?: number | Buffer;
  uid?: number | Buffer;
  gid?: number | Buffer;
  size?: number | Buffer;
  mtime?: number | Buffer;
  /** One character (`'0'`, `'x'`) or a byte value (0 for NUL). */
  typeflag?: string | number;
  linkname?: Bytes;
  magic?: Magic;
  uname?: Bytes;
  gname?: Bytes;
  devmajor?: number | Buffer;
  devminor?: number | Buffer;
  prefix?: Bytes;
  /** 'unsigned' (default), 'signed' (old Sun style) or 'bad'. */
  checksum?: 'unsigned' | 'signed' | 'bad';
  /** Raw bytes written at offsets after all fields, before the checksum. */
  raw?: Array<[number, Bytes]>;
}

function put(h: Buffer, off: number, len: number, v: Bytes): void {
  const src = b(v);
  if (src.length > len) throw new RangeError(`field at ${off} longer than ${len}`);
  src.copy(h, off);
}

function num(h: Buffer, off: number, len: number, v: number | Buffer | undefined, dflt: number): void {
  if (Buffer.isBuffer(v)) put(h, off, len, v);
  else put(h, off, len, octal(v ?? dflt, len));
}

/** Sums a header as the checksum rule says (checksum field as spaces). */
export function headerSums(h: Buffer): { unsigned: number; signed: number } {
  let u = 0;
  let s = 0;
  for (let i = 0; i < 512; i++) {
    const x = i >= 148 && i < 156 ? 0x20 : h[i]!;
    u += x;
    s += x >= 128 ? x - 256 : x;
  }
  return { unsigned: u, signed: s };
}

/** Rewrites the checksum field of a 512-byte header in place. */
export function setChecksum(h: Buffer, kind: 'unsigned' | 'signed' | 'bad' = 'unsigned'): Buffer {
  const sums = headerSums(h);
  let v = kind === 'signed' ? sums.signed : sums.unsigned;
  if (kind === 'bad') v += 1;
  Buffer.from(v.toString(8).padStart(6, '0') + '\0 ', 'latin1').copy(h, 148);
  return h;
}

export function header(spec: HeaderSpec = {}): Buffer {
  const h = Buffer.alloc(512);
  put(h, 0, 100, spec.name ?? 'file');
  num(h, 100, 8, spec.mode, 0o644);
  num(h, 108, 8, spec.uid, 0);
  num(h, 116, 8, spec.gid, 0);
  num(h, 124, 12, spec.size, 0);
  num(h, 136, 12, spec.mtime, 1600000000);
  const tf = spec.typeflag ?? '0';
  h[156] = typeof tf === 'number' ? tf : tf.charCodeAt(0);
  if (spec.linkname !== undefined) put(h, 157, 100, spec.linkname);
  const magic = spec.magic ?? 'ustar';
  if (magic === 'ustar') put(h, 257, 8, Buffer.from('ustar\x0000', 'latin1'));
  else if (magic === 'ustar-noversion') put(h, 257, 8, Buffer.from('ustar\0\0\0', 'latin1'));
  else if (magic === 'gnu') put(h, 257, 8, Buffer.from('ustar  \0', 'latin1'));
  if (magic !== 'v7') {
    put(h, 265, 32, spec.uname ?? 'root');
    put(h, 297, 32, spec.gname ?? 'root');
    num(h, 329, 8, spec.devmajor, 0);
    num(h, 337, 8, spec.devminor, 0);
  }
  if (spec.prefix !== undefined) put(h, 345, 155, spec.prefix);
  for (const [off, bytes] of spec.raw ?? []) b(bytes).copy(h, off);
  return setChecksum(h, spec.checksum ?? 'unsigned');
}

export function padTo512(data: Buffer): Buffer {
  const r = data.length % 512;
  return r === 0 ? data : Buffer.concat([data, Buffer.alloc(512 - r)]);
}

/** A header followed by `body` padded to 512; the size field defaults to the body length. */
export function member(spec: HeaderSpec, body: Bytes = Buffer.alloc(0)): Buffer {
  const data = b(body);
  return Buffer.concat([header({ size: data.length, ...spec }), padTo512(data)]);
}

export function file(name: Bytes, body: Bytes, spec: HeaderSpec = {}): Buffer {
  return member({ name, typeflag: '0', ...spec }, body);
}

/** pax records `"<len> key=value\n"` with the self-referential length computed. */
export function paxBody(records: Array<[string, Bytes]>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of records) {
    const tail = Buffer.concat([Buffer.from(` ${k}=`, 'utf8'), b(v), Buffer.from('\n')]);
    let len = tail.length + 1;
    while (String(len).length + tail.length !== len) len = String(len).length + tail.length;
    parts.push(Buffer.from(String(len), 'latin1'), tail);
  }
  return Buffer.concat(parts);
}

/** A pax `x` (or `g`, or Solaris `X`) member carrying `records`. */
export function pax(records: Array<[string, Bytes]>, typeflag: 'x' | 'g' | 'X' = 'x', spec: HeaderSpec = {}): Buffer {
  return member({ name: 'PaxHeader/x', typeflag, ...spec }, paxBody(records));
}

/** A GNU `L` or `K` member carrying `name` (NUL-terminated, as GNU tar writes it). */
export function gnuLong(kind: 'L' | 'K', name: Bytes): Buffer {
  return member({ name: '././@LongLink', typeflag: kind, magic: 'gnu' }, Buffer.concat([b(name), Buffer.alloc(1)]));
}

/** A Solaris `A` record: 7 octal digits (type + count), NUL, ACL text, NUL. */
export function solarisAcl(name: Bytes, type: number, text: string, spec: HeaderSpec = {}): Buffer {
  const body = Buffer.concat([Buffer.from(type.toString(8).padStart(7, '0') + '\0' + text + '\0', 'latin1')]);
  return member({ name, typeflag: 'A', ...spec }, body);
}

/** The two zero blocks that end an archive. */
export function eoa(blocks = 2): Buffer {
  return Buffer.alloc(512 * blocks);
}

export function tar(...parts: Buffer[]): Buffer {
  return Buffer.concat(parts);
}

/** Text map of a GNU sparse 1.0 body: count, then offset/length lines, padded to 512. */
export function sparse10Map(runs: Array<[number, number]>): Buffer {
  const lines = [String(runs.length), ...runs.flatMap(([o, l]) => [String(o), String(l)])];
  return padTo512(Buffer.from(lines.join('\n') + '\n', 'latin1'));
}

/** Builds the stored data of a sparse file (only the runs) from its full content. */
export function sparseData(content: Buffer, runs: Array<[number, number]>): Buffer {
  return Buffer.concat(runs.map(([o, l]) => content.subarray(o, o + l)));
}

/** Fills a GNU sparse header/extension area with (offset, numbytes) pairs, 12-byte octal each. */
export function gnuSparsePairs(runs: Array<[number, number]>): Buffer {
  return Buffer.concat(runs.map(([o, l]) => Buffer.concat([octal(o, 12), octal(l, 12)])));
}

/**
 * An old GNU `S` member: up to 4 pairs in the header, the rest in extension blocks of 21.
 */
export function oldGnuSparse(name: Bytes, content: Buffer, runs: Array<[number, number]>): Buffer {
  const data = sparseData(content, runs);
  const inHeader = runs.slice(0, 4);
  const rest = runs.slice(4);
  const raw: Array<[number, Bytes]> = [
    [386, gnuSparsePairs(inHeader)],
    [482, Buffer.from([rest.length > 0 ? 1 : 0])],
    [483, octal(content.length, 12)],
  ];
  const h = header({ name, typeflag: 'S', magic: 'gnu', size: data.length, raw });
  const exts: Buffer[] = [];
  for (let i = 0; i < rest.length; i += 21) {
    const blk = Buffer.alloc(512);
    gnuSparsePairs(rest.slice(i, i + 21)).copy(blk, 0);
    blk[504] = i + 21 < rest.length ? 1 : 0;
    exts.push(blk);
  }
  return Buffer.concat([h, ...exts, padTo512(data)]);
}
