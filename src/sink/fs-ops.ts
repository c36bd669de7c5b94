/**
 * The few file-system calls the sink makes, with Buffer paths (non-UTF-8 names are written
 * byte-exact) and plain file descriptors: the callback API without FileHandle objects, because
 * a small file costs four to six of these and FileHandle adds an object, a finalizer and a
 * promise per call (hot path).
 */

import * as fs from 'node:fs';
import { readFile } from 'node:fs/promises';

export const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_TRUNC, O_NONBLOCK } = fs.constants;

/** Flags of every file creation: never follow, never reuse (CVE-2018-20834). */
export const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW;
/** Rewriting a file this run created (hard-link group data): never follow, never block on a FIFO. */
export const REWRITE_FLAGS = O_WRONLY | O_TRUNC | O_NOFOLLOW | O_NONBLOCK;

export function openFd(path: Buffer, flags: number, mode: number): Promise<number> {
  return new Promise((resolve, reject) => fs.open(path, flags, mode, (e, fd) => (e ? reject(e) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));
}

/** Writes all of `buf` at the current position (loops on short writes). */
export async function writeAll(fd: number, buf: Buffer): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const n = await new Promise<number>((resolve, reject) =>
      fs.write(fd, buf, off, buf.length - off, null, (e, written) => (e ? reject(e) : resolve(written))),
    );
    off += n;
  }
}

/** Writes all of `bufs` with writev (one syscall for many stream chunks; loops on short writes). */
export async function writevAll(fd: number, bufs: Buffer[]): Promise<void> {
  let rest = bufs;
  while (rest.length > 0) {
    const n = await new Promise<number>((resolve, reject) => fs.writev(fd, rest, null, (e, written) => (e ? reject(e) : resolve(written))));
    let left = n;
    let k = 0;
    while (k < rest.length && left >= rest[k]!.length) left -= rest[k++]!.length;
    rest = rest.slice(k);
    if (left > 0) rest[0] = rest[0]!.subarray(left);
  }
}

export function fchownFd(fd: number, uid: number, gid: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fchown(fd, uid, gid, (e) => (e ? reject(e) : resolve())));
}

export function fchmodFd(fd: number, mode: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fchmod(fd, mode, (e) => (e ? reject(e) : resolve())));
}

/**
 * A time for Node's utimes family. Node turns a negative number into "now"; a numeric string
 * passes unchanged, so times before 1970 (which cpio and tar can carry) are kept.
 */
export function fsTime(seconds: number): number | string {
  return seconds < 0 ? String(seconds) : seconds;
}

export function futimesFd(fd: number, time: number): Promise<void> {
  const t = fsTime(time);
  return new Promise((resolve, reject) => fs.futimes(fd, t, t, (e) => (e ? reject(e) : resolve())));
}

export { lchown, chmod, lutimes, link, unlink, symlink, mkdir, lstat, readdir, rmdir, realpath, stat } from 'node:fs/promises';

/** The process umask without changing it: /proc/self/status on Linux, else process.umask(). */
export async function currentUmask(): Promise<number | undefined> {
  try {
    const text = await readFile('/proc/self/status', 'latin1');
    const m = /^Umask:\s*([0-7]+)$/m.exec(text);
    if (m) return parseInt(m[1]!, 8);
  } catch {
    /* not Linux */
  }
  try {
    // Documentation-only deprecated (it sets and restores the mask); the fallback off Linux.
    return process.umask();
  } catch {
    return undefined;
  }
}

/** `ENOSPC: no space left on device` from a Node errno error (the syscall and path cut off). */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code === 'string') {
    let text = typeof err.message === 'string' ? err.message : '';
    if (text.startsWith(`${err.code}: `)) text = text.slice(err.code.length + 2);
    if (err.syscall) {
      const cut = text.indexOf(`, ${err.syscall}`);
      if (cut >= 0) text = text.slice(0, cut);
    }
    return text ? `${err.code}: ${text}` : err.code;
  }
  return String((e as Error)?.message ?? e);
}
