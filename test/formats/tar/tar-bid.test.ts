/**
 * Detection bids (formats.md §1): ustar/GNU magic + checksum high, v7 by checksum and plausible
 * fields low, empty archive lowest, everything else null.
 */
import { describe, expect, it } from 'vitest';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { corpusAvailable, readCorpus, readManifest } from '../../support/corpus.js';
import { eoa, file, header, tar } from '../../support/tar-build.js';

const bid = (b: Buffer) => tarFormat.bid(b.subarray(0, 1024));

describe('tar bid', () => {
  it('bids high on ustar and GNU magic with a valid checksum', () => {
    expect(bid(tar(file('a', 'x'), eoa()))).toEqual({ bits: 64, variant: 'ustar' });
    expect(bid(tar(file('a', 'x', { magic: 'gnu' }), eoa()))).toEqual({ bits: 64, variant: 'gnu' });
    expect(bid(tar(file('a', 'x', { magic: 'ustar-noversion' }), eoa()))).toEqual({ bits: 56, variant: 'ustar' });
  });
  it('accepts the signed checksum', () => {
    const h = header({ name: Buffer.from('\xe9\xe8', 'latin1'), checksum: 'signed' });
    expect(bid(tar(h, eoa()))?.variant).toBe('ustar');
  });
  it('bids low on a plausible v7 header', () => {
    expect(bid(tar(file('a', 'x', { magic: 'v7' }), eoa()))).toEqual({ bits: 24, variant: 'v7' });
  });
  it('refuses v7 headers with implausible fields or no name', () => {
    expect(bid(tar(header({ magic: 'v7', name: '' }), eoa()))).toBeNull();
    expect(bid(tar(header({ magic: 'v7', mode: Buffer.from('06x4\0') }), eoa()))).toBeNull();
    expect(bid(tar(header({ magic: 'v7', size: Buffer.from('hello world\0') }), eoa()))).toBeNull();
    expect(bid(tar(header({ magic: 'v7', typeflag: 0x01 }), eoa()))).toBeNull();
  });
  it('bids lowest on an empty archive, and not on a lone zero block', () => {
    expect(bid(eoa())).toEqual({ bits: 10, variant: 'ustar' });
    expect(bid(Buffer.alloc(512))).toBeNull();
    expect(bid(Buffer.concat([Buffer.alloc(512), Buffer.from('x'.repeat(512))]))).toBeNull();
  });
  it('refuses bad checksums and short input', () => {
    expect(bid(tar(header({ checksum: 'bad' }), eoa()))).toBeNull();
    expect(bid(header().subarray(0, 300))).toBeNull();
    expect(bid(Buffer.from('070701' + '0'.repeat(600)))).toBeNull();
  });
  it('a tar whose first member is named like a cpio magic still bids as tar', () => {
    expect(bid(tar(file('070701fake', 'x'), eoa()))?.bits).toBe(64);
  });

  it.skipIf(!corpusAvailable())('bids on every uncompressed corpus tar', () => {
    const rows = readManifest().filter((r) => /tar|pax|ustar/i.test(r.format) && r.compression === 'none');
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) {
      const b = bid(readCorpus(r.filename));
      expect(b, r.filename).not.toBeNull();
      if (/v7|old tar/.test(r.format)) expect(b!.variant, r.filename).toBe('v7');
    }
  });
});
