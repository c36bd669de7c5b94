/**
 * crc (070702): the shared suite plus the data byte-sum check (formats.md §3.2, §3.7, trap 11).
 */
import { describe, expect, it } from 'vitest';
import { fc, it as itFc } from '@fast-check/vitest';
import { byteSum } from '../../../src/formats/cpio/byte-sum.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats } from '../../../src/formats/format.js';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { readBody } from '../../../src/entry/entry.js';
import { buildCpio, buildCpioArchive } from '../../support/cpio-build.js';
import { oneByte } from '../../support/chunking.js';
import { commonSuite } from './common-suite.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

commonSuite('crc');

describe('crc checksum', () => {
  const good = { name: 'dir/file', data: 'some file data\n' };

  it('accepts correct sums', async () => {
    const bytes = buildCpio('crc', [good, { name: 'e', data: Buffer.from([255, 254, 1]) }]);
    const { entries } = await readCpio(oneByte(bytes));
    expect(entries.map(manifestItem)).toEqual(['f:dir/file:15', 'f:e:3']);
  });

  for (const skip of [false, true]) {
    it(`fails on a wrong sum when the body is ${skip ? 'skipped' : 'read'}`, async () => {
      const { bytes, records } = buildCpioArchive('crc', [{ ...good, check: 1 }, { name: 'next' }]);
      const e = await readError([bytes], { skipBodies: skip });
      expect(isZ(e) && [e.code, e.layer, e.offset, e.path?.toString()]).toEqual([
        'FORMAT_CHECKSUM',
        'cpio-crc',
        records[0]!.header,
        'dir/file',
      ]);
      expect((e as Error).message).toBe(
        "cpio-crc: checksum mismatch for 'dir/file' (header 0x00000001, data sums to 0x00000538) at byte 0; " +
          'the archive is corrupt',
      );
    });
  }

  it('fails inside the body read, and again if the caller asks for the next entry', async () => {
    const bytes = buildCpio('crc', [{ ...good, check: 7 }, { name: 'next' }]);
    const gen = cpioFormat.read(new ByteSource([bytes]), newStats('crc'), { onWarning: () => {} });
    const first = await gen.next();
    expect(first.done).toBe(false);
    const e1 = await readBody(first.value!).then(() => null, (x: unknown) => x);
    expect(isZ(e1) && e1.code).toBe('FORMAT_CHECKSUM');
    const e2 = await gen.next().then(() => null, (x: unknown) => x);
    expect(isZ(e2) && e2.code).toBe('FORMAT_CHECKSUM');
  });

  it('accepts check 0 on symlinks (GNU cpio, MirBSD pax) and on empty files', async () => {
    const bytes = buildCpio('crc', [
      { name: 'l', mode: 0o120777, data: 'target', check: 0 },
      { name: 'empty', check: 0 },
    ]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['l:l->target', 'f:empty:0']);
  });

  it('checks each link that carries data', async () => {
    const link = { ino: 3, nlink: 2 };
    const ok = buildCpio('crc', [{ name: 'a', ...link }, { name: 'b', data: 'linked', ...link }]);
    expect((await readCpio([ok])).entries.map(manifestItem)).toEqual(['f:a:0', 'h:b=>a']);
    const bad = buildCpio('crc', [{ name: 'a', ...link }, { name: 'b', data: 'linked', check: 5, ...link }]);
    const e = await readError([bad]);
    expect(isZ(e) && [e.code, e.path?.toString()]).toEqual(['FORMAT_CHECKSUM', 'b']);
  });

  it('sums modulo 2^32', async () => {
    const data = Buffer.alloc(17_000_000, 0xff); // 4,335,000,000 > 2^32
    const check = (17_000_000 * 255) % 2 ** 32;
    const { entries } = await readCpio([buildCpio('crc', [{ name: 'big', data, check }])], { skipBodies: true });
    expect(entries.map(manifestItem)).toEqual(['f:big:17000000']);
  });
});

describe('byteSum', () => {
  itFc.prop([fc.uint8Array({ maxLength: 3000 }), fc.nat({ max: 7 })])(
    'equals the plain byte sum at any alignment',
    (bytes, shift) => {
      const backing = new Uint8Array(bytes.length + 8);
      backing.set(bytes, shift);
      const view = backing.subarray(shift, shift + bytes.length);
      let plain = 0;
      for (const b of bytes) plain += b;
      expect(byteSum(view)).toBe(plain);
    },
  );

  it('handles long runs of 0xFF without lane carries', () => {
    expect(byteSum(new Uint8Array(1 << 20).fill(255))).toBe(255 * (1 << 20));
  });
});
