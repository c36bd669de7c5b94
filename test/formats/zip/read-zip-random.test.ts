/**
 * Random-access mode specifics: finding the end record (comments, look-alike records inside
 * the comment, trailing bytes), self-extractors with adjusted and unadjusted offsets, zip64 end
 * records, empty archives, the fallback to streaming when there is no end record, Unicode Path
 * extras, and entry types from external attributes.
 */
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildZip, extraField } from '../../support/zip-build.js';
import { readZip, readZipError } from './helpers.js';

const stub = Buffer.concat([Buffer.from('#!/bin/sh\nexec unzip "$0"\n'), Buffer.alloc(3000, 0x90)]);
const entries = [
  { name: 'bin/', data: '', mode: 0o40755 },
  { name: 'bin/run', data: '#!/bin/sh\necho hi\n', method: 8, mode: 0o100755 },
  { name: 'link', data: 'bin/run', mode: 0o120777 },
];

describe('end of central directory', () => {
  it('an archive comment, even one holding a fake end record, is handled', async () => {
    const fake = Buffer.concat([Buffer.from('PK\x05\x06'), Buffer.alloc(18, 0)]);
    const bytes = buildZip(entries, { comment: Buffer.concat([Buffer.from('comment '), fake, Buffer.from(' tail')]) }).bytes;
    const r = await readZip(bytes);
    expect(r.entries.map((e) => e.path.toString())).toEqual(['bin/', 'bin/run', 'link']);
    expect(r.warnings).toEqual([]);
  });

  it('bytes after the end record: read, with a warning', async () => {
    const bytes = Buffer.concat([buildZip(entries).bytes, Buffer.from('trailing garbage')]);
    const r = await readZip(bytes);
    expect(r.entries).toHaveLength(3);
    expect(r.warnings.map((w) => w.message)).toEqual([expect.stringMatching(/^zip: 16 bytes after the end of the archive \(byte \d+\) are ignored$/)]);
  });

  it('an empty archive (end record only) has no entries in both modes', async () => {
    const bytes = buildZip([]).bytes;
    expect(bytes.length).toBe(22);
    for (const mode of ['random', 'stream'] as const) {
      const r = await readZip(bytes, { mode });
      expect(r.entries).toEqual([]);
      expect(r.warnings).toEqual([]);
    }
  });

  it('zip64 end records are used', async () => {
    const bytes = buildZip(entries, { zip64End: true }).bytes;
    const r = await readZip(bytes);
    expect(r.entries.map((e) => e.path.toString())).toEqual(['bin/', 'bin/run', 'link']);
    expect(r.stats.variant).toBe('zip64');
    const s = await readZip(bytes, { mode: 'stream' });
    expect(s.stats.variant).toBe('zip64');
  });

  it('zip64 extras for sizes and offsets', async () => {
    const bytes = buildZip([
      { name: 'a', data: 'alpha', zip64: true },
      { name: 'b', data: 'beta'.repeat(100), method: 8, zip64: true },
    ]).bytes;
    for (const mode of ['random', 'stream'] as const) {
      const r = await readZip(bytes, { mode });
      expect(r.entries.map((e) => [e.path.toString(), e.size, e.data.length])).toEqual([
        ['a', 5, 5],
        ['b', 400, 400],
      ]);
      expect(r.stats.variant).toBe('zip64');
    }
  });

  it('a file without any end record falls back to streaming, with a warning', async () => {
    const bytes = buildZip(entries, { noCentralDirectory: true }).bytes;
    const r = await readZip(bytes);
    expect(r.entries.map((e) => e.path.toString())).toEqual(['bin/', 'bin/run', 'link']);
    expect(r.warnings.map((w) => w.message)[0]).toMatch(/no end of central directory record/);
  });
});

describe('self-extractors', () => {
  for (const offsetsFromZipStart of [false, true]) {
    it(`a stub before the archive, offsets ${offsetsFromZipStart ? 'from the zip part (unadjusted)' : 'from the file start'}`, async () => {
      const bytes = buildZip(entries, { prefix: stub, offsetsFromZipStart }).bytes;
      const r = await readZip(bytes);
      expect(r.entries.map((e) => [e.path.toString(), e.type, e.offset])).toEqual([
        ['bin/', 'directory', stub.length],
        ['bin/run', 'file', expect.any(Number)],
        ['link', 'symlink', expect.any(Number)],
      ]);
      expect(r.entries[1]!.data.toString()).toBe('#!/bin/sh\necho hi\n');
      expect(r.entries[2]!.linkTarget!.toString()).toBe('bin/run');
      expect(r.stats.variant).toBe('sfx');
      // Streaming: the stub is skipped as junk, the central directory cross-check still fits.
      const s = await readZip(bytes, { mode: 'stream' });
      expect(s.entries.map((e) => e.path.toString())).toEqual(['bin/', 'bin/run', 'link']);
      expect(s.warnings[0]!.message).toMatch(/skipped 3026 bytes at byte 0 that are not a zip header \(a self-extractor stub/);
    });
  }
});

describe('entries from the central directory', () => {
  it('types and modes from Unix attributes; DOS directory bit; defaults', async () => {
    const bytes = buildZip([
      { name: 'dir', data: '', versionMadeBy: 20, externalAttributes: 0x10 },
      { name: 'plain', data: 'p', versionMadeBy: 20, externalAttributes: 0x20 },
      { name: 'exe', data: 'x', mode: 0o104711 },
      { name: 'fifo', data: '', mode: 0o010600 },
      { name: 'slashdir/', data: '', mode: 0o100644 },
      { name: 'p7zip', data: 'q', versionMadeBy: 10 << 8, externalAttributes: ((0o100600 << 16) | 0x8000) >>> 0 },
    ]).bytes;
    const r = await readZip(bytes);
    expect(r.entries.map((e) => [e.path.toString(), e.type, e.mode.toString(8)])).toEqual([
      ['dir', 'directory', '755'],
      ['plain', 'file', '644'],
      ['exe', 'file', '4711'],
      ['fifo', 'fifo', '600'],
      ['slashdir/', 'directory', '644'],
      ['p7zip', 'file', '600'],
    ]);
  });

  it('mtime from the UT extra, uid/gid from ux; DOS time as UTC otherwise', async () => {
    const bytes = buildZip([
      { name: 'ut', data: '', mtime: 1_600_000_000, uid: 70000, gid: 12 },
      { name: 'dos', data: '', dosDate: (44 << 9) | (2 << 5) | 29, dosTime: (23 << 11) | (59 << 5) | 29 },
    ]).bytes;
    for (const mode of ['random', 'stream'] as const) {
      const r = await readZip(bytes, { mode });
      expect(r.entries.map((e) => [e.mtime, e.uid, e.gid])).toEqual([
        [1_600_000_000, 70000, 12],
        [Date.UTC(2024, 1, 29, 23, 59, 58) / 1000, 0, 0],
      ]);
    }
  });

  it('Unicode Path extra: used when its CRC matches the raw name, ignored otherwise', async () => {
    const raw = Buffer.from([0x63, 0x61, 0x66, 0x82]); // "café" in CP437
    const utf8 = Buffer.from('café', 'utf8');
    const bytes = buildZip([
      { name: raw, data: '1', unicodePath: utf8 },
      { name: Buffer.from('stale'), data: '2', unicodePath: Buffer.from('renamed'), unicodeCrc: crc32('other') },
    ]).bytes;
    for (const mode of ['random', 'stream'] as const) {
      const r = await readZip(bytes, { mode });
      expect(r.entries.map((e) => e.path.toString('utf8'))).toEqual(['café', 'stale']);
    }
  });

  it('a symlink target is the entry data, CRC-checked', async () => {
    const bytes = buildZip([{ name: 'l', data: '../target', mode: 0o120777, crc: 7 }]).bytes;
    expect((await readZipError(bytes))?.code).toBe('FORMAT_CHECKSUM');
  });

  it('a truncated zip64 extra (0xFFFFFFFF fields without their values) is corrupt', async () => {
    const bytes = buildZip([{ name: 'z', data: 'z', centralExtra: extraField(0x0001, Buffer.alloc(0)) }]).bytes;
    const patched = Buffer.from(bytes);
    const cd = patched.indexOf(Buffer.from('PK\x01\x02', 'latin1'));
    patched.writeUInt32LE(0xffffffff, cd + 20);
    expect((await readZipError(patched))?.message).toMatch(/lacks the zip64 values/);
  });
});
