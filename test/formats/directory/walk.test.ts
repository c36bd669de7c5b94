/**
 * The directory source: a tree on disk yields the same kind of Entry stream as an archive —
 * raw names, no symlink followed, hard links by (dev, ino), other file systems not entered,
 * top-level dot-files included, bodies read lazily and exactly.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody, type Entry } from '../../../src/entry/entry.js';
import { openDirectory } from '../../../src/pipeline/open-directory.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { tokenOf } from '../../support/listing.js';

const root = mkdtempSync(join(tmpdir(), 'zonep2v-walk-'));
const tree = join(root, 'tree');
const isRoot = process.getuid?.() === 0;
let mounted = false;

beforeAll(() => {
  mkdirSync(join(tree, 'etc/inet'), { recursive: true });
  mkdirSync(join(tree, 'empty'));
  mkdirSync(join(tree, 'mnt'));
  writeFileSync(join(tree, '.profile'), 'PATH=/usr/bin\n');
  writeFileSync(join(tree, 'etc/passwd'), 'root:x:0:0::/:/sbin/sh\n');
  writeFileSync(join(tree, 'etc/inet/hosts'), '127.0.0.1 localhost\n');
  linkSync(join(tree, 'etc/inet/hosts'), join(tree, 'etc/hosts'));
  symlinkSync('./inet/hosts', join(tree, 'etc/hosts.sym'));
  symlinkSync('/etc', join(tree, 'etc-link')); // must not be followed
  writeFileSync(Buffer.from(join(tree, 'caf\xe9.txt'), 'latin1'), 'latin1 name');
  writeFileSync(join(tree, 'setuid'), '#!/bin/sh\n');
  chmodSync(join(tree, 'setuid'), 0o4755);
  execFileSync('mkfifo', [join(tree, 'fifo')]);
  if (isRoot) execFileSync('mknod', [join(tree, 'null'), 'c', '1', '3']);
  for (const p of ['.profile', 'etc/passwd', 'etc/inet/hosts', 'setuid']) utimesSync(join(tree, p), 1600000000, 1600000000);
  if (isRoot) {
    execFileSync('mount', ['-t', 'tmpfs', 'none', join(tree, 'mnt')]);
    mounted = true;
    writeFileSync(join(tree, 'mnt/inside'), 'other file system');
  }
});

afterAll(() => {
  if (mounted) execFileSync('umount', [join(tree, 'mnt')]);
  rmSync(root, { recursive: true, force: true });
});

async function walk(dir: string) {
  const reader = await openDirectory(dir);
  const entries: Entry[] = [];
  for await (const e of reader.entries()) entries.push(e);
  return { reader, entries };
}

describe('directory source', () => {
  it('lists the tree parent-first, sorted, with raw names, links and dot-files', async () => {
    const { entries, reader } = await walk(tree);
    const tokens = entries.map(tokenOf);
    const expected = [
      'd:.',
      'f:.profile:14',
      ...(isRoot ? [] : []),
      'f:caf\xe9.txt:11',
      'd:empty',
      'd:etc',
      'l:etc-link->/etc',
      'p:fifo',
      'd:mnt',
      ...(isRoot ? ['c:null:1,3'] : []),
      'f:setuid:10',
      'f:etc/hosts:20',
      'l:etc/hosts.sym->./inet/hosts',
      'd:etc/inet',
      'f:etc/passwd:23',
      'h:etc/inet/hosts=>etc/hosts',
    ];
    expect(tokens).toEqual(expected);
    expect(reader.layers).toEqual([{ kind: 'format', name: 'directory' }]);
    if (isRoot) expect(reader.stats.metaRecords['other-filesystem']).toBe(1);
    const setuid = entries.find((e) => e.path.toString() === 'setuid')!;
    expect(setuid.mode).toBe(0o4755);
    expect(setuid.mtime).toBe(1600000000);
  });

  it('reads bodies exactly and lazily', async () => {
    const reader = await openDirectory(tree);
    const bodies: Record<string, string> = {};
    for await (const e of reader.entries()) {
      if (e.type === 'file' && e.path.toString().startsWith('etc/')) bodies[e.path.toString()] = (await readBody(e)).toString();
    }
    expect(bodies).toEqual({ 'etc/hosts': '127.0.0.1 localhost\n', 'etc/passwd': 'root:x:0:0::/:/sbin/sh\n' });
  });

  it('refuses a missing root or a file as root with a clear error', async () => {
    await expect(openDirectory(join(root, 'nope'))).rejects.toThrow(/no such directory/);
    await expect(openDirectory(join(tree, 'etc/passwd'))).rejects.toThrow(/not a directory/);
    await expect(openDirectory(join(root, 'nope'))).rejects.toBeInstanceOf(ZoneP2vError);
  });

  it('a file that shrinks while it is read is an error naming it', async () => {
    const d = mkdtempSync(join(tmpdir(), 'zonep2v-shrink-'));
    writeFileSync(join(d, 'big'), Buffer.alloc(1 << 20, 1));
    const reader = await openDirectory(d);
    const err = await (async () => {
      for await (const e of reader.entries()) {
        if (e.type !== 'file') continue;
        writeFileSync(join(d, 'big'), 'tiny');
        await readBody(e);
      }
    })().catch((x) => x);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.message).toMatch(/big shrank while being read/);
    rmSync(d, { recursive: true });
  });
});
