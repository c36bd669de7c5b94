/**
 * The directory source (`-d DIR`): walks a tree on disk and yields the same Entry stream as the
 * archive readers, so nothing downstream can tell the difference.
 *
 * Walk: a directory's entries (sorted bytewise: deterministic output), then each of its
 * subdirectories in that order, depth first; a parent always comes before its children.
 * The root itself comes first as `.` (its mode, owner and times are the zone root's). Paths are
 * relative, without `./`, and raw bytes (readdir with buffer encoding): non-UTF-8 names survive.
 * Symlinks are never followed (lstat). Like the original's `find -xdev`, a directory on another
 * file system is listed but not entered. Unlike the original (reference §2.4), top-level
 * dot-files are included.
 *
 * Hard links: files with nlink > 1 are keyed by (dev, ino); the first name seen is a 'file',
 * later names are 'hardlink' entries pointing at it. Only multi-link files are remembered.
 *
 * Bodies are opened lazily: listing a tree reads no file data. A body yields exactly the size
 * lstat reported; a file that shrank while being read is an error, one that grew is cut to the
 * reported size with a warning.
 *
 * Syscalls per entry: one lstat (issued in parallel batches per directory, so the libuv pool
 * overlaps them), plus readdir per directory and open/read/close per file body read.
 */

import { constants, type BigIntStats } from 'node:fs';
import { lstat, open, opendir, readdir, readlink } from 'node:fs/promises';
import type { Entry, EntryType } from '../../entry/entry.js';
import { EMPTY_BODY } from '../../entry/body-cursor.js';
import { formatError, ZoneP2vError, type WarningHandler } from '../../errors.js';
import { newStats, type ReaderStats } from '../format.js';

const LAYER = 'directory';
const STAT_BATCH = 64;
const READ_CHUNK = 256 * 1024;

export interface DirectoryWalkOptions {
  onWarning?: WarningHandler;
  signal?: AbortSignal;
}

interface Pending {
  rel: Buffer;
  abs: Buffer;
}

function typeOf(st: BigIntStats): EntryType | null {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isSocket()) return 'socket';
  return null;
}

/** Linux dev_t encoding (glibc gnu_dev_major/minor). */
export function devMajorMinor(rdev: bigint): [number, number] {
  const major = Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn));
  const minor = Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn));
  return [major, minor];
}

const SLASH = Buffer.from('/');

function childPath(parent: Buffer, name: Buffer): Buffer {
  return parent.length === 0 ? name : Buffer.concat([parent, SLASH, name]);
}

/** Compares raw names bytewise (what `LC_ALL=C sort` does). */
function byBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

async function* fileBody(abs: Buffer, size: number, rel: Buffer, warn: WarningHandler): AsyncGenerator<Buffer> {
  if (size === 0) return;
  const fh = await open(abs, constants.O_RDONLY | constants.O_NOFOLLOW).catch((e: NodeJS.ErrnoException) => {
    throw formatError('IO_READ', LAYER, `cannot open ${rel.toString('latin1')} (${e.code ?? e.message})`, undefined, undefined, { path: rel, cause: e });
  });
  try {
    let pos = 0;
    while (pos < size) {
      const want = Math.min(READ_CHUNK, size - pos);
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, pos);
      if (bytesRead === 0) {
        throw formatError('FORMAT_TRUNCATED', LAYER, `${rel.toString('latin1')} shrank while being read (${pos} of ${size} bytes)`, pos, 'the source tree changed during the run', { path: rel });
      }
      pos += bytesRead;
      yield bytesRead === want ? buf : buf.subarray(0, bytesRead);
    }
    const probe = Buffer.allocUnsafe(1);
    const { bytesRead } = await fh.read(probe, 0, 1, size);
    if (bytesRead > 0) {
      warn(new ZoneP2vError('FORMAT_WARNING', `${LAYER}: ${rel.toString('latin1')} grew while being read; only its first ${size} bytes were taken`, { layer: LAYER, path: rel, severity: 'warning' }));
    }
  } finally {
    await fh.close();
  }
}

/**
 * Walks `root` and yields its entries. `stats` is filled as the walk goes (entries; variant
 * `directory`; metaRecords counts other-filesystem mount points not entered).
 */
export async function* walkDirectory(root: string, stats: ReaderStats, options: DirectoryWalkOptions = {}): AsyncGenerator<Entry> {
  const warn: WarningHandler = options.onWarning ?? (() => {});
  const rootAbs = Buffer.from(root);
  let rootStat: BigIntStats;
  try {
    rootStat = await lstat(rootAbs, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ZoneP2vError(code === 'ENOENT' ? 'IO_NOT_FOUND' : 'IO_READ', `${root}: cannot read (${code === 'ENOENT' ? 'no such directory' : (e as Error).message})`, { file: root, cause: e });
  }
  if (!rootStat.isDirectory()) {
    throw new ZoneP2vError('IO_READ', `${root}: not a directory`, { file: root });
  }
  const rootDev = rootStat.dev;
  const links = new Map<string, Buffer>();

  const toEntry = async (rel: Buffer, abs: Buffer, st: BigIntStats): Promise<Entry | null> => {
    let type = typeOf(st);
    if (type === null) {
      warn(new ZoneP2vError('FORMAT_WARNING', `${LAYER}: ${rel.toString('latin1')} has an unknown file type; skipped`, { layer: LAYER, path: rel, severity: 'warning' }));
      return null;
    }
    const mode = Number(st.mode & 0o7777n);
    const size = type === 'file' ? Number(st.size) : 0;
    let linkTarget: Buffer | null = null;
    let devMajor = 0;
    let devMinor = 0;
    if (type === 'symlink') linkTarget = (await readlink(abs, { encoding: 'buffer' })) as Buffer;
    if (type === 'char-device' || type === 'block-device') [devMajor, devMinor] = devMajorMinor(st.rdev);
    if (type === 'file' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first) {
        type = 'hardlink';
        linkTarget = first;
      } else {
        links.set(key, rel);
      }
    }
    const entry: Entry = {
      path: rel.length === 0 ? Buffer.from('.') : rel,
      type,
      mode,
      uid: Number(st.uid),
      gid: Number(st.gid),
      size: type === 'hardlink' ? 0 : size,
      mtime: Number(st.mtimeNs / 1_000_000_000n),
      mtimeNsec: Number(st.mtimeNs % 1_000_000_000n),
      linkTarget,
      devMajor,
      devMinor,
      nlink: Number(st.nlink),
      ino: Number(st.ino),
      offset: 0,
      extra: { variant: 'directory' },
      body: type === 'file' && size > 0 ? { [Symbol.asyncIterator]: () => fileBody(abs, size, rel, warn) } : EMPTY_BODY,
    };
    return entry;
  };

  const rootEntry = await toEntry(Buffer.alloc(0), rootAbs, rootStat);
  stats.entries++;
  yield rootEntry!;

  // Explicit stack of directories still to list; subdirectories are pushed in reverse order so
  // they are entered in sorted order.
  const stack: Pending[] = [{ rel: Buffer.alloc(0), abs: rootAbs }];
  while (stack.length > 0) {
    options.signal?.throwIfAborted();
    const dir = stack.pop()!;
    let names: Buffer[];
    try {
      names = (await readdir(dir.abs, { encoding: 'buffer' })) as Buffer[];
    } catch (e) {
      throw formatError('IO_READ', LAYER, `cannot list ${dir.rel.length ? dir.rel.toString('latin1') : '.'} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, undefined, undefined, { path: dir.rel, cause: e });
    }
    names.sort(byBytes);
    const subdirs: Pending[] = [];
    for (let i = 0; i < names.length; i += STAT_BATCH) {
      const batch = names.slice(i, i + STAT_BATCH);
      const stats2 = await Promise.all(
        batch.map((n) => {
          const abs = Buffer.concat([dir.abs, SLASH, n]);
          return lstat(abs, { bigint: true }).then(
            (st) => ({ n, abs, st }),
            (e: NodeJS.ErrnoException) => {
              if (e.code === 'ENOENT') return null; // removed since readdir
              throw formatError('IO_READ', LAYER, `cannot stat ${childPath(dir.rel, n).toString('latin1')} (${e.code ?? e.message})`, undefined, undefined, { cause: e });
            },
          );
        }),
      );
      for (const s of stats2) {
        if (s === null) continue;
        const rel = childPath(dir.rel, s.n);
        const entry = await toEntry(rel, s.abs, s.st);
        if (entry === null) continue;
        stats.entries++;
        yield entry;
        if (entry.type === 'directory') {
          if (s.st.dev === rootDev) subdirs.push({ rel, abs: s.abs });
          else stats.metaRecords['other-filesystem'] = (stats.metaRecords['other-filesystem'] ?? 0) + 1;
        }
      }
    }
    for (let k = subdirs.length - 1; k >= 0; k--) stack.push(subdirs[k]!);
  }
}

/** Whether `path` names a directory (for the CLI's -d checks). */
export async function isDirectory(path: string): Promise<boolean> {
  try {
    const d = await opendir(path);
    await d.close();
    return true;
  } catch {
    return false;
  }
}

export function directoryStats(): ReaderStats {
  return newStats('directory');
}
