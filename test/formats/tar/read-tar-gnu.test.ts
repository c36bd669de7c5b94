/**
 * GNU tar archives: L/K long names, base-256 numbers, the hard-link rule, volume labels and the
 * old `S` sparse format (header map + extension blocks); plus, when GNU tar is installed, a
 * differential check of every GNU sparse flavour it writes.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { base256, eoa, file, gnuLong, header, member, oldGnuSparse, setChecksum, tar } from '../../support/tar-build.js';
import { isError, readTarBuffer, token } from './tar-helpers.js';

const gnu = { magic: 'gnu' as const };

/** A file of `size` bytes with distinct non-zero data in `runs` and zeros elsewhere. */
function sparseContent(size: number, runs: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(size);
  runs.forEach(([o, l], i) => {
    for (let k = 0; k < l; k++) b[o + k] = 1 + ((k + i * 7) % 250);
  });
  return b;
}

describe('GNU long names', () => {
  it('applies L and K to the next entry and counts them', async () => {
    const long = 'd/'.repeat(80) + 'file-name';
    const target = 't/'.repeat(70) + 'target';
    const buf = tar(
      gnuLong('L', long),
      file(long.slice(0, 100), 'body', gnu),
      gnuLong('L', long + '-link'),
      gnuLong('K', target),
      member({ ...gnu, name: 'short', typeflag: '2', linkname: target.slice(0, 100) }),
      gnuLong('K', long),
      member({ ...gnu, name: 'hard', typeflag: '1', linkname: long.slice(0, 100), size: 4 }),
      file('after', 'x', gnu),
      eoa(),
    );
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token), chunking.name).toEqual([
        `f:${long}:4`,
        `l:${long}-link->${target}`,
        `h:hard=>${long}`,
        'f:after:1',
      ]);
      // GNU-format hard links never carry data, whatever their size field says.
      expect(r.entries[2]!.size).toBe(0);
      expect(r.stats.metaRecords).toEqual({ 'gnu-longname': 2, 'gnu-longlink': 2 });
      expect(r.stats.variant).toBe('gnu');
    }
  });

  it('refuses an L body over the meta limit without reading it', async () => {
    const r = await readTarBuffer(tar(header({ ...gnu, name: '././@LongLink', typeflag: 'L', size: 5 << 20 })), {});
    expect(isError(r.error, 'LIMIT_META_SIZE')).toBe(true);
    expect((r.error as Error).message).toMatch(/^tar: GNU long name of 5242880 bytes exceeds the meta record limit of 1048576 bytes at byte 0; /);
  });

  it('reads base-256 uid/gid (test_compat_gtar_2 pattern)', async () => {
    const r = await readTarBuffer(tar(file('big', 'x', { ...gnu, uid: base256(2097152, 8), gid: Buffer.from('10000000') }), eoa()));
    expect(r.entries[0]).toMatchObject({ uid: 2097152, gid: 0o10000000 });
  });

  it('consumes a volume label without emitting it', async () => {
    const r = await readTarBuffer(tar(member({ ...gnu, name: 'My Volume', typeflag: 'V' }), file('a', 'b', gnu), eoa()));
    expect(r.entries.map(token)).toEqual(['f:a:1']);
    expect(r.stats.metaRecords).toEqual({ 'gnu-volume-label': 1 });
  });
});

describe('old GNU sparse (typeflag S)', () => {
  it('expands a map held in the header', async () => {
    const runs: Array<[number, number]> = [
      [0, 1000],
      [40000, 512],
      [90000, 10],
    ];
    const content = sparseContent(100000, runs);
    const buf = tar(oldGnuSparse('sp', content, runs), file('next', 'n', gnu), eoa());
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token), chunking.name).toEqual(['f:sp:100000', 'f:next:1']);
      expect(r.entries[0]!.data!.equals(content)).toBe(true);
      expect(r.entries[0]!.extra.sparseMap).toEqual(runs);
    }
  });

  it('follows extension blocks and ends in a hole', async () => {
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < 50; i++) runs.push([i * 1000, 100 + i]);
    const content = sparseContent(60000, runs);
    const buf = tar(oldGnuSparse('many', content, runs), eoa());
    const r = await readTarBuffer(buf, { chunking: CHUNKINGS[2] });
    expect(r.error).toBeUndefined();
    expect(r.entries[0]!.size).toBe(60000);
    expect(r.entries[0]!.data!.equals(content)).toBe(true);
    expect(r.entries[0]!.extra.sparseMap).toEqual(runs);
    // Listing without reading bodies skips the stored data correctly.
    const l = await readTarBuffer(tar(buf.subarray(0, buf.length - 1024), file('z', 'z', gnu), eoa()), { bodies: false });
    expect(l.entries.map(token)).toEqual(['f:many:60000', 'f:z:1']);
  });

  it('limits extension blocks by the meta limit', async () => {
    const runs: Array<[number, number]> = [];
    for (let i = 0; i < 100; i++) runs.push([i * 10, 1]);
    const r = await readTarBuffer(tar(oldGnuSparse('x', sparseContent(1000, runs), runs), eoa()), { maxMetaSize: 1024 });
    expect(isError(r.error, 'LIMIT_META_SIZE')).toBe(true);
  });

  it('rejects a map that does not match the stored data', async () => {
    const content = sparseContent(5000, [[0, 100]]);
    const good = oldGnuSparse('x', content, [[0, 100]]);
    // Claim 200 data bytes in the map while 100 are stored.
    const bad = Buffer.from(good);
    Buffer.from('00000000310\0', 'latin1').copy(bad, 386 + 12);
    setChecksum(bad.subarray(0, 512));
    const r = await readTarBuffer(tar(bad, eoa()));
    expect(isError(r.error, 'FORMAT_CORRUPT')).toBe(true);
    expect((r.error as Error).message).toMatch(/sparse map describes 200 data bytes but the entry stores 100 at byte 0/);
  });
});

function hasGnuTar(): boolean {
  try {
    return execFileSync('tar', ['--version'], { encoding: 'utf8' }).includes('GNU tar');
  } catch {
    return false;
  }
}

describe.skipIf(!hasGnuTar())('GNU tar sparse flavours (differential, system GNU tar)', () => {
  const FLAVOURS: Array<[string, string[]]> = [
    ['old GNU S', ['--format=gnu']],
    ['pax 0.0', ['--format=pax', '--sparse-version=0.0']],
    ['pax 0.1', ['--format=pax', '--sparse-version=0.1']],
    ['pax 1.0', ['--format=pax', '--sparse-version=1.0']],
  ];
  for (const [label, args] of FLAVOURS) {
    it(label, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'zp-tar-sparse-'));
      try {
        // Six data runs (more than the 4 pairs an old GNU header holds) and a trailing hole.
        const size = 6 * 65536 + 12345;
        const runs: Array<[number, number]> = [];
        for (let i = 0; i < 6; i++) runs.push([i * 65536, 4096]);
        const content = sparseContent(size, runs);
        const fd = openSync(join(dir, 'holes.bin'), 'w');
        for (const [o, l] of runs) writeSync(fd, content, o, l, o);
        ftruncateSync(fd, size);
        closeSync(fd);
        execFileSync('tar', ['-C', dir, '--sparse', ...args, '-cf', join(dir, 'a.tar'), 'holes.bin']);
        const r = await readTarBuffer(readFileSync(join(dir, 'a.tar')), { chunking: CHUNKINGS[3] });
        expect(r.error).toBeUndefined();
        expect(r.entries.map(token)).toEqual([`f:holes.bin:${size}`]);
        expect(r.entries[0]!.data!.equals(content)).toBe(true);
        expect(r.entries[0]!.extra.sparseMap!.length).toBeGreaterThanOrEqual(6);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
