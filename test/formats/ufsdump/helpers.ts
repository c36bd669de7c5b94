/**
 * Shared helpers of the ufsdump reader tests: run the reader over a buffer under a chunking
 * (bodies read, optionally capped, or skipped), collect entries, warnings, stats and the error
 * it ended with; the sample tree written by test/support/ufsdump-write.ts and its expected
 * listing; and the restore-style tokens of the corpus MANIFEST (`d:./path#ino`, `e:./path#ino`).
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../../../src/entry/entry.js';
import type { ZoneP2vError } from '../../../src/errors.js';
import { newStats, type ReaderStats } from '../../../src/formats/format.js';
import { ufsdumpFormat, type UfsdumpReadOptions } from '../../../src/formats/ufsdump/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { asAsync, type Chunking } from '../../support/chunking.js';
import { solarisAclBlob, type DumpNode } from '../../support/ufsdump-write.js';

export interface ReadEntry extends Omit<Entry, 'body'> {
  data?: Buffer;
}

export interface ReadResult {
  entries: ReadEntry[];
  warnings: ZoneP2vError[];
  stats: ReaderStats;
  error?: unknown;
}

export interface ReadOptions {
  chunking?: Chunking;
  /** Read every body (default true). */
  bodies?: boolean;
  /** Keep at most this many body bytes per entry (the rest is read and dropped). */
  bodyCap?: number;
  /** Read only this many bytes of each body, then ask for the next entry (skip the rest). */
  partial?: number;
  maxMetaSize?: number;
  maxDirectoryMapBytes?: number;
}

/** Reads a whole dump; never throws (the error is returned). */
export async function readDump(buf: Buffer, opts: ReadOptions = {}): Promise<ReadResult> {
  const chunks = opts.chunking ? opts.chunking.split(buf) : [buf];
  const src = new ByteSource(asAsync(chunks));
  const stats = newStats('unknown');
  const warnings: ZoneP2vError[] = [];
  const entries: ReadEntry[] = [];
  const options: UfsdumpReadOptions = { onWarning: (w) => warnings.push(w) };
  if (opts.maxMetaSize !== undefined) options.maxMetaSize = opts.maxMetaSize;
  if (opts.maxDirectoryMapBytes !== undefined) options.maxDirectoryMapBytes = opts.maxDirectoryMapBytes;
  try {
    for await (const e of ufsdumpFormat.read(src, stats, options)) {
      const { body, ...rest } = e;
      const out: ReadEntry = rest;
      if (opts.bodies !== false) {
        const parts: Buffer[] = [];
        let n = 0;
        const cap = opts.bodyCap ?? Infinity;
        for await (const c of body) {
          if (n < cap) parts.push(Buffer.from(c.subarray(0, Math.min(c.length, cap - n))));
          n += c.length;
          if (opts.partial !== undefined && n >= opts.partial) break;
        }
        out.data = Buffer.concat(parts);
        if (opts.partial === undefined && n !== e.size) throw new Error(`body of ${e.path.toString('latin1')} gave ${n} bytes, size ${e.size}`);
      }
      entries.push(out);
    }
  } catch (error) {
    return { entries, warnings, stats, error };
  }
  return { entries, warnings, stats };
}

const l1 = (b: Buffer) => b.toString('latin1');

/** MANIFEST-style token of an entry (names as latin1). */
export function token(e: ReadEntry): string {
  const p = l1(e.path);
  switch (e.type) {
    case 'file':
      return `f:${p}:${e.size}`;
    case 'directory':
      return `d:${p}`;
    case 'symlink':
      return `l:${p}->${l1(e.linkTarget!)}`;
    case 'hardlink':
      return `h:${p}=>${l1(e.linkTarget!)}`;
    case 'fifo':
      return `p:${p}`;
    case 'char-device':
      return `c:${p}:${e.devMajor},${e.devMinor}`;
    case 'block-device':
      return `b:${p}:${e.devMajor},${e.devMinor}`;
    case 'socket':
      return `s:${p}`;
  }
}

/** A full line per entry: token plus the metadata the tree fixes and the body's SHA-256. */
export function detail(e: ReadEntry): string {
  const sha = e.data ? createHash('sha256').update(e.data).digest('hex').slice(0, 16) : '-';
  return `${token(e)} mode=${e.mode.toString(8)} uid=${e.uid} gid=${e.gid} mtime=${e.mtime}.${e.mtimeNsec ?? 0} nlink=${e.nlink} sha=${sha}`;
}

/** restore -t style token (`d:.#2`, `e:./dir/x#19`) for the corpus MANIFEST rows. */
export function restoreToken(e: ReadEntry): string {
  const p = l1(e.path);
  const path = p === '.' ? '.' : `./${p}`;
  return `${e.type === 'directory' ? 'd' : 'e'}:${path}#${e.ino}`;
}

// ------------------------------------------------------------------------------ sample tree ---

const T = 1600000000;
const zeros = (n: number) => Buffer.alloc(n);
function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 37 + seed * 11 + (i >> 10)) & 0xff;
  return b;
}

/** 128 KiB: 4 KiB data, hole, 4 KiB data (as the corpus tree's dir/sparse.dat). */
export const SPARSE = Buffer.concat([pattern(4096, 1), zeros(120 * 1024), pattern(4096, 2)]);
export const SPARSE_HOLES = Array.from({ length: 120 }, (_, i) => 4 + i);

/** 700 KiB + 300 bytes: more than 512 units (TS_ADDR continuation), with a hole across the seam. */
export const BIG = (() => {
  const b = pattern(700 * 1024 + 300, 3);
  b.fill(0, 500 * 1024, 530 * 1024);
  return b;
})();
export const BIG_HOLES = Array.from({ length: 30 }, (_, i) => 500 + i);

export function sampleTree(order: 'be' | 'le'): DumpNode[] {
  return [
    { path: '.', type: 'dir', mode: 0o755, uid: 0, gid: 3, mtime: T + 1, mtimeFrac: 250000 },
    // Directory inode numbers deliberately not parent-first: dir (40) holds sub (7).
    { path: 'dir', type: 'dir', ino: 40, mode: 0o755 },
    { path: 'dir/sub', type: 'dir', ino: 7, mode: 0o700, uid: 100, gid: 10 },
    { path: 'emptydir', type: 'dir', mode: 0o1777 },
    { path: 'dir/file.txt', type: 'file', data: 'hello, corpus\n', uid: 1000, gid: 1000, mtime: T, mtimeFrac: 123456 },
    { path: 'dir/binary.bin', type: 'file', data: pattern(3000, 9), mode: 0o640, uid: 65534, gid: 65534 },
    { path: 'dir/hardlink-a.txt', type: 'file', data: 'hard linked twice\n' },
    { path: 'hardlink-b.txt', type: 'link', target: 'dir/hardlink-a.txt' },
    { path: 'dir/sub/hardlink-c.txt', type: 'link', target: 'dir/hardlink-a.txt' },
    { path: 'symlink-to-file', type: 'symlink', data: 'dir/file.txt' },
    { path: 'dir/dangling-symlink', type: 'symlink', data: '../nowhere/missing' },
    { path: 'fifo', type: 'fifo', mode: 0o644 },
    { path: 'socket', type: 'socket', mode: 0o755 },
    { path: 'dev-null-copy', type: 'char', major: 13, minor: 2, mode: 0o666 },
    { path: 'dev-loop9', type: 'block', major: 7, minor: 9 },
    { path: 'dev-old', type: 'char', major: 0, minor: 77 },
    { path: 'setuid-prog', type: 'file', data: '#!/bin/sh\necho setuid\n', mode: 0o4755 },
    { path: 'dir/setgid-sticky', type: 'file', data: '#!/bin/sh\necho setgid\n', mode: 0o3775 },
    { path: Buffer.from('caf\xe9.txt', 'latin1'), type: 'file', data: 'latin-1 name\n' },
    { path: Buffer.from('na\xc3\xafve.txt', 'latin1'), type: 'file', data: 'utf-8 name\n' },
    { path: 'big-uid', type: 'file', data: 'owner above 65535\n', uid: 100000, gid: 70000 },
    { path: 'dir/sparse.dat', type: 'file', data: SPARSE, holes: SPARSE_HOLES },
    { path: 'big.bin', type: 'file', data: BIG, holes: BIG_HOLES },
    { path: 'empty', type: 'file', data: '' },
    {
      path: 'acl-small',
      type: 'file',
      data: 'small ACL in the header\n',
      acl: solarisAclBlob([[1, 6, 0], [2, 4, 1000], [4, 4, 0], [0x10, 4, 0], [0x20, 4, 0]], order),
    },
    {
      path: 'acl-big',
      type: 'file',
      data: 'ACL in a shadow inode\n',
      acl: solarisAclBlob(Array.from({ length: 40 }, (_, i) => [2, 4, 2000 + i] as [number, number, number]), order),
    },
    { path: 'acl-dev', type: 'block', major: 1, minor: 1, acl: solarisAclBlob(Array.from({ length: 30 }, (_, i) => [2, 4, i] as [number, number, number]), order) },
    { path: 'with-xattrs', type: 'file', data: 'has extended attributes\n', xattrs: [{ name: 'SUNWattr_ro', data: 'x'.repeat(100) }, { name: 'user.note', data: 'note' }] },
  ];
}

/** What the reader must list for sampleTree (sorted tokens). */
export const SAMPLE_TOKENS = [
  'd:.',
  'd:dir',
  'd:dir/sub',
  'd:emptydir',
  'f:dir/file.txt:14',
  'f:dir/binary.bin:3000',
  'f:hardlink-b.txt:18',
  'h:dir/hardlink-a.txt=>hardlink-b.txt',
  'h:dir/sub/hardlink-c.txt=>hardlink-b.txt',
  'l:symlink-to-file->dir/file.txt',
  'l:dir/dangling-symlink->../nowhere/missing',
  'p:fifo',
  's:socket',
  'c:dev-null-copy:13,2',
  'b:dev-loop9:7,9',
  'c:dev-old:0,77',
  'f:setuid-prog:22',
  'f:dir/setgid-sticky:22',
  'f:caf\xe9.txt:13',
  'f:na\xc3\xafve.txt:11',
  'f:big-uid:18',
  'f:dir/sparse.dat:131072',
  `f:big.bin:${BIG.length}`,
  'f:empty:0',
  'f:acl-small:24',
  'f:acl-big:22',
  'b:acl-dev:1,1',
  'f:with-xattrs:24',
].sort();

/** Bodies the sample tree's files must deliver, by path. */
export function sampleBodies(): Map<string, Buffer> {
  const m = new Map<string, Buffer>();
  for (const n of sampleTree('be')) {
    if (n.type !== 'file') continue;
    const p = Buffer.isBuffer(n.path) ? n.path.toString('latin1') : n.path;
    m.set(p, Buffer.isBuffer(n.data) ? n.data : Buffer.from(n.data ?? '', 'latin1'));
  }
  m.set('hardlink-b.txt', m.get('dir/hardlink-a.txt')!);
  m.delete('dir/hardlink-a.txt');
  return m;
}

/** The sample tree without what only Solaris can hold (ACLs, attribute directories). */
export function linuxTree(order: 'be' | 'le'): DumpNode[] {
  return sampleTree(order).map((n) => {
    const { acl, xattrs, ...rest } = n;
    void acl;
    void xattrs;
    return { ...rest, linuxXattr: n.path === 'dir' || n.path === 'dir/file.txt' };
  });
}
