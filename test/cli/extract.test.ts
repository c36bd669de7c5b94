/**
 * `zonep2v extract` as a user runs it: `node dist/cli/main.js extract ...` in a child process.
 * Exit codes (DECISIONS §2): 0 written; 253 usage or a non-empty destination (before anything
 * is read); 254 a failed run or refused entries (with `zonep2v: N entries refused`).
 */
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../support/corpus.js';
import * as T from '../support/tar-build.js';
import { ensureBuilt, finished, runCli, spawnCli } from '../sink/support/cli.js';

const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample.flar');
const tmp = await mkdtemp(join(tmpdir(), 'zonep2v-cli-extract-'));
let n = 0;
const fresh = () => join(tmp, `out${++n}`);

beforeAll(() => ensureBuilt(), 120_000);
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('zonep2v extract', () => {
  it('extracts the sample flar: exit 0, nothing on stdout, the skipped devices on stderr', async () => {
    const dest = fresh();
    const r = runCli(['extract', '-a', SAMPLE, '-C', dest]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`zonep2v: ${SAMPLE}: sink: not created (extract never creates them): 1 character device, 1 block device\n`);
    expect(await readFile(join(dest, 'dir', 'file.txt'), 'utf8')).toBe('hello, corpus\n');
    expect(await readlink(join(dest, 'symlink-to-file'), 'utf8')).toBe('dir/file.txt');
    expect((await lstat(join(dest, 'setuid-prog'))).mode & 0o7777).toBe(0o4755);
    expect((await lstat(Buffer.from(`${dest}/caf\xe9.txt`, 'latin1'))).isFile()).toBe(true);
  });

  it('-v lists every entry written, escaped like list does', async () => {
    const r = runCli(['extract', '-v', '-a', SAMPLE, '-C', fresh()]);
    expect(r.code).toBe(0);
    const listed = runCli(['list', '-a', SAMPLE]).stdout.trimEnd().split('\n');
    const written = r.stdout.trimEnd().split('\n');
    expect(written.sort()).toEqual(listed.filter((l) => !l.startsWith('dev-')).sort());
    expect(written).toContain('caf\\xE9.txt');
  });

  it('--json: one event per line, then a summary', async () => {
    const r = runCli(['extract', '--json', '-a', SAMPLE, '-C', fresh()]);
    expect(r.code).toBe(0);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    const summary = objs.at(-1).summary;
    expect(summary).toMatchObject({ layers: 'flar > compress > cpio (newc)', refused: 0, skipped: { 'char-device': 1, 'block-device': 1, socket: 0 } });
    expect(summary.written.symlink).toBe(2);
    const events = objs.slice(0, -1);
    expect(events.filter((e) => e.event === 'extracted').length).toBe(summary.written.file + summary.written.directory + summary.written.symlink + summary.written.hardlink + summary.written.fifo);
    expect(events.filter((e) => e.event === 'skipped').map((e) => e.type).sort()).toEqual(['block-device', 'char-device']);
    expect(events.find((e) => e.path === 'caf\\xE9.txt')).toMatchObject({ event: 'extracted', type: 'file', size: 13 });
  });

  it('reads standard input with -a -', async () => {
    const dest = fresh();
    const r = runCli(['extract', '-a', '-', '-C', dest], await readFile(join(PROJECT_ROOT, 'fixtures', 'sample.flar.gz')));
    expect(r.code).toBe(0);
    expect(await readFile(join(dest, 'dir', 'file.txt'), 'utf8')).toBe('hello, corpus\n');
  });

  it('refused entries: each on stderr, the rest written, then "N entries refused" and exit 254', async () => {
    const archive = join(tmp, 'hostile.tar');
    await writeFile(
      archive,
      T.tar(T.file('../escape', 'x'), T.member({ name: 'lnk', typeflag: '2', linkname: '/etc' }), T.file('lnk/passwd', 'x'), T.file('ok', 'fine'), T.eoa()),
    );
    const dest = fresh();
    const r = runCli(['extract', '-a', archive, '-C', dest]);
    expect(r.code).toBe(254);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toEqual([
      `zonep2v: ${archive}: sink: refused '../escape': name contains a '..' component`,
      `zonep2v: ${archive}: sink: refused 'lnk/passwd': would be written through symlink 'lnk'`,
      'zonep2v: 2 entries refused',
    ]);
    expect(await readFile(join(dest, 'ok'), 'utf8')).toBe('fine');
    expect(await readlink(join(dest, 'lnk'), 'utf8')).toBe('/etc');
  });

  it('a non-empty destination: 253 before anything is read (standard input is never consumed)', async () => {
    const dest = fresh();
    await mkdir(dest);
    await writeFile(join(dest, 'existing'), 'x');
    // stdin stays open and empty: reading it would hang, so a prompt exit proves nothing was read.
    const child = spawnCli(['extract', '-a', '-', '-C', dest]);
    const r = await finished(child);
    expect(r.code).toBe(253);
    expect(r.stderr).toBe(
      `zonep2v: ${dest}: sink: the destination is not empty; nothing was written (extract into a new or empty directory, or allow a non-empty one explicitly)\n`,
    );
    expect(await readdir(dest)).toEqual(['existing']);
  });

  it('--allow-non-empty writes beside what is there and never replaces it', async () => {
    const dest = fresh();
    await mkdir(dest);
    await writeFile(join(dest, 'dir'), 'a file where the archive has a directory');
    const r = runCli(['extract', '--allow-non-empty', '-a', SAMPLE, '-C', dest]);
    expect(r.code).toBe(254);
    expect(await readFile(join(dest, 'dir'), 'utf8')).toBe('a file where the archive has a directory');
    expect(r.stderr).toMatch(/refused 'dir': 'dir' existed before this run and is not a directory/);
    expect(r.stderr).toMatch(/zonep2v: \d+ entries refused\n$/);
    expect(await readFile(join(dest, 'naïve.txt'), 'utf8')).toBe('utf-8 name\n');
  });

  it('a destination that is a file: 253', async () => {
    const f = join(tmp, 'plain-file');
    await writeFile(f, '');
    const r = runCli(['extract', '-a', SAMPLE, '-C', f]);
    expect(r.code).toBe(253);
    expect(r.stderr).toBe(`zonep2v: ${f}: sink: the destination exists and is not a directory\n`);
  });

  it('a truncated archive: 254, one line naming the file and the entry', async () => {
    const cut = join(tmp, 'cut.tar');
    await writeFile(cut, T.tar(T.file('a', 'x'), T.file('big', Buffer.alloc(50_000)), T.eoa()).subarray(0, 512 * 3 + 10_000));
    const r = runCli(['extract', '-a', cut, '-C', fresh()]);
    expect(r.code).toBe(254);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^zonep2v: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: tar: .*truncated.*'big'`));
  });

  it('usage errors: 253 with the usage text', () => {
    for (const args of [['extract', '-C', fresh()], ['extract', '-a', SAMPLE], ['extract', '-a', SAMPLE, '-C', fresh(), 'extra'], ['extract', '--bogus']]) {
      const r = runCli(args);
      expect(r.code, args.join(' ')).toBe(253);
      expect(r.stderr).toMatch(/^zonep2v: .*\nusage:/);
      expect(r.stderr).toContain('zonep2v extract (-a ARCHIVE | -a -) -C DIR');
    }
  });

  it('a missing archive: 254 (nothing created)', async () => {
    const dest = fresh();
    const r = runCli(['extract', '-a', join(tmp, 'nope.tar'), '-C', dest]);
    expect(r.code).toBe(254);
    expect(r.stderr).toMatch(/cannot open \(no such file\)/);
    await expect(lstat(dest)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
