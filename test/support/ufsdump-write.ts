/**
 * A small ufsdump WRITER for tests (test tooling, not product): turns a tree description into a
 * dump stream following ufsdump's pass structure (formats.md §7; illumos
 * usr/src/cmd/backup/dump/dumptraverse.c and dumptape.c read for the structure, no code copied):
 *
 *   TS_TAPE (volume header) → TS_CLRI + bitmap units → TS_BITS + bitmap units →
 *   Pass III: every directory and attribute directory, in inode order (TS_INODE + its map, a
 *   TS_ADDR per further 512 units) → Pass IV: every other inode in inode order, each followed
 *   by its ACL shadow inode when the ACL does not fit the header → TS_END, repeated to fill the
 *   last tape record.
 *
 * Dialects: `solaris` (default: Solaris icommon inode — ic_suid/ic_sgid with the 0xFFFF "long
 * id" marker, uid 116, gid 120, ic_shadow 112, ic_oeftflag 124, microsecond times — old-format
 * directory entries, device in ic_db[0] (big-endian) or ic_db[1] (little-endian), c_ntrec left 0)
 * and `linux` (4.4BSD inode: uid 112, gid 116; new-format entries with d_type; c_ntrec 10; flags
 * 0x3 / 0x2 as Linux dump writes them; optional DR_COMPRESSED records). Both byte orders.
 *
 * Options cover the traps the reader must handle: holes (per unit), files over 512 units
 * (TS_ADDR continuation), hard links, symlinks, fifos, sockets, devices, non-UTF-8 names, large
 * uids, setuid modes, explicit inode numbers (directories out of parent-first order), ACLs
 * (DR_HASMETA or an IFSHAD shadow record written the way ufsdump does: TS_ADDR after a file
 * with data, TS_INODE otherwise), Solaris attribute directories with attribute files, Linux
 * EXT_XATTR records, unnamed (orphan) inodes, bitmaps over 512 units, MTB_MAGIC unit sizes and
 * a second volume in three shapes.
 */
import { deflateSync } from 'node:zlib';

export type DumpNodeType = 'dir' | 'file' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket' | 'link';

export interface DumpNode {
  /** '.' is the root; others relative, '/'-separated; parents listed before children. */
  path: string | Buffer;
  type: DumpNodeType;
  ino?: number;
  /** Permission bits (default 0o755 dirs, 0o644 files, 0o777 symlinks, 0o600 others). */
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  /** Sub-second part in the dialect's unit (Solaris µs, Linux ns). */
  mtimeFrac?: number;
  /** File content; symlink target for 'symlink'. */
  data?: Buffer | string;
  /** Unit indices written as holes (their bytes in `data` must be zero). */
  holes?: number[];
  /** 'link': the path of an earlier name of the same inode. */
  target?: string | Buffer;
  major?: number;
  minor?: number;
  /** Solaris ufs_fsd bytes: <= 196 bytes ride in the header (DR_HASMETA), else a shadow inode. */
  acl?: Buffer;
  /** Solaris extended attributes: an IFATTRDIR inode naming one attribute file each. */
  xattrs?: Array<{ name: string; data: Buffer | string }>;
  /** Linux: a DR_EXTATTRIBUTES (EXT_XATTR) record after the inode. */
  linuxXattr?: boolean;
}

export type VolumeBreak =
  /** TS_TAPE of volume 2 before the header of this path's inode. */
  | { before: string }
  /** TS_TAPE of volume 2 between two data units of this file (4.4BSD: data continues). */
  | { insideData: { path: string; unit: number } }
  /** The first TS_ADDR continuation of this file is written as volume 2's TS_TAPE (Solaris). */
  | { continuation: string }
  /** This path's TS_INODE header is written as volume 2's TS_TAPE (Solaris `newtape`). */
  | { replacing: string };

export interface DumpWriteOptions {
  order: 'be' | 'le';
  dialect?: 'solaris' | 'linux';
  /** c_date of the dump (default 1600000000). */
  date?: number;
  /** Unit size; above 1024 the dump is MTB_MAGIC with c_tpbsize (Solaris only). */
  unitSize?: number;
  /** Units per tape record: TS_END is repeated to fill the last one (default 10). */
  ntrec?: number;
  volumeBreak?: VolumeBreak;
  /** Inodes dumped in Pass IV that no directory names. */
  orphans?: Array<{ ino: number; data: Buffer | string }>;
  /** Linux: DR_COMPRESSED records; 'bzip2' only sets that method bit (for refusal tests). */
  compress?: 'zlib' | 'bzip2';
  /** Make the bitmaps at least this many units long (more than 512 → TS_ADDR continuation). */
  mapUnits?: number;
}

const TP_NINDIR = 512;
const CHECKSUM = 84446;
const DIRBLK = 512;

const TS_TAPE = 1;
const TS_INODE = 2;
const TS_BITS = 3;
const TS_ADDR = 4;
const TS_END = 5;
const TS_CLRI = 6;

const IFMT: Record<DumpNodeType, number> = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  fifo: 0o010000,
  char: 0o020000,
  block: 0o060000,
  socket: 0o140000,
  link: 0,
};
const IFSHAD = 0o130000;
const IFATTRDIR = 0o160000;
const DT: Record<number, number> = { 0o040000: 4, 0o100000: 8, 0o120000: 10, 0o010000: 1, 0o020000: 2, 0o060000: 6, 0o140000: 12 };

interface Inode {
  ino: number;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  mtime: number;
  mtimeFrac: number;
  data: Buffer;
  holes: Set<number>;
  major: number;
  minor: number;
  acl: Buffer | null;
  shadowIno: number;
  attrDirIno: number;
  linuxXattr: boolean;
  /** Directory: its entries in order ('.' and '..' first). */
  entries: Array<[number, Buffer]>;
  path: Buffer;
}

const buf = (x: string | Buffer | undefined): Buffer => (x === undefined ? Buffer.alloc(0) : Buffer.isBuffer(x) ? x : Buffer.from(x, 'latin1'));

export function writeUfsdump(nodes: DumpNode[], options: DumpWriteOptions): Buffer {
  const le = options.order === 'le';
  const linux = options.dialect === 'linux';
  const U = options.unitSize ?? 1024;
  if (U !== 1024 && linux) throw new Error('MTB unit sizes are Solaris only');
  const date = options.date ?? 1600000000;
  const ntrec = options.ntrec ?? 10;

  // ---- inodes -------------------------------------------------------------------------------
  const byPath = new Map<string, Inode>();
  const inodes = new Map<number, Inode>();
  const used = new Set<number>(nodes.filter((n) => n.ino !== undefined).map((n) => n.ino!));
  for (const o of options.orphans ?? []) used.add(o.ino);
  let next = 3;
  const alloc = (): number => {
    while (used.has(next)) next++;
    used.add(next);
    return next++;
  };
  const key = (p: Buffer) => p.toString('latin1');
  const mk = (ino: number, mode: number, path: Buffer, n: Partial<DumpNode> = {}): Inode => {
    const ind: Inode = {
      ino,
      mode,
      nlink: 1,
      uid: n.uid ?? 0,
      gid: n.gid ?? 0,
      mtime: n.mtime ?? 1600000000,
      mtimeFrac: n.mtimeFrac ?? 0,
      data: buf(n.data),
      holes: new Set(n.holes ?? []),
      major: n.major ?? 0,
      minor: n.minor ?? 0,
      acl: n.acl ?? null,
      shadowIno: 0,
      attrDirIno: 0,
      linuxXattr: n.linuxXattr ?? false,
      entries: [],
      path,
    };
    inodes.set(ino, ind);
    return ind;
  };
  for (const n of nodes) {
    const path = buf(n.path);
    const isRoot = key(path) === '.';
    const parentPath = isRoot ? null : path.lastIndexOf(0x2f) < 0 ? Buffer.from('.') : path.subarray(0, path.lastIndexOf(0x2f));
    const name = isRoot ? null : path.subarray(path.lastIndexOf(0x2f) + 1);
    let ind: Inode;
    if (n.type === 'link') {
      const t = byPath.get(key(buf(n.target)));
      if (t === undefined) throw new Error(`link target ${String(n.target)} not listed before`);
      t.nlink++;
      ind = t;
    } else {
      const perm = n.mode ?? (n.type === 'dir' ? 0o755 : n.type === 'file' ? 0o644 : n.type === 'symlink' ? 0o777 : 0o600);
      const ino = isRoot ? (n.ino ?? 2) : (n.ino ?? alloc());
      used.add(ino);
      ind = mk(ino, IFMT[n.type] | perm, path, n);
      if (n.type === 'dir') ind.nlink = 2;
    }
    byPath.set(key(path), ind);
    if (ind.mode >>> 12 === 4 && n.type !== 'link') {
      const parent = parentPath === null ? ind : byPath.get(key(parentPath))!;
      ind.entries.push([ind.ino, Buffer.from('.')], [parent.ino, Buffer.from('..')]);
    }
    if (parentPath !== null) {
      const parent = byPath.get(key(parentPath));
      if (parent === undefined || parent.mode >>> 12 !== 4) throw new Error(`parent of ${key(path)} not a listed directory`);
      parent.entries.push([ind.ino, Buffer.from(name!)]);
      if (n.type === 'dir') parent.nlink++;
    }
    if (n.acl && n.acl.length > 196 && n.type !== 'link') ind.shadowIno = alloc();
    if (n.xattrs && n.type !== 'link') {
      const ad = mk(alloc(), IFATTRDIR | 0o755, Buffer.from(`<xattr of ${key(path)}>`));
      ad.nlink = 2;
      ind.attrDirIno = ad.ino;
      ad.entries.push([ad.ino, Buffer.from('.')], [ind.ino, Buffer.from('..')]);
      for (const x of n.xattrs) {
        const f = mk(alloc(), IFMT.file | 0o644, Buffer.from(x.name), { data: x.data });
        ad.entries.push([f.ino, Buffer.from(x.name)]);
      }
    }
  }
  for (const o of options.orphans ?? []) mk(o.ino, IFMT.file | 0o600, Buffer.from(`<orphan ${o.ino}>`), { data: o.data });

  let maxIno = 0;
  for (const i of inodes.values()) maxIno = Math.max(maxIno, i.ino, i.shadowIno);
  maxIno += 1;
  const mapBytes = Math.ceil(maxIno / 8);
  const mapUnits = Math.max(Math.ceil(mapBytes / U), options.mapUnits ?? 0);

  // ---- units --------------------------------------------------------------------------------
  const units: Buffer[] = [];
  let volume = 1;
  const w32 = (b: Buffer, off: number, v: number) => (le ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off));
  const w16 = (b: Buffer, off: number, v: number) => (le ? b.writeUInt16LE(v & 0xffff, off) : b.writeUInt16BE(v & 0xffff, off));

  const dinode = (ind: Inode | null, sizeOverride?: number, modeOverride?: number): Buffer => {
    const d = Buffer.alloc(128);
    if (ind === null) return d;
    const mode = modeOverride ?? ind.mode;
    w16(d, 0, mode);
    w16(d, 2, ind.nlink);
    const size = sizeOverride ?? ind.data.length;
    const hi = Math.floor(size / 0x100000000);
    const lo = size >>> 0;
    w32(d, le ? 8 : 12, lo);
    w32(d, le ? 12 : 8, hi);
    for (const t of [16, 24, 32]) {
      w32(d, t, ind.mtime);
      w32(d, t + 4, ind.mtimeFrac);
    }
    const fmt = mode & 0o170000;
    if (fmt === IFMT.char || fmt === IFMT.block) {
      if (linux) {
        if (ind.major < 256 && ind.minor < 256) w32(d, 40, (ind.major << 8) | ind.minor);
        else w32(d, 44, (ind.minor & 0xff) | (ind.major << 8) | ((ind.minor & ~0xff) << 12));
      } else {
        w32(d, le ? 44 : 40, (ind.major << 18) | ind.minor);
      }
    }
    if (linux) {
      w32(d, 112, ind.uid);
      w32(d, 116, ind.gid);
    } else {
      w16(d, 4, ind.uid > 0xfffe ? 0xffff : ind.uid);
      w16(d, 6, ind.gid > 0xfffe ? 0xffff : ind.gid);
      w32(d, 112, ind.shadowIno);
      w32(d, 116, ind.uid);
      w32(d, 120, ind.gid);
      w32(d, 124, ind.attrDirIno);
    }
    return d;
  };

  interface Hdr {
    type: number;
    ino?: number;
    dinode?: Buffer;
    count?: number;
    addr?: Uint8Array;
    flags?: number;
    shadow?: Buffer;
    ext?: number;
    volume?: number;
  }
  const header = (h: Hdr): Buffer => {
    const b = Buffer.alloc(U);
    w32(b, 0, h.type);
    w32(b, 4, date);
    w32(b, 8, 0);
    w32(b, 12, h.volume ?? volume);
    w32(b, 16, units.length);
    w32(b, 20, h.ino ?? 0);
    w32(b, 24, U === 1024 ? 60012 : 60013);
    (h.dinode ?? Buffer.alloc(128)).copy(b, 32);
    w32(b, 160, h.count ?? 0);
    if (h.addr) Buffer.from(h.addr).copy(b, 164);
    b.write('none', 676, 'latin1');
    if (h.shadow) {
      h.shadow.copy(b, 692);
    } else {
      w32(b, 692, 0);
      b.write('/', 696, 'latin1');
      b.write(linux ? '/dev/loop0' : '/dev/rdsk/c0t0d0s0', 760, 'latin1');
      b.write(linux ? 'linuxbox' : 'sunbox', 824, 'latin1');
    }
    const defaultFlags = linux ? (h.type === TS_TAPE ? 0x3 : 0x2) : h.type === TS_TAPE ? 0x1 : 0;
    w32(b, 888, h.flags ?? defaultFlags);
    if (linux) {
      w32(b, 896, ntrec);
      w32(b, 900, h.ext ?? 0);
    } else if (U !== 1024) {
      w32(b, 896, U);
    }
    let s = 0;
    for (let o = 0; o < U; o += 4) s = (s + (le ? b.readUInt32LE(o) : b.readUInt32BE(o))) >>> 0;
    w32(b, 28, (CHECKSUM - s) >>> 0);
    return b;
  };
  const push = (b: Buffer) => units.push(b);
  const dataUnit = (src: Buffer, from: number): Buffer => {
    const u = Buffer.alloc(U);
    src.copy(u, 0, from, Math.min(src.length, from + U));
    return u;
  };
  const newVolume = (h: Partial<Hdr> = {}) => {
    volume++;
    push(header({ type: TS_TAPE, flags: linux ? 0x3 : 0x1, ...h }));
  };
  const vb = options.volumeBreak;

  /** Writes an inode's map (headers + data units). `first` is the type of the first header. */
  const writeMap = (ind: Inode, data: Buffer, holes: Set<number>, first: number, extra: Partial<Hdr> = {}, mode?: number) => {
    const n = Math.ceil(data.length / U);
    const din = dinode(ind, data.length, mode);
    let written = 0;
    let type = first;
    let presentCount = 0;
    const breakInside = vb && 'insideData' in vb && key(buf(vb.insideData.path)) === key(ind.path) && mode === undefined ? vb.insideData.unit : -1;
    do {
      const cnt = Math.min(TP_NINDIR, n - written);
      const addr = new Uint8Array(TP_NINDIR);
      for (let i = 0; i < cnt; i++) addr[i] = holes.has(written + i) ? 0 : 1;
      if (type === TS_ADDR && mode === undefined && vb && 'continuation' in vb && key(buf(vb.continuation)) === key(ind.path) && volume === 1) {
        newVolume({ ino: ind.ino, dinode: din, count: cnt, addr });
      } else if (type === TS_INODE && mode === undefined && vb && 'replacing' in vb && key(buf(vb.replacing)) === key(ind.path) && volume === 1) {
        newVolume({ ino: ind.ino, dinode: din, count: cnt, addr, ...extra });
      } else {
        push(header({ type, ino: ind.ino, dinode: din, count: cnt, addr, ...extra }));
      }
      for (let i = 0; i < cnt; i++) {
        if (addr[i] === 0) continue;
        if (presentCount === breakInside) newVolume({ ino: ind.ino, count: 0 });
        presentCount++;
        push(dataUnit(data, (written + i) * U));
      }
      written += cnt;
      type = TS_ADDR;
      extra = { ...extra, shadow: undefined, flags: undefined };
    } while (written < n);
  };

  const dirData = (ind: Inode): Buffer => {
    const blocks: Buffer[] = [];
    let blk = Buffer.alloc(DIRBLK);
    let pos = 0;
    let lastAt = -1;
    for (const [ino, name] of ind.entries) {
      const need = 8 + ((name.length + 1 + 3) & ~3);
      if (pos + need > DIRBLK) {
        w16(blk, lastAt + 4, DIRBLK - lastAt);
        blocks.push(blk);
        blk = Buffer.alloc(DIRBLK);
        pos = 0;
      }
      w32(blk, pos, ino);
      w16(blk, pos + 4, need);
      if (linux) {
        const child = inodes.get(ino);
        blk[pos + 6] = child ? (DT[child.mode & 0o170000] ?? 0) : 0;
        blk[pos + 7] = name.length;
      } else {
        w16(blk, pos + 6, name.length);
      }
      name.copy(blk, pos + 8);
      lastAt = pos;
      pos += need;
    }
    w16(blk, lastAt + 4, DIRBLK - lastAt);
    blocks.push(blk);
    return Buffer.concat(blocks);
  };

  // ---- the stream ---------------------------------------------------------------------------
  push(header({ type: TS_TAPE, count: linux ? 1 : 0, flags: linux ? 0x3 | (options.compress ? 0x80 : 0) : 0x1 }));
  const bitmap = Buffer.alloc(mapUnits * U);
  for (const ino of inodes.keys()) bitmap[(ino - 1) >> 3]! |= 1 << ((ino - 1) & 7);
  for (const t of [TS_CLRI, TS_BITS]) {
    let done = 0;
    let type = t;
    do {
      const cnt = linux ? mapUnits : Math.min(TP_NINDIR, mapUnits - done);
      push(header({ type, ino: linux && t === TS_CLRI ? maxIno : 0, count: cnt, addr: new Uint8Array(TP_NINDIR).fill(linux ? 0 : 1) }));
      for (let i = 0; i < cnt; i++) push(dataUnit(bitmap, (done + i) * U));
      done += cnt;
      type = TS_ADDR;
    } while (done < mapUnits);
  }

  const sorted = [...inodes.values()].sort((a, b) => a.ino - b.ino);
  const isDir = (i: Inode) => (i.mode & 0o170000) === IFMT.dir || (i.mode & 0o170000) === IFATTRDIR;
  const writeInode = (ind: Inode) => {
    if (vb && 'before' in vb && key(buf(vb.before)) === key(ind.path) && volume === 1) newVolume();
    const fmt = ind.mode & 0o170000;
    const smallAcl = !linux && ind.acl !== null && ind.acl.length <= 196;
    const extra: Partial<Hdr> = smallAcl ? { flags: 0x10, shadow: ind.acl! } : {};
    let data: Buffer = Buffer.alloc(0);
    if (isDir(ind)) data = dirData(ind);
    else if (fmt === IFMT.file || fmt === IFMT.symlink) data = ind.data;
    if (data.length === 0) {
      if (vb && 'replacing' in vb && key(buf(vb.replacing)) === key(ind.path) && volume === 1) newVolume({ ino: ind.ino, dinode: dinode(ind, 0), count: 0, ...extra });
      else push(header({ type: TS_INODE, ino: ind.ino, dinode: dinode(ind, 0), count: 0, ...extra }));
    } else {
      writeMap(ind, data, isDir(ind) ? new Set() : ind.holes, TS_INODE, extra);
    }
    if (ind.shadowIno !== 0) {
      // ufsdump writes the shadow right after the file, as TS_ADDR when the file had data.
      const acl = ind.acl!;
      writeMap({ ...ind, ino: ind.ino }, acl, new Set(), data.length > 0 ? TS_ADDR : TS_INODE, {}, IFSHAD);
    }
    if (linux && ind.linuxXattr) {
      const x = Buffer.alloc(1024);
      w32(x, 0, 0xea020000);
      x.write('user.test=hello', 32, 'latin1');
      push(header({ type: TS_INODE, ino: ind.ino, dinode: dinode(ind, 1024), count: 1, addr: new Uint8Array(TP_NINDIR).fill(1, 0, 1), flags: 0x8002, ext: 3 }));
      push(dataUnit(x, 0));
    }
  };
  for (const ind of sorted) if (isDir(ind)) writeInode(ind);
  for (const ind of sorted) if (!isDir(ind)) writeInode(ind);

  push(header({ type: TS_END, count: 1, ino: linux ? maxIno : 0 }));
  while (units.length % ntrec !== 0) push(header({ type: TS_END, count: 1, ino: linux ? maxIno : 0 }));
  const plain = Buffer.concat(units);
  if (!options.compress) return plain;

  // Linux DR_COMPRESSED: the first record plain, then a length word + compressed record each.
  const rec = ntrec * U;
  const out: Buffer[] = [plain.subarray(0, rec)];
  for (let off = rec; off < plain.length; off += rec) {
    const r = plain.subarray(off, off + rec);
    const z = options.compress === 'zlib' ? deflateSync(r, { level: 6 }) : Buffer.from('BZh9 not really');
    const method = options.compress === 'zlib' ? 0 : 1;
    const word = Buffer.alloc(4);
    w32(word, 0, (z.length << 4) | (method << 1) | 1);
    out.push(word, z);
  }
  return Buffer.concat(out);
}

/** A Solaris ufs_fsd ACL blob of `entries` aclent records (type FSD_ACL). */
export function solarisAclBlob(entries: Array<[tag: number, perm: number, id: number]>, order: 'be' | 'le'): Buffer {
  const b = Buffer.alloc(8 + 8 * entries.length);
  const w32 = (off: number, v: number) => (order === 'le' ? b.writeUInt32LE(v, off) : b.writeUInt32BE(v, off));
  const w16 = (off: number, v: number) => (order === 'le' ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off));
  w32(0, 1);
  w32(4, b.length);
  entries.forEach(([tag, perm, id], i) => {
    w16(8 + 8 * i, tag);
    w16(10 + 8 * i, perm);
    w32(12 + 8 * i, id);
  });
  return b;
}

/** Recomputes the checksum of the header unit at `off` (after a test patched it). */
export function fixChecksum(dump: Buffer, off: number, order: 'be' | 'le', unit = 1024): void {
  const rd = (o: number) => (order === 'le' ? dump.readUInt32LE(o) : dump.readUInt32BE(o));
  const wr = (o: number, v: number) => (order === 'le' ? dump.writeUInt32LE(v >>> 0, o) : dump.writeUInt32BE(v >>> 0, o));
  wr(off + 28, 0);
  let s = 0;
  for (let o = off; o < off + unit; o += 4) s = (s + rd(o)) >>> 0;
  wr(off + 28, (CHECKSUM - s) >>> 0);
}

/** Offsets of every header unit (magic and checksum valid) of a plain dump, with its type and inode. */
export function headerUnits(dump: Buffer, order: 'be' | 'le', unit = 1024): Array<{ off: number; type: number; ino: number; mode: number }> {
  const rd = (o: number) => (order === 'le' ? dump.readUInt32LE(o) : dump.readUInt32BE(o));
  const out: Array<{ off: number; type: number; ino: number; mode: number }> = [];
  for (let off = 0; off + unit <= dump.length; off += unit) {
    const magic = rd(off + 24);
    if (magic !== 60012 && magic !== 60013) continue;
    let s = 0;
    for (let o = off; o < off + unit; o += 4) s = (s + rd(o)) >>> 0;
    if (s !== CHECKSUM) continue;
    const mode = order === 'le' ? dump.readUInt16LE(off + 32) : dump.readUInt16BE(off + 32);
    out.push({ off, type: rd(off), ino: rd(off + 20), mode });
  }
  return out;
}
