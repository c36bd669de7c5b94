/**
 * Old binary cpio in both byte orders: the shared suite for each, plus PDP-11 word order of the
 * 32-bit fields and the equivalence of the two orders.
 */
import { describe, expect, it } from 'vitest';
import { buildCpio } from '../../support/cpio-build.js';
import { commonSuite, sampleEntries } from './common-suite.js';
import { manifestItem, readCpio } from './helpers.js';

commonSuite('bin-le');
commonSuite('bin-be');

describe('old binary specifics', () => {
  it('reads 32-bit fields most significant word first in both byte orders', async () => {
    const data = Buffer.alloc(70000, 0x5a);
    for (const v of ['bin-le', 'bin-be'] as const) {
      const bytes = buildCpio(v, [{ name: 'big', data, mtime: 0x5f5e1000 }]);
      // filesize 70000 = 0x00011170: words 0x0001, 0x1170
      expect(v === 'bin-le' ? bytes.readUInt16LE(22) : bytes.readUInt16BE(22)).toBe(1);
      const { entries } = await readCpio([bytes]);
      expect(entries.map((e) => [manifestItem(e), e.mtime, e.data.equals(data)])).toEqual([
        ['f:big:70000', 0x5f5e1000, true],
      ]);
    }
  });

  it('gives the same entries in both byte orders', async () => {
    const le = await readCpio([buildCpio('bin-le', sampleEntries())]);
    const be = await readCpio([buildCpio('bin-be', sampleEntries())]);
    const strip = (r: typeof le) =>
      r.entries.map((e) => [manifestItem(e), e.mode, e.uid, e.gid, e.mtime, e.offset, e.data.toString('hex')]);
    expect(strip(be)).toEqual(strip(le));
  });

  it('pads odd names and odd data to even lengths', async () => {
    const bytes = buildCpio('bin-be', [{ name: 'ab', data: 'c' }, { name: 'abc', data: 'de' }]);
    // 26 + "ab\0" (3) + 1 pad + 1 data + 1 pad = 32; then 26 + "abc\0" + "de"
    expect(bytes.readUInt16BE(32)).toBe(0o070707);
    const { entries } = await readCpio([bytes]);
    expect(entries.map((e) => [manifestItem(e), e.data.toString()])).toEqual([
      ['f:ab:1', 'c'],
      ['f:abc:2', 'de'],
    ]);
  });
});
