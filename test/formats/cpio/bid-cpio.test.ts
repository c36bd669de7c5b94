/**
 * cpio bids: ASCII magics with digit-checked headers bid high, binary magics moderately and
 * only with a sane name; everything else (tar, binary noise, a tar whose name is "070707")
 * gets null.
 */
import { describe, expect, it } from 'vitest';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { corpusAvailable, readCorpus, readManifest } from '../../support/corpus.js';
import { buildCpio, type BuildVariant } from '../../support/cpio-build.js';

const bid = (b: Buffer) => cpioFormat.bid(b);

describe('cpio bid', () => {
  it('bids 48 bits plus the verified digits for the ASCII variants', () => {
    expect(bid(buildCpio('odc', [{ name: 'a' }]))).toEqual({ bits: 48 + 70, variant: 'odc' });
    expect(bid(buildCpio('newc', [{ name: 'a' }]))).toEqual({ bits: 48 + 104, variant: 'newc' });
    expect(bid(buildCpio('crc', [{ name: 'a' }]))).toEqual({ bits: 48 + 104, variant: 'crc' });
    expect(bid(buildCpio('afio', [{ name: 'a' }]))).toEqual({ bits: 48 + 106 + 4, variant: 'afio' });
  });

  it('bids on what a short head shows', () => {
    expect(bid(Buffer.from('070701000000'))).toEqual({ bits: 48 + 6, variant: 'newc' });
    expect(bid(Buffer.from('07070'))).toBeNull();
  });

  it('bids a moderate 32 for old binary in either byte order', () => {
    for (const v of ['bin-le', 'bin-be'] as BuildVariant[]) {
      expect(bid(buildCpio(v, [{ name: 'a' }]))).toEqual({ bits: 32, variant: v });
    }
  });

  it('refuses binary magics without a sane name', () => {
    const h = Buffer.from(buildCpio('bin-le', [{ name: 'abc' }]));
    h[26 + 3] = 0x41; // the NUL that ends the name
    expect(bid(h)).toBeNull();
    expect(bid(buildCpio('bin-be', [{ name: 'a', namesize: 0 }]))).toBeNull();
    expect(bid(buildCpio('bin-be', [{ name: 'a', namesize: 5000 }]))).toBeNull();
    expect(bid(Buffer.from([0xc7, 0x71, 1, 2, 3]))).toBeNull();
  });

  it('refuses ASCII magics followed by non-digits', () => {
    expect(bid(Buffer.from('070707' + 'x'.repeat(100)))).toBeNull();
    const tarLike = Buffer.alloc(512);
    tarLike.write('070707', 0, 'latin1'); // a tar member named "070707"
    tarLike.write('ustar\x0000', 257, 'latin1');
    expect(bid(tarLike)).toBeNull();
    expect(bid(Buffer.from('hello world'))).toBeNull();
    expect(bid(Buffer.alloc(0))).toBeNull();
  });

  it.skipIf(!corpusAvailable())('bids on every uncompressed cpio of the corpus with its variant', () => {
    const want: Record<string, string> = {
      'cpio odc (070707)': 'odc',
      'cpio newc (070701)': 'newc',
      'cpio SVR4 crc (070702)': 'crc',
    };
    for (const row of readManifest()) {
      if (!row.format.startsWith('cpio') || row.compression !== 'none') continue;
      if (row.filename.endsWith('part2.cpio')) continue;
      const b = bid(readCorpus(row.filename).subarray(0, 512));
      const expected = row.format.includes('little-endian')
        ? 'bin-le'
        : row.format.includes('big-endian') || row.format.includes('BIG-endian')
          ? 'bin-be'
          : row.format.includes('afio')
            ? 'afio'
            : want[row.format];
      expect(b?.variant, row.filename).toBe(expected);
      expect(b!.bits, row.filename).toBeGreaterThanOrEqual(32);
    }
  });

  it.skipIf(!corpusAvailable())('does not bid on the tar and zip files of the corpus', () => {
    for (const row of readManifest()) {
      if (row.compression !== 'none' || !/tar|zip|pax/.test(row.format)) continue;
      expect(bid(readCorpus(row.filename).subarray(0, 512)), row.filename).toBeNull();
    }
  });
});
