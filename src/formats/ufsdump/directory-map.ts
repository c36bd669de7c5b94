/**
 * The directory map of a dump: every directory inode of Pass III with its attributes and its
 * parsed entries (name bytes, child inode), kept until the tree can be resolved.
 *
 * Memory (stated in docs/formats/ufsdump.md): entries live in flat typed arrays — per entry the
 * name bytes plus 13 bytes (child inode u32, name offset u32, directory index u32, name length
 * u8), and after resolution 4 more for the sorted leaf index; the arrays grow by doubling (up to
 * 2x slack; measured 44 bytes per entry with 18-byte names). Per directory one small record
 * (~160 bytes with its map slot and, after resolution, its path). Raw directory blocks are never
 * kept. `bytes` is the logical size the reader compares with its limit (LIMIT_MEMORY).
 *
 * Resolution (`resolve`): breadth-first from the root (inode 2). A directory reached twice — a
 * loop or a hard-linked directory, both impossible in UFS — is FORMAT_CORRUPT. Every other name
 * goes into the leaf index, sorted by child inode (ties keep breadth-first order, which makes
 * the first name of a hard-link group its shallowest one), so the names of a Pass IV inode are
 * found by binary search. Entries of Solaris attribute directories (IFATTRDIR) are not part of
 * the tree; their children are remembered as attribute inodes.
 */

import { formatError } from '../../errors.js';

/** One directory inode as its header described it (ids of both dialects, picked on emit). */
export interface DirRecord {
  ino: number;
  /** Full mode (type bits included). */
  mode: number;
  nlink: number;
  suid: number;
  sgid: number;
  uid116: number;
  gid120: number;
  uid112: number;
  gid116: number;
  mtime: number;
  mtimeFrac: number;
  /** Offset of its TS_INODE header. */
  offset: number;
  attrDir: boolean;
  /** Its entries: [entryStart, entryEnd) in the map's arrays. */
  entryStart: number;
  entryEnd: number;
  /** Set by resolve(): its path ('.' for the root), or null when not reachable. */
  path: Buffer | null;
}

/** Logical bytes charged per directory record and per entry (besides its name). */
export const DIR_RECORD_BYTES = 160;
export const ENTRY_BYTES = 13;

const DOT = Buffer.from('.');
const SLASH = 0x2f;

export class DirectoryMap {
  readonly dirs: DirRecord[] = [];
  readonly #byIno = new Map<number, number>();
  #child = new Uint32Array(1024);
  #nameOff = new Uint32Array(1024);
  #dirIdx = new Uint32Array(1024);
  #nameLen = new Uint8Array(1024);
  #names = Buffer.allocUnsafe(16 * 1024);
  #namesUsed = 0;
  #count = 0;
  /** Logical memory held, compared by the reader with its limit. */
  bytes = 0;

  // ---- after resolve() ----------------------------------------------------------------------
  /** Leaf entry indices in breadth-first order, then sorted by (child inode, that order). */
  #leaves = new Uint32Array(0);
  #attrInos = new Uint32Array(0);
  /** Directories reachable from the root, parents first. */
  readonly order: DirRecord[] = [];

  get entryCount(): number {
    return this.#count;
  }

  dirByIno(ino: number): DirRecord | undefined {
    const i = this.#byIno.get(ino);
    return i === undefined ? undefined : this.dirs[i];
  }

  /** Starts a directory record; its entries follow through addEntry. Null if already present. */
  addDir(rec: Omit<DirRecord, 'entryStart' | 'entryEnd' | 'path'>): DirRecord | null {
    if (this.#byIno.has(rec.ino)) return null;
    const d: DirRecord = { ...rec, entryStart: this.#count, entryEnd: this.#count, path: null };
    this.#byIno.set(rec.ino, this.dirs.length);
    this.dirs.push(d);
    this.bytes += DIR_RECORD_BYTES;
    return d;
  }

  /** Appends an entry of `dir` (the directory being read, always the last one added). */
  addEntry(dir: DirRecord, childIno: number, name: Uint8Array, from: number, len: number): void {
    const i = this.#count;
    if (i === this.#child.length) this.#grow();
    if (this.#namesUsed + len > this.#names.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.#names.length * 2, this.#namesUsed + len));
      this.#names.copy(bigger, 0, 0, this.#namesUsed);
      this.#names = bigger;
    }
    for (let k = 0; k < len; k++) this.#names[this.#namesUsed + k] = name[from + k]!;
    this.#child[i] = childIno;
    this.#nameOff[i] = this.#namesUsed;
    this.#nameLen[i] = len;
    this.#dirIdx[i] = this.dirs.length - 1;
    this.#namesUsed += len;
    this.#count = i + 1;
    dir.entryEnd = this.#count;
    this.bytes += ENTRY_BYTES + len;
  }

  #grow(): void {
    const n = this.#child.length * 2;
    const grow32 = (a: Uint32Array) => {
      const b = new Uint32Array(n);
      b.set(a);
      return b;
    };
    this.#child = grow32(this.#child);
    this.#nameOff = grow32(this.#nameOff);
    this.#dirIdx = grow32(this.#dirIdx);
    const l = new Uint8Array(n);
    l.set(this.#nameLen);
    this.#nameLen = l;
  }

  #isDotOrDotDot(e: number): boolean {
    const len = this.#nameLen[e]!;
    const off = this.#nameOff[e]!;
    if (len === 1) return this.#names[off] === 0x2e;
    return len === 2 && this.#names[off] === 0x2e && this.#names[off + 1] === 0x2e;
  }

  #name(e: number): Buffer {
    const off = this.#nameOff[e]!;
    return this.#names.subarray(off, off + this.#nameLen[e]!);
  }

  /**
   * Resolves every path from the root. Throws FORMAT_CORRUPT (layer `ufsdump`) for a missing
   * root or a directory with two names; charges the directory paths to `bytes`.
   */
  resolve(): void {
    const root = this.dirByIno(2);
    if (root === undefined || root.attrDir) {
      if (this.dirs.length === 0) return;
      throw formatError('FORMAT_CORRUPT', 'ufsdump', 'the dump has no root directory (inode 2)', this.dirs[0]!.offset, 'the dump is corrupt');
    }
    root.path = DOT;
    const leaves = new Uint32Array(this.#count);
    let nLeaves = 0;
    const queue: DirRecord[] = [root];
    for (let q = 0; q < queue.length; q++) {
      const d = queue[q]!;
      this.order.push(d);
      for (let e = d.entryStart; e < d.entryEnd; e++) {
        if (this.#isDotOrDotDot(e)) continue;
        const child = this.#child[e]!;
        const ci = this.#byIno.get(child);
        if (ci === undefined) {
          leaves[nLeaves++] = e;
          continue;
        }
        const c = this.dirs[ci]!;
        if (c.attrDir) continue; // only an inode's ic_oeftflag leads there
        if (c.path !== null) {
          throw formatError(
            'FORMAT_CORRUPT',
            'ufsdump',
            `directory inode ${child} has more than one name (a directory loop)`,
            d.offset,
            'the dump is corrupt',
          );
        }
        const name = this.#name(e);
        c.path = d === root ? Buffer.from(name) : Buffer.concat([d.path!, Buffer.of(SLASH), name]);
        this.bytes += c.path.length;
        queue.push(c);
      }
    }
    // Sort the leaves by child inode; ties keep breadth-first order (stable by position).
    const pos = new Uint32Array(nLeaves);
    for (let i = 0; i < nLeaves; i++) pos[i] = i;
    const child = this.#child;
    pos.sort((a, b) => child[leaves[a]!]! - child[leaves[b]!]! || a - b);
    this.#leaves = new Uint32Array(nLeaves);
    for (let i = 0; i < nLeaves; i++) this.#leaves[i] = leaves[pos[i]!]!;
    this.bytes += 4 * nLeaves;

    const attr: number[] = [];
    for (const d of this.dirs) {
      if (!d.attrDir) continue;
      for (let e = d.entryStart; e < d.entryEnd; e++) if (!this.#isDotOrDotDot(e)) attr.push(this.#child[e]!);
    }
    this.#attrInos = Uint32Array.from(attr).sort();
  }

  /** The leaf run [start, end) naming inode `ino` (empty when it has no name in the tree). */
  namesOf(ino: number): [number, number] {
    const leaves = this.#leaves;
    const child = this.#child;
    let lo = 0;
    let hi = leaves.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (child[leaves[mid]!]! < ino) lo = mid + 1;
      else hi = mid;
    }
    let end = lo;
    while (end < leaves.length && child[leaves[end]!]! === ino) end++;
    return [lo, end];
  }

  /** Path of the leaf at position `i` of the sorted index. */
  leafPath(i: number): Buffer {
    const e = this.#leaves[i]!;
    const dir = this.dirs[this.#dirIdx[e]!]!;
    const off = this.#nameOff[e]!;
    const len = this.#nameLen[e]!;
    if (dir.ino === 2) return Buffer.from(this.#names.subarray(off, off + len));
    const dp = dir.path!;
    const out = Buffer.allocUnsafe(dp.length + 1 + len);
    dp.copy(out, 0);
    out[dp.length] = SLASH;
    this.#names.copy(out, dp.length + 1, off, off + len);
    return out;
  }

  /** True when `ino` is named by a Solaris attribute directory. */
  isAttribute(ino: number): boolean {
    const a = this.#attrInos;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]! < ino) lo = mid + 1;
      else hi = mid;
    }
    return lo < a.length && a[lo] === ino;
  }
}
