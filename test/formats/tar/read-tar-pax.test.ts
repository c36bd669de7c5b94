/**
 * pax archives built in code: x/g scoping, keywords applied, raw byte paths (with and without
 * hdrcharset=BINARY), times, devices, the hard-link rule, GNU sparse 0.0/0.1/1.0, SUN.holesdata,
 * and the hostile cases (huge or negative sizes, malformed records, meta limits).
 */
import { describe, expect, it } from 'vitest';
import { newStats } from '../../../src/formats/format.js';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { CHUNKINGS, asAsync } from '../../support/chunking.js';
import {
  eoa,
  file,
  header,
  member,
  pax,
  paxBody,
  sparse10Map,
  sparseData,
  tar,
} from '../../support/tar-build.js';
import { isError, readTarBuffer, token } from './tar-helpers.js';

describe('pax scoping', () => {
  it('applies x to the next entry only and g to all following ones', async () => {
    const buf = tar(
      pax([['uname', 'globaluser'], ['uid', '4242']], 'g'),
      pax([['path', 'long/' + 'p'.repeat(150)], ['uid', '7']]),
      file('short', 'a'),
      file('plain', 'b'),
      pax([['uname', '']], 'g'),
      file('last', 'c', { uname: 'hdr' }),
      eoa(),
    );
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token), chunking.name).toEqual([`f:long/${'p'.repeat(150)}:1`, 'f:plain:1', 'f:last:1']);
      expect(r.entries.map((e) => [e.uid, e.uname])).toEqual([
        [7, 'globaluser'],
        [4242, 'globaluser'],
        [4242, 'hdr'],
      ]);
      expect(r.stats.metaRecords).toEqual({ 'pax-g': 2, 'pax-x': 1 });
      expect(r.stats.variant).toBe('pax');
      expect(r.entries[1]!.extra.pax).toEqual({ uname: Buffer.from('globaluser'), uid: Buffer.from('4242') });
      expect(r.entries[0]!.extra.variant).toBe('pax');
    }
  });

  it('applies a global-only pax header (tar-stream ignores it)', async () => {
    const r = await readTarBuffer(
      tar(pax([['mtime', '1000000000.5'], ['gid', '99'], ['gname', 'staff']], 'g'), file('a', 'x'), file('b', 'y'), eoa()),
    );
    expect(r.entries.map((e) => [e.mtime, e.mtimeNsec, e.gid, e.gname])).toEqual([
      [1000000000, 500000000, 99, 'staff'],
      [1000000000, 500000000, 99, 'staff'],
    ]);
  });

  it('does not apply path, linkpath or size from a global header', async () => {
    const r = await readTarBuffer(tar(pax([['path', 'evil'], ['size', '99']], 'g'), file('a', 'x'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:a:1']);
  });

  it('merges several x headers before one entry', async () => {
    const r = await readTarBuffer(tar(pax([['path', 'p1']]), pax([['uid', '5']]), file('h', 'x'), eoa()));
    expect(r.entries.map((e) => [e.path.toString(), e.uid])).toEqual([['p1', 5]]);
  });
});

describe('pax keywords', () => {
  it('keeps raw non-UTF-8 path bytes with or without hdrcharset=BINARY', async () => {
    const raw = Buffer.from('caf\xe9/\xa4\xa2', 'latin1');
    const r = await readTarBuffer(
      tar(
        pax([['path', raw]]),
        file('caf?', 'x'),
        pax([['hdrcharset', 'BINARY'], ['path', raw], ['uname', Buffer.from('\xe9', 'latin1')]]),
        file('caf?', 'y'),
        pax([['uname', Buffer.from('ünï', 'utf8')]]),
        file('u', 'z'),
        eoa(),
      ),
    );
    expect(r.entries[0]!.path.equals(raw)).toBe(true);
    expect(r.entries[1]!.path.equals(raw)).toBe(true);
    expect(r.entries[1]!.uname).toBe('\xe9');
    expect(r.entries[2]!.uname).toBe('ünï');
  });

  it('applies linkpath, size, times, ids and device numbers', async () => {
    const r = await readTarBuffer(
      tar(
        pax([['linkpath', 'target/' + 't'.repeat(120)], ['mtime', '-1.25'], ['SCHILY.nlink', '2'], ['SCHILY.ino', '77']]),
        member({ name: 'l', typeflag: '2', linkname: 'short' }),
        pax([['size', '5']]),
        member({ name: 'f', size: 0 }, Buffer.alloc(0)),
        Buffer.from('hello'.padEnd(512, '\0'), 'latin1'),
        pax([['SUN.devmajor', '300000'], ['SUN.devminor', '70000']]),
        member({ name: 'dev', typeflag: '3', devmajor: 1, devminor: 1 }),
        pax([['SCHILY.devmajor', '12'], ['SCHILY.devminor', '34']]),
        member({ name: 'blk', typeflag: '4' }),
        pax([['uid', '3000000000'], ['gid', '-1'], ['mtime', 'garbage']]),
        file('ids', 'i', { uid: 5, gid: 6 }),
        eoa(),
      ),
    );
    expect(r.error).toBeUndefined();
    expect(r.entries.map(token)).toEqual([
      `l:l->target/${'t'.repeat(120)}`,
      'f:f:5',
      'c:dev:300000,70000',
      'b:blk:12,34',
      'f:ids:1',
    ]);
    expect(r.entries[0]).toMatchObject({ mtime: -2, mtimeNsec: 750000000, nlink: 2, ino: 77 });
    expect(r.entries[1]!.data!.toString()).toBe('hello');
    expect(r.entries[4]).toMatchObject({ uid: 3000000000, gid: 6, mtime: 1600000000 });
    expect(r.warnings.map((w) => w.message)).toEqual([
      'tar: invalid pax gid value at byte 7680; the value is ignored',
      'tar: invalid pax mtime value at byte 7680; the header mtime is used',
    ]);
  });

  it('obeys the size of a hard link in a pax archive', async () => {
    const r = await readTarBuffer(
      tar(pax([['mtime', '1']]), file('t', 'data'), member({ name: 'h', typeflag: '1', linkname: 't' }, 'link'), file('n', 'x'), eoa()),
    );
    expect(r.entries.map(token)).toEqual(['f:t:4', 'h:h=>t', 'f:n:1']);
    expect(r.entries[1]!.size).toBe(4);
    expect(r.entries[1]!.data!.toString()).toBe('link');
  });
});

describe('pax hostile input', () => {
  it('skips an oversized pax record it does not apply, with a warning, without buffering it', async () => {
    const big = pax([['comment', 'c'.repeat(2 << 20)], ['uid', '77']]);
    const r = await readTarBuffer(tar(file('first', 'x'), big, file('a', 'x'), eoa()));
    expect(r.error).toBeUndefined();
    expect(r.entries.map(token)).toEqual(['f:first:1', 'f:a:1']);
    expect(r.entries[1]!.uid).toBe(77);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^tar: pax extended header record 'comment' of \d+ bytes exceeds the meta record limit of 1048576 bytes at byte 1536; the record is ignored$/)]);
  });

  it('refuses an oversized pax record it would have to apply (path) with LIMIT_META_SIZE', async () => {
    const big = pax([['path', 'p'.repeat(2 << 20)]]);
    const r = await readTarBuffer(tar(file('first', 'x'), big, file('a', 'x'), eoa()));
    expect(r.entries.map(token)).toEqual(['f:first:1']);
    expect(isError(r.error, 'LIMIT_META_SIZE')).toBe(true);
    expect((r.error as Error).message).toMatch(/^tar: pax extended header record 'path' of \d+ bytes exceeds the meta record limit of 1048576 bytes at byte 1536; raise maxMetaSize/);
    // With a higher limit it is read.
    const ok = await readTarBuffer(tar(big, file('a', 'x'), eoa()), { maxMetaSize: 4 << 20 });
    expect(ok.error).toBeUndefined();
    expect(ok.entries.map((e) => e.path.length)).toEqual([2 << 20]);
  });

  it('refuses a pax header over 64 times the meta limit without reading it', async () => {
    const h = header({ name: 'x', typeflag: 'x', size: 65 << 20 });
    const r = await readTarBuffer(tar(h, eoa()));
    expect(isError(r.error, 'LIMIT_META_SIZE')).toBe(true);
    expect(r.stats.bytesRead).toBe(512);
  });

  it('refuses a g header claiming 4 GiB before reading it', async () => {
    const h = header({ name: 'g', typeflag: 'g', size: 0o40000000000 });
    const r = await readTarBuffer(tar(h, eoa()));
    expect(isError(r.error, 'LIMIT_META_SIZE')).toBe(true);
    expect(r.stats.bytesRead).toBe(512);
  });

  it('fails on negative and non-numeric pax sizes', async () => {
    for (const v of ['-1', '-19769411113659727436', 'abc', '', '1.5']) {
      const r = await readTarBuffer(tar(pax([['size', v]]), file('a', 'x'), eoa()));
      if (v === '') {
        // An empty value deletes the keyword: the header size stands.
        expect(r.entries.map(token)).toEqual(['f:a:1']);
        continue;
      }
      expect(isError(r.error, 'FORMAT_CORRUPT'), v).toBe(true);
      expect(r.error?.toString()).toMatch(/at byte 1024/);
    }
    const huge = await readTarBuffer(tar(pax([['size', '99999999999999999999']]), file('a', 'x'), eoa()));
    expect(isError(huge.error, 'FORMAT_UNSUPPORTED')).toBe(true);
  });

  it('warns on a malformed record and keeps the records before it', async () => {
    const body = Buffer.concat([paxBody([['uid', '9']]), Buffer.from('20 path=no-newline!!')]);
    const r = await readTarBuffer(tar(member({ name: 'x', typeflag: 'x' }, body), file('a', 'x'), eoa()));
    expect(r.entries.map((e) => [e.path.toString(), e.uid])).toEqual([['a', 9]]);
    expect(r.warnings.map((w) => w.message)).toEqual([
      'tar: malformed pax extended header record at byte 520; the rest of that header is ignored',
    ]);
  });

  it('warns when an x header is not followed by an entry', async () => {
    const r = await readTarBuffer(tar(file('a', 'x'), pax([['path', 'p']]), eoa()));
    expect(r.entries.map(token)).toEqual(['f:a:1']);
    expect(r.warnings.map((w) => w.message)).toEqual([
      'tar: extended header or long name is not followed by an entry at byte 1024',
    ]);
  });

  it('bounds the meta bytes accumulated for one entry and in global headers', async () => {
    const piece = pax([['comment', 'c'.repeat(400)]]);
    const many = await readTarBuffer(tar(piece, piece, piece, file('a', 'x'), eoa()), { maxMetaSize: 1000 });
    expect(isError(many.error, 'LIMIT_META_SIZE')).toBe(true);
    const g = (n: number) => pax([[`k${n}`, 'v'.repeat(400)]], 'g');
    const globals = await readTarBuffer(tar(g(1), g(2), g(3), file('a', 'x'), eoa()), { maxMetaSize: 1000 });
    expect(isError(globals.error, 'LIMIT_META_SIZE')).toBe(true);
    // Replacing the same global keyword does not accumulate.
    const same = await readTarBuffer(tar(g(1), g(1), g(1), file('a', 'x'), eoa()), { maxMetaSize: 1000 });
    expect(same.error).toBeUndefined();
  });
});

/** A file with non-zero bytes in `runs`, zeros elsewhere. */
function content(size: number, runs: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(size);
  for (const [o, l] of runs) for (let k = 0; k < l; k++) b[o + k] = 0x41 + ((o + k) % 26);
  return b;
}

describe('GNU sparse in pax', () => {
  const runs: Array<[number, number]> = [
    [0, 4096],
    [65536, 100],
    [100000, 3000],
  ];
  const full = content(120000, runs);
  const data = sparseData(full, runs);

  it('1.0: map in the body, real name and size from the x header', async () => {
    const buf = tar(
      pax([
        ['GNU.sparse.major', '1'],
        ['GNU.sparse.minor', '0'],
        ['GNU.sparse.name', 'dir/sparse.dat'],
        ['GNU.sparse.realsize', '120000'],
      ]),
      file('dir/GNUSparseFile.1/sparse.dat', Buffer.concat([sparse10Map(runs), data])),
      file('after', 'x'),
      eoa(),
    );
    for (const chunking of CHUNKINGS) {
      const r = await readTarBuffer(buf, { chunking });
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token), chunking.name).toEqual(['f:dir/sparse.dat:120000', 'f:after:1']);
      expect(r.entries[0]!.data!.equals(full)).toBe(true);
      expect(r.entries[0]!.extra.sparseMap).toEqual(runs);
    }
    const listing = await readTarBuffer(buf, { bodies: false });
    expect(listing.entries.map(token)).toEqual(['f:dir/sparse.dat:120000', 'f:after:1']);
  });

  it('1.0: a map spanning several blocks, and one over the meta limit', async () => {
    const many: Array<[number, number]> = [];
    for (let i = 0; i < 300; i++) many.push([i * 1000, 10]);
    const f = content(300000, many);
    const body = Buffer.concat([sparse10Map(many), sparseData(f, many)]);
    const x = pax([
      ['GNU.sparse.major', '1'],
      ['GNU.sparse.minor', '0'],
      ['GNU.sparse.realsize', '300000'],
    ]);
    const r = await readTarBuffer(tar(x, file('s', body), eoa()), { chunking: CHUNKINGS[3] });
    expect(r.error).toBeUndefined();
    expect(r.entries[0]!.data!.equals(f)).toBe(true);
    const limited = await readTarBuffer(tar(x, file('s', body), eoa()), { maxMetaSize: 1024 });
    expect(isError(limited.error, 'LIMIT_META_SIZE')).toBe(true);
  });

  it('0.1: GNU.sparse.map', async () => {
    const r = await readTarBuffer(
      tar(
        pax([
          ['GNU.sparse.size', '120000'],
          ['GNU.sparse.numblocks', '3'],
          ['GNU.sparse.name', 'real-name'],
          ['GNU.sparse.map', runs.flat().join(',')],
        ]),
        file('fake-name', data),
        eoa(),
      ),
      { chunking: CHUNKINGS[1] },
    );
    expect(r.entries.map(token)).toEqual(['f:real-name:120000']);
    expect(r.entries[0]!.data!.equals(full)).toBe(true);
  });

  it('0.0: repeated GNU.sparse.offset / numbytes records', async () => {
    const recs: Array<[string, string]> = [
      ['GNU.sparse.size', '120000'],
      ['GNU.sparse.numblocks', '3'],
    ];
    for (const [o, l] of runs) recs.push(['GNU.sparse.offset', String(o)], ['GNU.sparse.numbytes', String(l)]);
    const r = await readTarBuffer(tar(pax(recs), file('zero', data), eoa()), { chunking: CHUNKINGS[2] });
    expect(r.entries.map(token)).toEqual(['f:zero:120000']);
    expect(r.entries[0]!.data!.equals(full)).toBe(true);
    expect(r.entries[0]!.extra.pax?.['GNU.sparse.offset']?.toString()).toBe('100000');
  });

  it('rejects overlapping runs and runs past the real size', async () => {
    const bad = await readTarBuffer(
      tar(pax([['GNU.sparse.size', '100'], ['GNU.sparse.map', '0,50,10,50']]), file('x', Buffer.alloc(100)), eoa()),
    );
    expect(isError(bad.error, 'FORMAT_CORRUPT')).toBe(true);
    const past = await readTarBuffer(
      tar(pax([['GNU.sparse.size', '10'], ['GNU.sparse.map', '0,50']]), file('x', Buffer.alloc(50)), eoa()),
    );
    expect(isError(past.error, 'FORMAT_CORRUPT')).toBe(true);
  });

  it('reading a sparse body after the next entry is requested throws ENTRY_BODY_STALE', async () => {
    const buf = tar(pax([['GNU.sparse.size', '120000'], ['GNU.sparse.map', runs.flat().join(',')]]), file('s', data), file('n', 'x'), eoa());
    const it = tarFormat.read(new ByteSource(asAsync([buf])), newStats(''), { onWarning: () => {} });
    const s = (await it.next()).value!;
    await it.next();
    await expect(async () => {
      for await (const _ of s.body) void _;
    }).rejects.toMatchObject({ code: 'ENTRY_BODY_STALE' });
  });
});

describe('SUN.holesdata', () => {
  it('keeps the whole body and parses the map into extra.sparseMap', async () => {
    const body = Buffer.concat([Buffer.alloc(512, 0x61), Buffer.alloc(512), Buffer.alloc(512, 0x63)]);
    const r = await readTarBuffer(tar(pax([['SUN.holesdata', ' 0 512 1024 1536']]), file('hole', body), eoa()));
    expect(r.entries.map(token)).toEqual(['f:hole:1536']);
    expect(r.entries[0]!.data!.equals(body)).toBe(true);
    expect(r.entries[0]!.extra.sparseMap).toEqual([
      [0, 512],
      [1024, 512],
    ]);
  });
  it('warns on a malformed map and still delivers the body', async () => {
    const r = await readTarBuffer(tar(pax([['SUN.holesdata', ' 0 99999']]), file('hole', 'abc'), eoa()));
    expect(r.entries[0]!.data!.toString()).toBe('abc');
    expect(r.entries[0]!.extra.sparseMap).toBeUndefined();
    expect(r.warnings.length).toBe(1);
  });
});
