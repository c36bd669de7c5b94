/**
 * The command line as a user runs it: `node dist/cli/main.js ...` in a child process, with real
 * files, standard input, broken inputs and closed pipes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { corpusPath, PROJECT_ROOT, readManifest, unescapeOctal } from '../support/corpus.js';

const MAIN = join(PROJECT_ROOT, 'dist', 'cli', 'main.js');
const SAMPLE = join(PROJECT_ROOT, 'fixtures', 'sample.flar');
const tmp = mkdtempSync(join(tmpdir(), 'zonep2v-cli-'));

function run(args: string[], input?: Buffer) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { input, maxBuffer: 1 << 26 });
  return { code: r.status, stdout: r.stdout.toString('utf8'), stderr: r.stderr.toString('utf8') };
}

beforeAll(() => {
  if (!existsSync(MAIN)) execFileSync('npx', ['tsc', '-p', PROJECT_ROOT], { stdio: 'inherit' });
}, 120_000);

describe('zonep2v list', () => {
  it('lists the bundled sample flar, one escaped name per line', () => {
    const r = run(['list', '-a', SAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const row = readManifest().find((x) => x.filename === 'flar/sample-compress.flar')!;
    const names = row.expected.split(' | ').map((t) => {
      const body = t.slice(2).replace(/(->|=>).*$/, '').replace(/:[\d,]+$/, '');
      return unescapeOctal(body);
    });
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.length).toBe(names.length);
    expect(lines).toContain('caf\\xE9.txt');
    expect(lines).toContain('naïve.txt');
  });

  it('-v prints tar -tv style lines with owners, sizes, times and link targets', () => {
    const r = run(['list', '-v', '-a', SAMPLE]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines).toContain('-rw-r--r-- 1000/1000       14 2020-09-13 12:26 dir/file.txt');
    expect(lines).toContain('lrwxrwxrwx 0/0        0 2020-09-13 12:26 symlink-to-file -> dir/file.txt');
    expect(lines.some((l) => /^-rwsr-xr-x 0\/0 +22 .* setuid-prog$/.test(l))).toBe(true);
    expect(lines.some((l) => /^hrw-r--r-- .* hardlink-b\.txt link to dir\/hardlink-a\.txt$/.test(l))).toBe(true);
    expect(lines.some((l) => /^crw-r--r-- 0\/0 +1,3 .* dev-null-copy$/.test(l))).toBe(true);
  });

  it('--json prints one object per entry with the documented fields, then a summary', () => {
    const r = run(['list', '--json', '-a', SAMPLE]);
    expect(r.code).toBe(0);
    const objs = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
    const entries = objs.filter((o) => 'path' in o);
    for (const e of entries) {
      for (const k of ['path', 'type', 'mode', 'uid', 'gid', 'size', 'mtime', 'linkTarget']) expect(e).toHaveProperty(k);
      expect(['file', 'directory', 'symlink', 'hardlink', 'fifo', 'char-device', 'block-device', 'socket']).toContain(e.type);
    }
    expect(entries.find((e) => e.path === 'caf\\xE9.txt')).toMatchObject({ type: 'file', size: 13 });
    expect(entries.find((e) => e.path === 'hardlink-b.txt')).toMatchObject({ type: 'hardlink', linkTarget: 'dir/hardlink-a.txt' });
    expect(entries.find((e) => e.path === 'setuid-prog')).toMatchObject({ mode: 0o4755, uid: 0 });
    expect(entries.find((e) => e.path === 'dir/file.txt')).toMatchObject({ uid: 1000, gid: 1000, mtime: 1600000000, linkTarget: null });
    expect(entries.find((e) => e.path === 'dev-loop9')).toMatchObject({ type: 'block-device', devMajor: 7, devMinor: 9 });
    const summary = objs.at(-1);
    expect(summary.summary).toMatchObject({ layers: 'flar > compress > cpio (newc)', format: 'cpio', entries: entries.length });
  });

  it('reads standard input with -a - (the ssh pipe case), through four layers', () => {
    const r = run(['list', '-a', '-'], readFileSync(join(PROJECT_ROOT, 'fixtures', 'sample.flar.gz')));
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(run(['list', '-a', SAMPLE]).stdout);
  });

  it('lists every corpus tar and cpio format the same way bsdtar names them', () => {
    const r = run(['list', '-a', corpusPath('generated/mirpax-bcpio-be.cpio')]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toContain('tree/caf\\xE9.txt');
  });

  it('a truncated archive exits 254 with one line naming the file, the layer and the offset', () => {
    const raw = readFileSync(corpusPath('generated/gnucpio-newc.cpio'));
    const cut = join(tmp, 'cut.cpio');
    writeFileSync(cut, raw.subarray(0, 5000));
    const r = run(['list', '-a', cut]);
    expect(r.code).toBe(254);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(new RegExp(`^zonep2v: ${cut.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cpio-newc: .* at byte \\d+; .*truncated`));
  });

  it('a truncated compressed flar exits 254 naming the compress layer', () => {
    const raw = readFileSync(SAMPLE);
    const cut = join(tmp, 'cut.flar');
    writeFileSync(cut, raw.subarray(0, raw.length - 1500));
    const r = run(['list', '-a', cut]);
    expect(r.code).toBe(254);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^zonep2v: .*cut\.flar: cpio-newc: .*truncated/);
  });

  it('an unrecognised file exits 254 with a one-line message', () => {
    const junk = join(tmp, 'junk.bin');
    writeFileSync(junk, Buffer.from('this is not an archive, just some text\n'.repeat(40)));
    const r = run(['list', '-a', junk]);
    expect(r.code).toBe(254);
    expect(r.stderr.trimEnd()).toMatch(/^zonep2v: .*junk\.bin: detect: unrecognised format \(first bytes [0-9a-f]+\); expected/);
  });

  it('a missing file exits 254; an empty file exits 254', () => {
    expect(run(['list', '-a', join(tmp, 'nope')])).toMatchObject({ code: 254, stderr: expect.stringMatching(/cannot open \(no such file\)/) });
    const empty = join(tmp, 'empty');
    writeFileSync(empty, '');
    expect(run(['list', '-a', empty])).toMatchObject({ code: 254, stderr: expect.stringMatching(/detect: the input is empty/) });
  });

  it('-d DIR lists a directory tree; -a and -d together is a usage error', () => {
    const d = join(tmp, 'tree');
    execFileSync('mkdir', ['-p', join(d, 'etc')]);
    writeFileSync(join(d, 'etc', 'motd'), 'hello\n');
    const r = run(['list', '-d', d]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('.\netc\netc/motd\n');
    expect(run(['list', '-a', SAMPLE, '-d', d]).code).toBe(253);
    expect(run(['inspect', '-d', join(tmp, 'missing')])).toMatchObject({ code: 254, stderr: expect.stringMatching(/no such directory/) });
  });

  it('usage errors exit 253', () => {
    expect(run(['list']).code).toBe(253);
    expect(run(['list', '-a']).code).toBe(253);
    expect(run(['list', '-a', SAMPLE, '--bogus']).code).toBe(253);
    expect(run(['frobnicate']).code).toBe(253);
    expect(run([]).code).toBe(253);
    expect(run(['--help']).code).toBe(0);
  });

  it('a closed pipe ends the listing quietly', async () => {
    const child = spawn(process.execPath, [MAIN, 'list', '-a', corpusPath('generated/gnutar-pax.tar')]);
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stderr).toBe('');
  });
});

describe('zonep2v inspect', () => {
  it('reports the detection chain and the flar identification', () => {
    const r = run(['inspect', '-a', SAMPLE]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Layers: +flar > compress > cpio \(newc\)$/m);
    expect(r.stdout).toMatch(/^Flash archive 2\.0, payload at byte \d+:$/m);
    expect(r.stdout).toContain('  content_name=corpus sample tree (compress)');
    expect(r.stdout).toMatch(/^Entries: +\d+ \(/m);
  });

  it('--json gives the layers, identification and counts', () => {
    const r = run(['inspect', '--json', '-a', SAMPLE]);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout);
    expect(o.layers).toEqual([{ kind: 'envelope', name: 'flar' }, { kind: 'filter', name: 'compress' }, { kind: 'format', name: 'cpio', variant: 'newc' }]);
    expect(o.flar.identification.files_compressed_method).toBe('compress');
    expect(o.flar.identification.files_archived_size).toBe(String(o.flar.payloadOffset ? readFileSync(SAMPLE).length - o.flar.payloadOffset : 0));
    expect(o.byType.hardlink).toBe(1);
  });
});
