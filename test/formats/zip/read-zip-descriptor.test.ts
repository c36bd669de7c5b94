/**
 * Data descriptors (flag bit 3), built in code: with and without the `PK\7\8` signature,
 * 32- and 64-bit sizes, deflate (the inflater finds the end) and stored (the scanner finds the
 * descriptor, even with `PK\7\8` and look-alike descriptors inside the data), with the size in
 * the local header (bsdtar) or not (Java, Go: decoded ahead of the entry). Every archive reads
 * identically in random-access mode and in streaming mode under every chunking.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNKINGS, prng } from '../../support/chunking.js';
import { buildZip, type ZipBuildEntry } from '../../support/zip-build.js';
import { readZip, readZipError } from './helpers.js';

const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

/** Bytes that look like the start of a descriptor or of zip records, inside data. */
function trickyData(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const parts: Buffer[] = [];
  let len = 0;
  while (len < n) {
    const pick = rnd();
    let p: Buffer;
    if (pick < 0.1) p = Buffer.from('PK\x07\x08', 'latin1');
    else if (pick < 0.15) p = Buffer.from('PK\x03\x04', 'latin1');
    else if (pick < 0.2) p = Buffer.concat([Buffer.from('PK\x07\x08', 'latin1'), u32(0x12345678), u32(len), u32(len)]);
    else p = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
    parts.push(p);
    len += p.length;
  }
  return Buffer.concat(parts).subarray(0, n);
}

interface Case {
  name: string;
  entries: ZipBuildEntry[];
}

const text = 'hello, data descriptor\n'.repeat(20);
/**
 * Over 64 KiB (more than one inflate output chunk) but compressible to ~25 KiB: deflate input in
 * one-byte chunks costs a zlib round trip per byte, so compressed sizes stay small here.
 */
const big = Buffer.from(Array.from({ length: 6_000 }, (_, i) => `row ${i} ${(i * i) % 977}\n`).join(''));
const noise = randomBytes(5000);

const CASES: Case[] = [
  {
    name: 'deflate, descriptor with signature, sizes only in the descriptor',
    entries: [
      { name: 'a.txt', data: text, method: 8, descriptor: 'sig' },
      { name: 'empty', data: '', method: 8, descriptor: 'sig' },
      { name: 'b.bin', data: big, method: 8, descriptor: 'sig' },
    ],
  },
  {
    name: 'deflate, descriptor without signature',
    entries: [
      { name: 'a.txt', data: text, method: 8, descriptor: 'nosig' },
      { name: 'b.bin', data: noise, method: 8, descriptor: 'nosig' },
    ],
  },
  {
    name: 'deflate, zip64 descriptors (64-bit sizes), with and without signature',
    entries: [
      { name: 'z1', data: text, method: 8, descriptor: 'sig', zip64: true },
      { name: 'z2', data: '', method: 8, descriptor: 'nosig', zip64: true },
      { name: 'z3', data: noise.subarray(0, 777), method: 8, descriptor: 'nosig', zip64: true },
    ],
  },
  {
    name: 'deflate, descriptor and the size in the local header too (bsdtar)',
    entries: [
      { name: 'a.txt', data: text, method: 8, descriptor: 'sig', sizeInLocalHeader: true },
      { name: 'b.bin', data: big, method: 8, descriptor: 'nosig', sizeInLocalHeader: true },
    ],
  },
  {
    name: 'stored, descriptor, PK\\7\\8 and look-alike descriptors inside the data',
    entries: [
      { name: 's1', data: trickyData(3000, 1), descriptor: 'sig' },
      { name: 's2', data: trickyData(70_000, 2), descriptor: 'nosig' },
      { name: 's3', data: '', descriptor: 'sig' },
      { name: 's4', data: trickyData(500, 3), descriptor: 'sig', zip64: true },
      { name: 's5', data: trickyData(500, 4), descriptor: 'nosig', zip64: true },
    ],
  },
  {
    name: 'stored, descriptor, size in the local header (bsdtar -cf x.zip --options zip:compression=store)',
    entries: [
      { name: 's1', data: trickyData(66_000, 5), descriptor: 'sig', sizeInLocalHeader: true },
      { name: 's2', data: 'x', descriptor: 'nosig', sizeInLocalHeader: true },
    ],
  },
  {
    name: 'stored data holding a whole zip (signatures everywhere), descriptor with signature',
    entries: [
      { name: 'inner.zip', data: buildZip([{ name: 'in', data: 'PK\x07\x08', descriptor: 'sig' }]).bytes, descriptor: 'sig' },
      { name: 'after', data: 'after', method: 8 },
    ],
  },
  {
    name: 'directories written with a descriptor and an empty deflate stream (Java)',
    entries: [
      { name: 'META-INF/', data: '', method: 8, descriptor: 'sig' },
      { name: 'META-INF/MANIFEST.MF', data: 'Manifest-Version: 1.0\r\n', method: 8, descriptor: 'sig' },
    ],
  },
];

describe('data descriptors', () => {
  for (const c of CASES) {
    const bytes = buildZip(c.entries).bytes;
    const expected = c.entries.map((e) => [Buffer.from(e.name as string, 'latin1').toString('latin1'), Buffer.from(e.data ?? '').toString('hex')]);
    describe(c.name, () => {
      it('random access', async () => {
        const r = await readZip(bytes);
        expect(r.entries.map((e) => [e.path.toString('latin1'), e.data.toString('hex')])).toEqual(expected);
        expect(r.warnings).toEqual([]);
      });
      for (const chunking of CHUNKINGS) {
        it(`streaming (${chunking.name} chunks)`, async () => {
          const r = await readZip(bytes, { mode: 'stream', chunks: chunking.split });
          expect(r.entries.map((e) => [e.path.toString('latin1'), e.data.toString('hex')])).toEqual(expected);
          expect(r.entries.map((e) => e.size)).toEqual(c.entries.map((e) => (e.name.toString().endsWith('/') ? 0 : Buffer.from(e.data ?? '').length)));
          expect(r.warnings.map((w) => w.message)).toEqual([]);
        });
        it(`streaming, bodies skipped (${chunking.name} chunks)`, async () => {
          const r = await readZip(bytes, { mode: 'stream', chunks: chunking.split, skipBodies: true });
          expect(r.entries.map((e) => e.path.toString('latin1'))).toEqual(expected.map((x) => x[0]));
        });
      }
    });
  }

  it('a descriptor shape is chosen by the byte counts, not guessed: 32-bit sizes that happen to be followed by zeros', async () => {
    // An empty deflate entry: its zip64 descriptor reads as a valid 32-bit one too
    // (csize 2, usize 0); what follows decides.
    const bytes = buildZip([
      { name: 'e', data: '', method: 8, descriptor: 'nosig', zip64: true },
      { name: 'f', data: 'f', method: 8, descriptor: 'nosig' },
    ]).bytes;
    for (const chunking of CHUNKINGS) {
      const r = await readZip(bytes, { mode: 'stream', chunks: chunking.split });
      expect(r.entries.map((e) => [e.path.toString(), e.data.toString()])).toEqual([
        ['e', ''],
        ['f', 'f'],
      ]);
    }
  });

  it('the descriptor CRC is checked: deflate', async () => {
    const bytes = buildZip([{ name: 'bad', data: text, method: 8, descriptor: 'sig', crc: crc32(text) ^ 1 }]).bytes;
    for (const chunking of CHUNKINGS) {
      const err = await readZipError(bytes, { mode: 'stream', chunks: chunking.split });
      expect(err?.code).toBe('FORMAT_CHECKSUM');
      expect(err?.message).toMatch(/^zip: CRC-32 mismatch in entry 'bad' \(local header at byte 0\): its data descriptor at byte \d+ says/);
    }
    expect((await readZipError(bytes))?.code).toBe('FORMAT_CHECKSUM');
  });

  it('the descriptor CRC is checked: stored (a descriptor whose sizes fit and a signature follows)', async () => {
    const data = trickyData(1000, 9);
    const bytes = buildZip([
      { name: 'bad', data, descriptor: 'sig', crc: crc32(data) ^ 0x100 },
      { name: 'next', data: 'n' },
    ]).bytes;
    for (const chunking of CHUNKINGS) {
      const err = await readZipError(bytes, { mode: 'stream', chunks: chunking.split });
      expect(err?.code).toBe('FORMAT_CHECKSUM');
    }
  });

  it('a stored entry whose descriptor cannot be found is refused clearly', async () => {
    const data = trickyData(1000, 10);
    const built = buildZip([{ name: 'lost', data, descriptor: 'sig' }]);
    // Damage the descriptor's size fields: no position matches any more.
    const bytes = Buffer.from(built.bytes);
    bytes.writeUInt32LE(999, built.entries[0]!.descriptor + 8);
    const err = await readZipError(bytes, { mode: 'stream' });
    expect(err?.code).toBe('FORMAT_TRUNCATED');
    expect(err?.message).toMatch(/without the data descriptor of stored entry 'lost'.*cannot be delimited otherwise/);
  });
});
