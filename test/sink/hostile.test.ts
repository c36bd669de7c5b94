/**
 * The hostile-archive suite (dependencies-research §7): every pattern the formats can express,
 * built in code in tar (ustar, GNU, pax), cpio (newc, crc, odc, binary both byte orders) and
 * zip, extracted through the whole pipeline (detection, reader, sink). After every run the
 * victim tree beside the destination is byte-for-byte untouched (names, modes, owners, times,
 * inode numbers, link counts, contents), and the report lists exactly what was refused.
 */
import { lstat, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openArchive } from '../../src/pipeline/open-archive.js';
import { asAsync } from '../support/chunking.js';
import { ALL_FORMATS, CPIO_FORMATS, encode, NotExpressible, TAR_FORMATS, type FormatName, type HEntry } from './support/encode.js';
import { extractBytes, extractViaFile, makeSandbox, refusedPaths, type RunResult } from './support/sandbox.js';
import { buildZip } from '../support/zip-build.js';

const sb = await makeSandbox();
afterAll(() => sb.cleanup());

/** Absolute victim directory, and the same seen from any destination. */
const V = sb.victim;
const R = '../victim';

/** Whether the zip reader is registered yet (the zip rows run once it is). */
const ZIP_READY = await openArchive(asAsync([buildZip([{ name: 'a', data: 'x' }]).bytes]))
  .then(async (r) => {
    for await (const _ of r.entries());
    return true;
  })
  .catch(() => false);

type FileExpect =
  | string
  | { absent: true }
  | { symlink: string }
  | { dir: true; mode?: number }
  | { fifo: true; mode?: number }
  | { file: string; mode?: number; nlink?: number; uid?: number; gid?: number };

interface Expect {
  /** Exact set of refused raw paths (latin1). */
  refused?: string[];
  files?: Record<string, FileExpect>;
  rerooted?: number;
  replaced?: number;
  skipped?: Partial<Record<'char-device' | 'block-device' | 'socket', number>>;
  /** The run must stop with one of these error codes. */
  error?: string[];
  /** Only containment is asserted (readers may legitimately refuse or reject the input). */
  containedOnly?: boolean;
  /** Groups of paths that must be one inode. */
  sameInode?: string[][];
}

interface Case {
  name: string;
  entries: HEntry[];
  expect: Expect;
  formats?: FormatName[];
}

const CASES: Case[] = [
  {
    name: 'absolute paths are re-rooted inside the destination',
    entries: [
      { path: `${V}/file`, body: 'pwned' },
      { path: '//abs2', body: 'two' },
      { path: '///abs3', body: 'three' },
    ],
    expect: { refused: [], rerooted: 3, files: { [`${V.slice(1)}/file`]: 'pwned', abs2: 'two', abs3: 'three' } },
  },
  {
    name: 'Windows-style names are plain names on Unix',
    entries: [
      { path: 'C:\\x', body: '1' },
      { path: 'C:x', body: '2' },
      { path: '\\\\server\\share\\x', body: '3' },
      { path: '\\x', body: '4' },
    ],
    expect: { refused: [], files: { 'C:\\x': '1', 'C:x': '2', '\\\\server\\share\\x': '3', '\\x': '4' } },
  },
  {
    name: "every '..' form is refused; backslash forms are plain names",
    entries: [
      { path: `${R}/file`, body: 'pwned' },
      { path: 'a/../../victim/file', body: 'pwned' },
      { path: './../x', body: 'pwned' },
      { path: 'a//..//..//x', body: 'pwned' },
      { path: 'a/..', body: 'pwned' },
      { path: '..', body: 'pwned' },
      { path: '../', body: 'pwned' },
      { path: `/../victim/file`, body: 'pwned' },
      { path: '..\\x', body: 'plain' },
      { path: 'a\\..\\..\\x', body: 'plain' },
      { path: 'ok', body: 'fine' },
    ],
    expect: {
      refused: [`${R}/file`, 'a/../../victim/file', './../x', 'a//..//..//x', 'a/..', '..', '../', '/../victim/file'].sort(),
      files: { ok: 'fine', '..\\x': 'plain', 'a\\..\\..\\x': 'plain', a: { absent: true }, x: { absent: true } },
    },
  },
  {
    name: 'root-only names: a file at the root is refused, the root directory entry applies to the destination',
    entries: [
      { path: '/', body: 'pwned' },
      { path: '.', body: 'pwned' },
      { path: './', type: 'dir', mode: 0o750, mtime: 1000000000 },
      { path: 'inside', body: 'ok' },
    ],
    expect: { refused: ['/', '.'].sort(), files: { inside: 'ok', '.': { dir: true, mode: 0o750 } } },
    formats: [...TAR_FORMATS, ...CPIO_FORMATS],
  },
  {
    name: 'a 64 KiB name and a 256-byte component are refused; 255 bytes is fine',
    entries: [
      { path: 'n/'.repeat(100) + 'a'.repeat(65536), body: 'pwned' },
      { path: 'b'.repeat(256), body: 'pwned' },
      { path: 'c'.repeat(255), body: 'ok' },
    ],
    expect: { refused: ['n/'.repeat(100) + 'a'.repeat(65536), 'b'.repeat(256)].sort(), files: { ['c'.repeat(255)]: 'ok' } },
    formats: ['tar-gnu', 'tar-pax', 'cpio-newc', 'cpio-odc', 'zip'],
  },
  {
    name: 'a symlink to an outside directory, then files through it under every spelling',
    entries: [
      { path: 'lnk', type: 'symlink', target: V },
      { path: 'lnk/file', body: 'pwned' },
      { path: './lnk/file', body: 'pwned' },
      { path: 'lnk//file', body: 'pwned' },
      { path: 'lnk/./file', body: 'pwned' },
      { path: '/lnk/passwd', body: 'pwned' },
      { path: 'lnk/dir/inner', body: 'pwned' },
      { path: 'lnk/newdir/', type: 'dir' },
      { path: 'rel', type: 'symlink', target: R },
      { path: 'rel/file', body: 'pwned' },
      { path: 'rel/dir/', type: 'dir', mode: 0o777 },
    ],
    expect: {
      refused: ['lnk/file', './lnk/file', 'lnk//file', 'lnk/./file', '/lnk/passwd', 'lnk/dir/inner', 'lnk/newdir/', 'rel/file', 'rel/dir/'].sort(),
      files: { lnk: { symlink: V }, rel: { symlink: R } },
    },
  },
  {
    name: 'NFC/NFD and case variants are distinct names (nothing goes through the symlinks)',
    entries: [
      { path: '\xc3\xa4', type: 'symlink', target: V },
      { path: 'a\xcc\x88/file', body: 'nfd' },
      { path: 'LNK', type: 'symlink', target: V },
      { path: 'lnk/file', body: 'lower' },
    ],
    expect: {
      refused: [],
      files: { '\xc3\xa4': { symlink: V }, 'a\xcc\x88/file': 'nfd', LNK: { symlink: V }, 'lnk/file': 'lower', 'a\xcc\x88': { dir: true } },
    },
  },
  {
    name: 'a directory, then a symlink of the same name, then a file below it (cache poisoning)',
    entries: [
      { path: 'd/', type: 'dir' },
      { path: 'd', type: 'symlink', target: V },
      { path: './d', type: 'symlink', target: R },
      { path: 'd/file', body: 'inside' },
    ],
    expect: { refused: ['d', './d'].sort(), files: { d: { dir: true }, 'd/file': 'inside' } },
  },
  {
    name: "a symlink spelled with a trailing '/' over a directory",
    entries: [
      { path: 'd/', type: 'dir' },
      { path: 'd/', type: 'symlink', target: V },
      { path: 'd/file', body: 'inside' },
    ],
    expect: { refused: ['d/'], files: { d: { dir: true }, 'd/file': 'inside' } },
  },
  {
    name: 'symlink chains, a self-loop and a two-link loop',
    entries: [
      { path: 'a', type: 'symlink', target: 'b' },
      { path: 'b', type: 'symlink', target: `${R}/..` },
      { path: 'a/x', body: 'pwned' },
      { path: 'b/y', body: 'pwned' },
      { path: 'self', type: 'symlink', target: 'self' },
      { path: 'self/x', body: 'pwned' },
      { path: 'l1', type: 'symlink', target: 'l2' },
      { path: 'l2', type: 'symlink', target: 'l1' },
      { path: 'l1/x', body: 'pwned' },
    ],
    expect: {
      refused: ['a/x', 'b/y', 'self/x', 'l1/x'].sort(),
      files: { a: { symlink: 'b' }, b: { symlink: `${R}/..` }, self: { symlink: 'self' }, l1: { symlink: 'l2' }, l2: { symlink: 'l1' } },
    },
  },
  {
    name: 'hard links to outside files, then regular files of the same names (CVE-2018-20834)',
    entries: [
      { path: 'h', type: 'hardlink', target: `${V}/file` },
      { path: 'h', body: 'pwned' },
      { path: 'h2', type: 'hardlink', target: `${R}/file` },
      { path: 'h2', body: 'pwned2' },
      { path: 'h3', type: 'hardlink', target: '../../../../../../etc/passwd' },
    ],
    expect: { refused: ['h', 'h2', 'h3'], files: { h: { file: 'pwned', nlink: 1 }, h2: { file: 'pwned2', nlink: 1 }, h3: { absent: true } } },
    formats: TAR_FORMATS,
  },
  {
    name: 'hard links to a symlink, to a missing name, before their target, to a directory',
    entries: [
      { path: 's', type: 'symlink', target: `${V}/file` },
      { path: 'hs', type: 'hardlink', target: 's' },
      { path: 'hm', type: 'hardlink', target: 'nosuch' },
      { path: 'hb', type: 'hardlink', target: 't' },
      { path: 't', body: 'data' },
      { path: 't', type: 'symlink', target: `${V}/file` },
      { path: 'ha', type: 'hardlink', target: 't' },
      { path: 'dd/', type: 'dir' },
      { path: 'hd', type: 'hardlink', target: 'dd' },
    ],
    expect: {
      refused: ['hs', 'hm', 'hb', 'ha', 'hd'].sort(),
      replaced: 1,
      files: { s: { symlink: `${V}/file` }, t: { symlink: `${V}/file` }, hs: { absent: true }, hb: { absent: true }, ha: { absent: true } },
    },
    formats: TAR_FORMATS,
  },
  {
    name: 'a hard-link group: the data reaches every name (newc: data on the last member)',
    entries: [
      { path: 'g/first', body: 'group data' },
      { path: 'g/second', type: 'hardlink', target: 'g/first' },
      { path: 'g/third', type: 'hardlink', target: 'g/first' },
    ],
    expect: { refused: [], files: { 'g/first': { file: 'group data', nlink: 3 } }, sameInode: [['g/first', 'g/second', 'g/third']] },
    formats: [...TAR_FORMATS, ...CPIO_FORMATS],
  },
  {
    name: 'a hard link carrying data into a target of this archive (pax): data written to the group',
    entries: [
      { path: 't', body: 'old' },
      { path: 'l', type: 'hardlink', target: 't', body: 'new group data' },
    ],
    expect: { refused: [], files: { t: { file: 'new group data', nlink: 2 } }, sameInode: [['t', 'l']] },
    formats: ['tar-pax'],
  },
  {
    name: 'device nodes are skipped, FIFOs created and replaceable',
    entries: [
      { path: 'c', type: 'char', devMajor: 1, devMinor: 3 },
      { path: 'b', type: 'block', devMajor: 7, devMinor: 0 },
      { path: 'p', type: 'fifo', mode: 0o640, uid: 12, gid: 34 },
      { path: 'p2', type: 'fifo' },
      { path: 'p2', body: 'now a file' },
      { path: 'n\xe9e/p\xff', type: 'fifo', mode: 0o600 },
    ],
    expect: {
      refused: [],
      skipped: { 'char-device': 1, 'block-device': 1 },
      replaced: 1,
      files: { c: { absent: true }, b: { absent: true }, p: { fifo: true, mode: 0o640 }, p2: 'now a file', 'n\xe9e/p\xff': { fifo: true, mode: 0o600 } },
    },
    formats: [...TAR_FORMATS, ...CPIO_FORMATS],
  },
  {
    name: 'sockets are skipped',
    entries: [{ path: 'sock', type: 'socket' }, { path: 'after', body: 'x' }],
    expect: { refused: [], skipped: { socket: 1 }, files: { sock: { absent: true }, after: 'x' } },
    formats: CPIO_FORMATS,
  },
  {
    name: 'setuid/setgid/sticky kept; a mode-0000 directory still receives its children',
    entries: [
      { path: 'suid', body: '#!/bin/sh\n', mode: 0o4755, uid: 0, gid: 3 },
      { path: 'sgid/', type: 'dir', mode: 0o2775, gid: 5 },
      { path: 'sgid/file', body: 'x', uid: 0, gid: 0 },
      { path: 'tmp/', type: 'dir', mode: 0o1777 },
      { path: 'locked/', type: 'dir', mode: 0 },
      { path: 'locked/child', body: 'c', mode: 0o400 },
      { path: 'locked/sub/', type: 'dir', mode: 0o500 },
      { path: 'locked/sub/f', body: 'f' },
      { path: 'ww/', type: 'dir', mode: 0o777 },
      { path: 'sgexec', body: 'x', mode: 0o2711, uid: 7, gid: 8 },
    ],
    expect: {
      refused: [],
      files: {
        suid: { file: '#!/bin/sh\n', mode: 0o4755, uid: 0, gid: 3 },
        sgid: { dir: true, mode: 0o2775 },
        'sgid/file': { file: 'x', uid: 0, gid: 0 },
        tmp: { dir: true, mode: 0o1777 },
        locked: { dir: true, mode: 0 },
        'locked/child': { file: 'c', mode: 0o400 },
        'locked/sub': { dir: true, mode: 0o500 },
        'locked/sub/f': 'f',
        ww: { dir: true, mode: 0o777 },
        sgexec: { file: 'x', mode: 0o2711, uid: 7, gid: 8 },
      },
    },
  },
  {
    name: 'duplicates: file→dir refused, dir→file refused, file→symlink→file and file→file: last one wins',
    entries: [
      { path: 'x', body: 'one' },
      { path: 'x/', type: 'dir' },
      { path: 'y/', type: 'dir' },
      { path: 'y', body: 'file over dir' },
      { path: 'z', body: '1' },
      { path: 'z', type: 'symlink', target: `${V}/file` },
      { path: 'z', body: '3' },
      { path: 'w', body: '1' },
      { path: 'w', body: '2' },
    ],
    expect: { refused: ['x/', 'y'].sort(), replaced: 3, files: { x: 'one', y: { dir: true }, z: { file: '3', nlink: 1 }, w: '2' } },
  },
  {
    name: 'a 10,000-deep path is refused (LIMIT_DEPTH)',
    // (a short member first: a zip whose first name is longer than the detection head is not recognised)
    entries: [{ path: 'first', body: '1' }, { path: 'a/'.repeat(9999) + 'f', body: 'deep' }],
    expect: { refused: ['a/'.repeat(9999) + 'f'], files: { a: { absent: true }, first: '1' } },
    formats: ['tar-gnu', 'tar-pax', 'cpio-newc', 'zip'],
  },
];

async function checkFile(dest: string, rel: string, want: FileExpect): Promise<void> {
  const p = rel === '.' ? Buffer.from(dest) : Buffer.concat([Buffer.from(dest + '/'), Buffer.from(rel, 'latin1')]);
  if (typeof want === 'string') want = { file: want };
  if ('absent' in want) {
    await expect(lstat(p), `${rel} should not exist`).rejects.toMatchObject({ code: 'ENOENT' });
    return;
  }
  const st = await lstat(p);
  if ('symlink' in want) {
    expect(st.isSymbolicLink(), `${rel} is a symlink`).toBe(true);
    expect((await readlink(p, { encoding: 'buffer' })).toString('latin1')).toBe(want.symlink);
    return;
  }
  if ('dir' in want) {
    expect(st.isDirectory(), `${rel} is a directory`).toBe(true);
    if (want.mode !== undefined) expect((st.mode & 0o7777).toString(8), `${rel} mode`).toBe(want.mode.toString(8));
    return;
  }
  if ('fifo' in want) {
    expect(st.isFIFO(), `${rel} is a FIFO`).toBe(true);
    if (want.mode !== undefined) expect((st.mode & 0o7777).toString(8), `${rel} mode`).toBe(want.mode.toString(8));
    return;
  }
  expect(st.isFile(), `${rel} is a regular file`).toBe(true);
  expect((await readFile(p)).toString('latin1'), `${rel} content`).toBe(want.file);
  if (want.mode !== undefined) expect((st.mode & 0o7777).toString(8), `${rel} mode`).toBe(want.mode.toString(8));
  if (want.nlink !== undefined) expect(st.nlink, `${rel} link count`).toBe(want.nlink);
  if (want.uid !== undefined && process.getuid?.() === 0) expect(st.uid, `${rel} uid`).toBe(want.uid);
  if (want.gid !== undefined && process.getuid?.() === 0) expect(st.gid, `${rel} gid`).toBe(want.gid);
}

async function verify(dest: string, r: RunResult, exp: Expect, before: string): Promise<void> {
  expect(await sb.snapshot(), 'the victim and everything outside the destination are untouched').toBe(before);
  if (exp.containedOnly) {
    if (r.error) expect(r.error.code).toMatch(/^[A-Z_]+$/);
    return;
  }
  if (exp.error) {
    expect(r.error, 'the run stops with a typed error').not.toBeNull();
    expect(exp.error).toContain(r.error!.code);
    return;
  }
  expect(r.error, r.error?.message).toBeNull();
  const report = r.report!;
  if (exp.refused) expect(refusedPaths(r)).toEqual([...exp.refused].sort());
  expect(report.refusedCount).toBe(report.refused.length);
  for (const ref of report.refused) expect(ref.reason.length).toBeGreaterThan(0);
  if (exp.rerooted !== undefined) expect(report.rerooted).toBe(exp.rerooted);
  if (exp.replaced !== undefined) expect(report.replaced).toBe(exp.replaced);
  for (const [k, n] of Object.entries(exp.skipped ?? {})) expect(report.skipped[k as 'socket']).toBe(n);
  for (const [rel, want] of Object.entries(exp.files ?? {})) await checkFile(dest, rel, want);
  for (const group of exp.sameInode ?? []) {
    const inos = await Promise.all(group.map(async (g) => (await stat(join(dest, g))).ino));
    expect(new Set(inos).size, `${group.join(', ')} share one inode`).toBe(1);
  }
}

function formatsOf(c: Case): FormatName[] {
  return (c.formats ?? ALL_FORMATS).filter((f) => {
    try {
      encode(f, c.entries);
      return true;
    } catch (e) {
      if (e instanceof NotExpressible) return false;
      throw e;
    }
  });
}

describe('hostile archives: every pattern in every format that can express it', () => {
  for (const c of CASES) {
    for (const f of formatsOf(c)) {
      const run = f === 'zip' && !ZIP_READY ? it.skip : it;
      run(`${c.name} [${f}]`, async () => {
        const dest = await sb.newDest();
        const before = await sb.snapshot();
        // zip through a file: its Unix modes and symlinks live in the central directory.
        const r = f === 'zip' ? await extractViaFile(encode(f, c.entries), dest) : await extractBytes(encode(f, c.entries), dest);
        await verify(dest, r, c.expect, before);
      });
    }
  }
});

describe('the same patterns through the other write paths', () => {
  const variants = [
    ['writer thread from the first file', { writerThreadAfter: 0 }],
    ['thread-pool writer', { writerThread: false }],
    ['thread-pool writer, one write at a time', { writerThread: false, concurrency: 1, maxBufferedBytes: 1 }],
    ['every file streamed on the main thread', { smallFileLimit: 0 }],
  ] as const;
  for (const [label, options] of variants) {
    for (const c of CASES) {
      const formats = formatsOf(c).filter((x) => x === 'tar-pax' || x === 'cpio-newc');
      for (const f of label.startsWith('writer thread') ? formats : formats.slice(0, 1)) {
        it(`${c.name} [${f}, ${label}]`, async () => {
          const dest = await sb.newDest();
          const before = await sb.snapshot();
          const r = await extractBytes(encode(f, c.entries), dest, options);
          await verify(dest, r, c.expect, before);
        });
      }
    }
  }
});
