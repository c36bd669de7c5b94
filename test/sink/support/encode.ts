/**
 * One abstract list of entries written in every archive format that can express it, so a
 * hostile pattern is tested in tar (ustar, GNU, pax), cpio (newc, crc, odc, binary in both byte
 * orders) and zip alike. Built with the test builders (test/support/tar-build.ts,
 * cpio-build.ts, zip-build.ts). A pattern a format cannot express throws NotExpressible and the
 * row is skipped for that format.
 *
 *   tar-ustar  long names split into prefix + name (refused if they cannot be)
 *   tar-gnu    GNU magic; long names and link targets in L / K records
 *   tar-pax    every name and link target in a pax `x` record; the ustar header carries a
 *              harmless placeholder name, so the pax value is the one that must be judged
 *   cpio-*     hard links as inode groups: newc/crc put the data on the last member (GNU cpio),
 *              odc/bin repeat it on every member
 *   zip        files, directories and symlinks (Unix attributes); no hard links, FIFOs, devices
 */
import { buildCpio, type BuildEntry, type BuildVariant } from '../../support/cpio-build.js';
import * as T from '../../support/tar-build.js';
import { buildZip, type ZipBuildEntry } from '../../support/zip-build.js';

export type Bytes = string | Buffer;
export type HType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'fifo' | 'char' | 'block' | 'socket';

export interface HEntry {
  path: Bytes;
  type?: HType;
  body?: Bytes;
  target?: Bytes;
  /** Permission bits incl. setuid/setgid/sticky (default 0644 files, 0755 dirs, 0777 symlinks). */
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  devMajor?: number;
  devMinor?: number;
}

export type FormatName = 'tar-ustar' | 'tar-gnu' | 'tar-pax' | 'cpio-newc' | 'cpio-crc' | 'cpio-odc' | 'cpio-bin-le' | 'cpio-bin-be' | 'zip';

export const TAR_FORMATS: FormatName[] = ['tar-ustar', 'tar-gnu', 'tar-pax'];
export const CPIO_FORMATS: FormatName[] = ['cpio-newc', 'cpio-crc', 'cpio-odc', 'cpio-bin-le', 'cpio-bin-be'];
export const ALL_FORMATS: FormatName[] = [...TAR_FORMATS, ...CPIO_FORMATS, 'zip'];

export class NotExpressible extends Error {}

const buf = (x: Bytes): Buffer => (typeof x === 'string' ? Buffer.from(x, 'latin1') : x);

function defaultMode(t: HType): number {
  return t === 'dir' ? 0o755 : t === 'symlink' ? 0o777 : 0o644;
}

export function encode(format: FormatName, entries: HEntry[]): Buffer {
  if (format.startsWith('tar-')) return toTar(entries, format.slice(4) as 'ustar' | 'gnu' | 'pax');
  if (format.startsWith('cpio-')) return toCpio(entries, format.slice(5) as BuildVariant);
  return toZip(entries);
}

// ------------------------------------------------------------------ tar

const TYPEFLAG: Record<HType, string | null> = { file: '0', hardlink: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', socket: null };

/** Splits a long ustar name at a '/' so that prefix <= 155 and name <= 100 bytes. */
function ustarSplit(name: Buffer): { prefix: Buffer; name: Buffer } {
  if (name.length <= 100) return { prefix: Buffer.alloc(0), name };
  for (let i = name.length - 1; i > 0; i--) {
    if (name[i] === 0x2f && i <= 155 && name.length - i - 1 <= 100 && name.length - i - 1 > 0) {
      return { prefix: name.subarray(0, i), name: name.subarray(i + 1) };
    }
  }
  throw new NotExpressible(`ustar cannot store a ${name.length}-byte name`);
}

export function toTar(entries: HEntry[], variant: 'ustar' | 'gnu' | 'pax'): Buffer {
  const parts: Buffer[] = [];
  entries.forEach((e, i) => {
    const type = e.type ?? 'file';
    const tf = TYPEFLAG[type];
    if (tf === null) throw new NotExpressible(`tar has no ${type}`);
    const name = buf(e.path);
    const target = e.target !== undefined ? buf(e.target) : undefined;
    const body = type === 'file' || (type === 'hardlink' && e.body !== undefined) ? buf(e.body ?? '') : Buffer.alloc(0);
    if (type === 'hardlink' && body.length > 0 && variant !== 'pax') throw new NotExpressible('only pax hard links carry data');
    const spec: T.HeaderSpec = {
      typeflag: tf,
      mode: e.mode ?? defaultMode(type),
      uid: e.uid ?? 0,
      gid: e.gid ?? 0,
      mtime: e.mtime ?? 1600000000,
      size: body.length,
      magic: variant === 'gnu' ? 'gnu' : 'ustar',
      devmajor: e.devMajor ?? 0,
      devminor: e.devMinor ?? 0,
    };
    if (variant === 'pax') {
      const recs: Array<[string, Bytes]> = [['path', name]];
      if (target !== undefined) recs.push(['linkpath', target]);
      parts.push(T.pax(recs));
      spec.name = `pax-placeholder-${i}`;
      if (target !== undefined) spec.linkname = `pax-placeholder-target-${i}`;
    } else if (variant === 'gnu') {
      if (name.length > 100) parts.push(T.gnuLong('L', name));
      spec.name = name.subarray(0, 100);
      if (target !== undefined) {
        if (target.length > 100) parts.push(T.gnuLong('K', target));
        spec.linkname = target.subarray(0, 100);
      }
    } else {
      const split = ustarSplit(name);
      spec.name = split.name;
      if (split.prefix.length > 0) spec.prefix = split.prefix;
      if (target !== undefined) {
        if (target.length > 100) throw new NotExpressible('ustar link target longer than 100 bytes');
        spec.linkname = target;
      }
    }
    parts.push(T.member(spec, body));
  });
  parts.push(T.eoa());
  return Buffer.concat(parts);
}

// ------------------------------------------------------------------ cpio

const S_IF: Record<HType, number> = {
  file: 0o100000,
  hardlink: 0o100000,
  dir: 0o040000,
  symlink: 0o120000,
  fifo: 0o010000,
  char: 0o020000,
  block: 0o060000,
  socket: 0o140000,
};

let inoSeq = 20000;

export function toCpio(entries: HEntry[], variant: BuildVariant): Buffer {
  const onePlace = variant === 'newc' || variant === 'crc';
  // Hard links become inode groups headed by the earliest regular file with the target's name.
  const groupOf = new Map<number, number>(); // entry index -> head index
  const members = new Map<number, number[]>(); // head index -> member indices (head first)
  entries.forEach((e, i) => {
    if ((e.type ?? 'file') !== 'hardlink') return;
    const t = buf(e.target ?? '');
    const head = entries.findIndex((x, k) => k < i && (x.type ?? 'file') === 'file' && buf(x.path).equals(t));
    if (head === -1) throw new NotExpressible('cpio hard links only name an earlier file of the archive');
    groupOf.set(i, head);
    groupOf.set(head, head);
    const list = members.get(head) ?? [head];
    list.push(i);
    members.set(head, list);
  });
  const inoOf = new Map<number, number>();
  for (const head of members.keys()) inoOf.set(head, (inoSeq = (inoSeq + 1) % 60000) + 1000);
  const out: BuildEntry[] = entries.map((e, i) => {
    const type = e.type ?? 'file';
    const perm = e.mode ?? defaultMode(type);
    const be: BuildEntry = { name: buf(e.path), mode: S_IF[type] | (perm & 0o7777), uid: e.uid ?? 0, gid: e.gid ?? 0, mtime: e.mtime ?? 1600000000 };
    if (type === 'symlink') be.data = buf(e.target ?? '');
    if (type === 'char' || type === 'block') {
      be.rdevMajor = e.devMajor ?? 0;
      be.rdevMinor = e.devMinor ?? 0;
    }
    const head = groupOf.get(i);
    if (head === undefined) {
      if (type === 'file') be.data = buf(e.body ?? '');
      if (type === 'hardlink') throw new NotExpressible('unreachable');
      return be;
    }
    const list = members.get(head)!;
    be.ino = inoOf.get(head)!;
    be.nlink = list.length;
    // The group's data: the last body given among its members.
    let data: Buffer = Buffer.alloc(0);
    for (const k of list) if (entries[k]!.body !== undefined) data = buf(entries[k]!.body!);
    const last = list[list.length - 1] === i;
    be.data = onePlace ? (last ? data : Buffer.alloc(0)) : data;
    return be;
  });
  return buildCpio(variant, out);
}

// ------------------------------------------------------------------ zip

export function toZip(entries: HEntry[]): Buffer {
  const out: ZipBuildEntry[] = entries.map((e) => {
    const type = e.type ?? 'file';
    if (buf(e.path).length > 0xffff) throw new NotExpressible('zip names are at most 65,535 bytes');
    if (type === 'symlink' && buf(e.path)[buf(e.path).length - 1] === 0x2f) throw new NotExpressible('a zip name ending in / is a directory');
    const perm = e.mode ?? defaultMode(type);
    if (type === 'file') return { name: buf(e.path), data: buf(e.body ?? ''), mode: 0o100000 | perm, uid: e.uid ?? 0, gid: e.gid ?? 0 };
    if (type === 'dir') {
      const p = buf(e.path);
      const name = p[p.length - 1] === 0x2f ? p : Buffer.concat([p, Buffer.from('/')]);
      return { name, mode: 0o040000 | perm, uid: e.uid ?? 0, gid: e.gid ?? 0 };
    }
    if (type === 'symlink') return { name: buf(e.path), data: buf(e.target ?? ''), mode: 0o120000 | perm };
    throw new NotExpressible(`zip has no ${type}`);
  });
  return buildZip(out).bytes;
}
