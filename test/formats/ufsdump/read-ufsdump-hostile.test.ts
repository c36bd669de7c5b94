/**
 * Hostile and broken dumps, each built in code next to its assertion: every failure is a
 * ZoneP2vError of the right code naming the byte offset of the faulty header or entry.
 */
import { describe, expect, it } from 'vitest';
import { ZoneP2vError } from '../../../src/errors.js';
import { ufsdumpFormat } from '../../../src/formats/ufsdump/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats } from '../../../src/formats/format.js';
import { asAsync } from '../../support/chunking.js';
import { fixChecksum, headerUnits, writeUfsdump, type DumpNode } from '../../support/ufsdump-write.js';
import { readDump } from './helpers.js';

const ORDER = 'be' as const;
const small: DumpNode[] = [
  { path: '.', type: 'dir' },
  { path: 'd', type: 'dir' },
  { path: 'd/f', type: 'file', data: Buffer.alloc(2000, 0x61) },
  { path: 'l', type: 'symlink', data: 'd/f' },
  { path: 'big', type: 'file', data: Buffer.alloc(600 * 1024, 0x62) },
];
const base = () => writeUfsdump(small, { order: ORDER });
const w32 = (b: Buffer, off: number, v: number) => b.writeUInt32BE(v >>> 0, off);
const w16 = (b: Buffer, off: number, v: number) => b.writeUInt16BE(v, off);

/** Header of inode `ino` of the given type (first match). */
function hdr(dump: Buffer, ino: number, type = 2) {
  const h = headerUnits(dump, ORDER).find((x) => x.ino === ino && x.type === type);
  if (!h) throw new Error(`no header type ${type} for inode ${ino}`);
  return h.off;
}
// inodes: . = 2, d = 3, d/f = 4, l = 5, big = 6

async function fails(dump: Buffer, opts: Parameters<typeof readDump>[1] = {}) {
  const r = await readDump(dump, opts);
  expect(r.error).toBeInstanceOf(ZoneP2vError);
  return r.error as ZoneP2vError;
}

describe('ufsdump: corrupt headers', () => {
  it('a flipped byte in a header is FORMAT_CHECKSUM at that header', async () => {
    const d = base();
    const at = hdr(d, 4);
    d[at + 100]! ^= 0x40;
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CHECKSUM', offset: at, layer: 'ufsdump' });
  });

  it('a data unit where a header is expected is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = hdr(d, 5); // the symlink header: drop the unit before it (the last of d/f's data)
    const cut = Buffer.concat([d.subarray(0, at - 1024), d.subarray(at)]);
    const e = await fails(cut);
    expect(e).toMatchObject({ code: 'FORMAT_CORRUPT' });
    expect(e.message).toMatch(/expected a header|ends .* early/);
    expect(typeof e.offset).toBe('number');
  });

  it('c_count above 512 is FORMAT_CORRUPT at c_count', async () => {
    const d = base();
    const at = hdr(d, 4);
    w32(d, at + 160, 513);
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 160 });
  });

  it('an inode number beyond the bitmaps is FORMAT_CORRUPT at c_inumber', async () => {
    const d = base();
    const at = hdr(d, 4);
    w32(d, at + 20, 1_000_000);
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 20 });
  });

  it('an unknown header type is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = hdr(d, 5);
    w32(d, at, 9);
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at });
  });

  it('a size of 2^53 or more is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = hdr(d, 4);
    w32(d, at + 32 + 8, 0x00400000);
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 40 });
  });

  it('a missing TS_ADDR continuation is FORMAT_CORRUPT at the header found instead', async () => {
    const d = base();
    const at = hdr(d, 6, 4);
    w32(d, at, 2); // TS_ADDR → TS_INODE
    fixChecksum(d, at, ORDER);
    const e = await fails(d);
    expect(e).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at });
    expect(e.message).toMatch(/inode 6 ends \d+ bytes early/);
  });

  it('a dump not starting with TS_TAPE is refused, and a UFS2 or OFS dump is unsupported', async () => {
    const d = base();
    w32(d, 0, 2);
    fixChecksum(d, 0, ORDER);
    expect(ufsdumpFormat.bid(d.subarray(0, 1024))).toBeNull();
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: 0 });

    const u = base();
    w32(u, 24, 0x19540119);
    fixChecksum(u, 0, ORDER);
    expect(ufsdumpFormat.bid(u.subarray(0, 1024))).toEqual({ bits: 72, variant: 'ufs2-be' });
    expect(await fails(u)).toMatchObject({ code: 'FORMAT_UNSUPPORTED', offset: 24 });

    const o = base();
    w32(o, 24, 60011);
    expect(ufsdumpFormat.bid(o.subarray(0, 1024))).toEqual({ bits: 40, variant: 'old-be' });
    expect(await fails(o)).toMatchObject({ code: 'FORMAT_UNSUPPORTED', offset: 24 });
  });

  it('a volume header of another dump is FORMAT_CORRUPT', async () => {
    const d = writeUfsdump(small, { order: ORDER, volumeBreak: { before: 'l' } });
    const at = headerUnits(d, ORDER).filter((h) => h.type === 1)[1]!.off;
    w32(d, at + 4, 1234);
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 4 });
  });
});

describe('ufsdump: corrupt directories', () => {
  const rootData = (d: Buffer) => hdr(d, 2) + 1024;

  it('a record length of 0 is FORMAT_CORRUPT at the entry', async () => {
    const d = base();
    const at = rootData(d);
    w16(d, at + 4, 0);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 4 });
  });

  it('an entry running past its 512-byte block is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = rootData(d);
    w16(d, at + 4, 600);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 4 });
  });

  it("a name longer than its record, or holding '/', is FORMAT_CORRUPT", async () => {
    const d = base();
    const at = rootData(d);
    w16(d, at + 6, 200); // "." claims 200 bytes in a 12-byte record
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at + 6 });
    const s = base();
    const third = rootData(s) + 12 + 12; // '.', '..', then 'd'
    s[third + 8] = 0x2f;
    expect(await fails(s)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: third + 8 });
  });

  it('a directory named twice (a loop back to the root) is FORMAT_CORRUPT', async () => {
    const d = base();
    const dirData = hdr(d, 3) + 1024; // d's entries: '.', '..', 'f'
    w32(d, dirData + 24, 2); // d/f → the root directory
    const e = await fails(d);
    expect(e).toMatchObject({ code: 'FORMAT_CORRUPT', offset: hdr(d, 3) });
    expect(e.message).toMatch(/more than one name/);
  });

  it('a hole in a directory is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = hdr(d, 3);
    d[at + 164] = 0;
    fixChecksum(d, at, ORDER);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: at });
  });

  it('a dump without its root directory is FORMAT_CORRUPT', async () => {
    const d = base();
    const at = hdr(d, 2);
    w32(d, at + 20, 9);
    fixChecksum(d, at, ORDER);
    expect((await fails(d)).message).toMatch(/no root directory/);
  });
});

describe('ufsdump: truncation and limits', () => {
  it('the end of data before TS_END is FORMAT_TRUNCATED, at every header boundary', async () => {
    const d = base();
    for (const h of headerUnits(d, ORDER).filter((x) => x.type !== 5)) {
      if (h.off === 0) continue;
      const e = await fails(d.subarray(0, h.off), { bodies: false });
      expect(e.code).toBe('FORMAT_TRUNCATED');
      expect(e.offset).toBe(h.off);
    }
  });

  it('the end of data inside a body is FORMAT_TRUNCATED whether the body is read or skipped', async () => {
    const d = base();
    const cut = d.subarray(0, hdr(d, 6) + 1024 + 5000);
    expect((await fails(cut)).code).toBe('FORMAT_TRUNCATED');
    expect((await fails(cut, { bodies: false })).code).toBe('FORMAT_TRUNCATED');
  });

  it('a directory map over its limit is LIMIT_MEMORY', async () => {
    const many: DumpNode[] = [{ path: '.', type: 'dir' }];
    for (let i = 0; i < 200; i++) many.push({ path: `file-${i}-${'x'.repeat(40)}`, type: 'fifo' });
    const d = writeUfsdump(many, { order: ORDER });
    const e = await fails(d, { maxDirectoryMapBytes: 4096 });
    expect(e).toMatchObject({ code: 'LIMIT_MEMORY', layer: 'ufsdump' });
    expect(typeof e.offset).toBe('number');
    expect((await readDump(d)).entries.length).toBe(201);
  });

  it('a symlink target over maxMetaSize is LIMIT_META_SIZE', async () => {
    const d = writeUfsdump([{ path: '.', type: 'dir' }, { path: 'l', type: 'symlink', data: 'x'.repeat(300) }], { order: ORDER });
    expect(await fails(d, { maxMetaSize: 100 })).toMatchObject({ code: 'LIMIT_META_SIZE' });
  });

  it('a body read after the next entry was requested is ENTRY_BODY_STALE', async () => {
    const src = new ByteSource(asAsync([base()]));
    const it = ufsdumpFormat.read(src, newStats(''), { onWarning: () => {} });
    let e = (await it.next()).value;
    while (e.type !== 'file') e = (await it.next()).value;
    const stale = e.body;
    await it.next();
    await expect((async () => {
      for await (const c of stale) void c;
    })()).rejects.toMatchObject({ code: 'ENTRY_BODY_STALE' });
    await it.return(undefined);
  });
});

describe('ufsdump: Linux compressed records', () => {
  const linux = () => writeUfsdump(small, { order: 'le', dialect: 'linux', compress: 'zlib' });

  it('a record that does not inflate is FORMAT_CORRUPT at its length word', async () => {
    const d = linux();
    d[10240 + 4 + 10]! ^= 0xff;
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: 10240 });
  });

  it('an absurd record length is FORMAT_CORRUPT', async () => {
    const d = linux();
    d.writeUInt32LE((5_000_000 << 4) | 1, 10240);
    expect(await fails(d)).toMatchObject({ code: 'FORMAT_CORRUPT', offset: 10240 });
  });

  it('a stream cut inside a record is FORMAT_TRUNCATED', async () => {
    const d = linux();
    expect((await fails(d.subarray(0, 10240 + 40))).code).toBe('FORMAT_TRUNCATED');
  });
});
