/** Text and JSON renderings of an Entry for `list`. */

import type { Entry, EntryType } from '../entry/entry.js';
import { escapePath } from '../entry/escape-path.js';

const TYPE_CHAR: Record<EntryType, string> = {
  file: '-',
  directory: 'd',
  symlink: 'l',
  hardlink: 'h',
  fifo: 'p',
  'char-device': 'c',
  'block-device': 'b',
  socket: 's',
};

/** `rwxr-sr-t`-style permission string (ls(1) conventions for setuid/setgid/sticky). */
export function permissionString(mode: number): string {
  const r = (bit: number, ch: string) => (mode & bit ? ch : '-');
  const x = (exec: number, special: number, on: string, off: string) =>
    mode & special ? (mode & exec ? on : off) : mode & exec ? 'x' : '-';
  return (
    r(0o400, 'r') + r(0o200, 'w') + x(0o100, 0o4000, 's', 'S') +
    r(0o040, 'r') + r(0o020, 'w') + x(0o010, 0o2000, 's', 'S') +
    r(0o004, 'r') + r(0o002, 'w') + x(0o001, 0o1000, 't', 'T')
  );
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `YYYY-MM-DD HH:MM` in UTC (deterministic whatever the machine's zone). */
export function formatTime(seconds: number): string {
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return String(seconds);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

/** One line like `tar -tv`: `-rw-r--r-- 1000/1000      14 2020-09-13 12:26 tree/dir/file.txt`. */
export function verboseLine(e: Entry): string {
  const owner = `${e.uname || e.uid}/${e.gname || e.gid}`;
  const size = e.type === 'char-device' || e.type === 'block-device' ? `${e.devMajor},${e.devMinor}` : String(e.size);
  let line = `${TYPE_CHAR[e.type]}${permissionString(e.mode)} ${owner} ${size.padStart(8)} ${formatTime(e.mtime)} ${escapePath(e.path)}`;
  if (e.type === 'symlink' && e.linkTarget) line += ` -> ${escapePath(e.linkTarget)}`;
  if (e.type === 'hardlink' && e.linkTarget) line += ` link to ${escapePath(e.linkTarget)}`;
  return line;
}

export interface JsonEntry {
  path: string;
  type: EntryType;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkTarget: string | null;
  uname?: string;
  gname?: string;
  devMajor?: number;
  devMinor?: number;
  acl?: string;
}

export function jsonEntry(e: Entry): JsonEntry {
  const o: JsonEntry = {
    path: escapePath(e.path),
    type: e.type,
    mode: e.mode,
    uid: e.uid,
    gid: e.gid,
    size: e.size,
    mtime: e.mtimeNsec ? e.mtime + e.mtimeNsec / 1e9 : e.mtime,
    linkTarget: e.linkTarget ? escapePath(e.linkTarget) : null,
  };
  if (e.uname) o.uname = e.uname;
  if (e.gname) o.gname = e.gname;
  if (e.type === 'char-device' || e.type === 'block-device') {
    o.devMajor = e.devMajor;
    o.devMinor = e.devMinor;
  }
  if (typeof e.extra.acl === 'string') o.acl = e.extra.acl;
  return o;
}
