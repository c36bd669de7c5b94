/**
 * Solaris cpio extensions (formats.md §3.6): extended-attribute records (type 0xB000), ACL
 * records (mode SECMODE 0xE080) and sparse files (C_ISSPARSE), built to the layouts of the
 * illumos cpio source; unknown type bits.
 */
import { describe, expect, it } from 'vitest';
import { buildCpio, solarisHolesText, type BuildEntry, type BuildVariant } from '../../support/cpio-build.js';
import { CHUNKINGS } from '../../support/chunking.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

const VARIANTS: BuildVariant[] = ['odc', 'newc', 'crc', 'bin-le', 'bin-be'];
const XATTR = 0xb000;
const SECMODE = 0xe080;
const C_ISSPARSE = 0o200000;

/** A Solaris sec_attr record: type char, 7 octal digits, text, NUL. */
function secAttr(type: string, count: number, text: string): Buffer {
  return Buffer.from(`${type}${count.toString(8).padStart(7, '0')}${text}\0`, 'latin1');
}

describe.each(VARIANTS)('%s: extended attributes and ACLs', (variant) => {
  const xattrHdr: BuildEntry = { name: '/dev/null/attr.hdr', mode: XATTR | 0o644, data: '1.0\0' + '0'.repeat(40) };
  const xattrData: BuildEntry = { name: '/dev/null/attr', mode: XATTR | 0o644, data: 'attribute value' };

  it('consumes xattr records and counts them, never emitting them', async () => {
    const bytes = buildCpio(variant, [{ name: 'f', data: 'F' }, xattrHdr, xattrData, { name: 'g' }]);
    for (const c of CHUNKINGS) {
      const { entries, stats } = await readCpio(c.split(bytes));
      expect(entries.map(manifestItem)).toEqual(['f:f:1', 'f:g:0']);
      expect(stats.metaRecords).toEqual({ 'solaris-xattr': 2 });
      expect(stats.entries).toBe(2);
    }
  });

  it('attaches an ACL record to the next entry only', async () => {
    const acl = secAttr('1', 4, 'user::rw-,group::r--,mask:r--,other:r--');
    const bytes = buildCpio(variant, [
      { name: 'f', mode: SECMODE, data: acl },
      { name: 'f', data: 'F' },
      { name: 'g' },
    ]);
    const { entries, stats } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['f:f:1', 'f:g:0']);
    expect(entries.map((e) => e.extra.acl)).toEqual(['user::rw-,group::r--,mask:r--,other:r--', undefined]);
    expect(stats.metaRecords).toEqual({ 'solaris-acl': 1 });
  });

  it('joins several ACLs of one record and keeps NFSv4 text', async () => {
    const body = Buffer.concat([
      secAttr('3', 2, 'owner@:rw-p--aARWcCos:-------:allow,everyone@:r-----a-R-c--s:-------:allow'),
      secAttr('1', 1, 'user::rwx'),
    ]);
    const bytes = buildCpio(variant, [{ name: 'd', mode: SECMODE, data: body }, { name: 'd', mode: 0o40755 }]);
    const { entries } = await readCpio([bytes]);
    expect(entries[0]!.extra.acl).toBe(
      'owner@:rw-p--aARWcCos:-------:allow,everyone@:r-----a-R-c--s:-------:allow\nuser::rwx',
    );
  });

  it('drops an ACL that belonged to an attribute record', async () => {
    const bytes = buildCpio(variant, [
      { name: 'f', mode: SECMODE, data: secAttr('1', 1, 'user::r--') },
      xattrHdr,
      xattrData,
      { name: 'g' },
    ]);
    const { entries, stats } = await readCpio([bytes]);
    expect(entries.map((e) => [manifestItem(e), e.extra.acl])).toEqual([['f:g:0', undefined]]);
    expect(stats.metaRecords).toEqual({ 'solaris-acl': 1, 'solaris-xattr': 2 });
  });

  it('limits the ACL record size', async () => {
    const acl = secAttr('1', 1, 'x'.repeat(300));
    const bytes = buildCpio(variant, [{ name: 'f', mode: SECMODE, data: acl }, { name: 'f' }]);
    const e = await readError([bytes], { maxMetaSize: 256 });
    expect(isZ(e) && e.code).toBe('LIMIT_META_SIZE');
  });

  it('refuses unknown file type bits, naming the entry', async () => {
    for (const type of [0o030000, 0o050000, 0o070000, 0o150000, 0o170000]) {
      const e = await readError([buildCpio(variant, [{ name: 'weird', mode: type | 0o644 }])]);
      expect(isZ(e) && [e.code, e.path?.toString()]).toEqual(['FORMAT_CORRUPT', 'weird']);
      expect((e as Error).message).toContain(`unknown file type 0o${type.toString(8)} in the mode of 'weird'`);
    }
  });

  it('reads type bits 0 as a regular file', async () => {
    const { entries } = await readCpio([buildCpio(variant, [{ name: 'v6', mode: 0o644, data: 'v6' }])]);
    expect(entries.map((e) => [manifestItem(e), e.mode])).toEqual([['f:v6:2', 0o644]]);
  });
});

describe.each(['odc', 'newc'] as const)('%s: Solaris sparse files', (variant) => {
  const size = 128 * 1024;
  const original = Buffer.alloc(size);
  original.fill(0x61, 0, 4096);
  original.fill(0x62, 126976, 131072);
  const runs: Array<[number, number]> = [
    [0, 4096],
    [126976, 4096],
  ];
  /** A holes text with a hand-written pair list. */
  const holes = (total: number, pairs: string): Buffer => {
    const n = 32 + pairs.length + 1;
    return Buffer.from(`${String(n).padStart(10)} ${String(total).padStart(20)} ${pairs}\0`, 'latin1');
  };
  const stored = (r: Array<[number, number]>, total: number, src: Buffer) =>
    Buffer.concat([solarisHolesText(r, total), ...r.map(([o, l]) => src.subarray(o, o + l))]);

  it('expands the holes and reports the map', async () => {
    const bytes = buildCpio(variant, [
      { name: 'sparse.dat', mode: C_ISSPARSE | 0o100644, data: stored(runs, size, original) },
      { name: 'after', data: 'z' },
    ]);
    for (const c of CHUNKINGS) {
      const { entries } = await readCpio(c.split(bytes));
      expect(entries.map(manifestItem)).toEqual([`f:sparse.dat:${size}`, 'f:after:1']);
      expect(entries[0]!.extra.sparseMap).toEqual(runs);
      expect(entries[0]!.mode).toBe(0o644);
      expect(entries[0]!.data.equals(original)).toBe(true);
      expect(entries[1]!.data.toString()).toBe('z');
    }
  });

  it('skips a sparse body it is not asked for', async () => {
    const bytes = buildCpio(variant, [
      { name: 'sparse.dat', mode: C_ISSPARSE | 0o100644, data: stored(runs, size, original) },
      { name: 'after', data: 'z' },
    ]);
    const { entries } = await readCpio([bytes], { skipBodies: true });
    expect(entries.map(manifestItem)).toEqual([`f:sparse.dat:${size}`, 'f:after:1']);
  });

  it('restores a hole at the end and a hole at the start', async () => {
    const file = Buffer.alloc(10000);
    file.fill(0x63, 5000, 6000);
    const r: Array<[number, number]> = [[5000, 1000]];
    const bytes = buildCpio(variant, [{ name: 's', mode: C_ISSPARSE | 0o100600, data: stored(r, 10000, file) }]);
    const { entries } = await readCpio([bytes]);
    expect(entries[0]!.size).toBe(10000);
    expect(entries[0]!.data.equals(file)).toBe(true);
  });

  it('rejects inconsistent sparse information', async () => {
    const good = stored(runs, size, original);
    const broken: Array<[string, Buffer]> = [
      ['holes size larger than the file', Buffer.concat([Buffer.from('     99999'), good.subarray(10)])],
      ['not a number', Buffer.concat([Buffer.from('      abcd'), good.subarray(10)])],
      ['data sizes that do not add up', stored(runs, size, original).subarray(0, good.length - 1)],
      ['last hole not at the file size', Buffer.concat([holes(size, '0 4096 126976 131000'), Buffer.alloc(8120)])],
      ['offsets not ascending', Buffer.concat([holes(size, '126976 131072 0 4096'), Buffer.alloc(8192)])],
      [
        'a missing NUL',
        Buffer.concat([holes(size, '0 4096 126976 131072').subarray(0, -1), Buffer.from(' '), Buffer.alloc(8192)]),
      ],
      ['a pair without its hole', Buffer.concat([holes(size, '0 4096 126976'), Buffer.alloc(8192)])],
    ];
    for (const [why, data] of broken) {
      const bytes = buildCpio(variant, [{ name: 's', mode: C_ISSPARSE | 0o100644, data }]);
      const e = await readError([bytes]);
      expect(isZ(e) && [e.code, e.path?.toString()], why).toEqual(['FORMAT_CORRUPT', 's']);
      expect((e as Error).message, why).toContain("invalid sparse file information for 's'");
    }
  });

  it('reads members of 32 bytes or less with the flag as plain data (as Solaris cpio does)', async () => {
    const bytes = buildCpio(variant, [{ name: 'tiny', mode: C_ISSPARSE | 0o100644, data: 'only 13 bytes' }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map((e) => [manifestItem(e), e.data.toString(), e.extra.sparseMap])).toEqual([
      ['f:tiny:13', 'only 13 bytes', undefined],
    ]);
  });
});

describe('sparse flag outside odc and newc', () => {
  it('is ignored by crc (Solaris writes no sparse crc members)', async () => {
    const data = 'x'.repeat(40);
    const bytes = buildCpio('crc', [{ name: 'f', mode: C_ISSPARSE | 0o100644, data }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map((e) => [manifestItem(e), e.data.toString()])).toEqual([['f:f:40', data]]);
  });
});
