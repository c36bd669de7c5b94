/**
 * ufsdump detection bid: magic at 24 in either byte order + the 84446 checksum + TS_TAPE; the
 * dialect guessed from the volume header; nothing else in the corpus bids.
 */
import { describe, expect, it } from 'vitest';
import { ufsdumpFormat } from '../../../src/formats/ufsdump/reader.js';
import { corpusAvailable, readCorpus, readManifest } from '../../support/corpus.js';
import { fixChecksum, writeUfsdump } from '../../support/ufsdump-write.js';

const tree = [{ path: '.', type: 'dir' as const }, { path: 'f', type: 'file' as const, data: 'x' }];
const head = (b: Buffer) => b.subarray(0, 1024);

describe('ufsdump bid', () => {
  it('bids 72 with the dialect and byte order of the volume header', () => {
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'be' })))).toEqual({ bits: 72, variant: 'solaris-be' });
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'le' })))).toEqual({ bits: 72, variant: 'solaris-le' });
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'be', dialect: 'linux' })))).toEqual({ bits: 72, variant: 'linux-be' });
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'le', dialect: 'linux', compress: 'zlib' })))).toEqual({ bits: 72, variant: 'linux-le' });
  });

  it('bids 40 when the checksum cannot be checked (short head, MTB_MAGIC)', () => {
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'be' })).subarray(0, 512))).toEqual({ bits: 40, variant: 'solaris-be' });
    expect(ufsdumpFormat.bid(head(writeUfsdump(tree, { order: 'le', unitSize: 4096 })))).toEqual({ bits: 40, variant: 'solaris-mtb-le' });
  });

  it('does not bid without the checksum, the TS_TAPE type or the magic', () => {
    const d = head(Buffer.from(writeUfsdump(tree, { order: 'le' })));
    d[700]! ^= 1;
    expect(ufsdumpFormat.bid(d)).toBeNull();
    fixChecksum(d, 0, 'le');
    expect(ufsdumpFormat.bid(d)).not.toBeNull();
    d.writeUInt32LE(2, 0);
    fixChecksum(d, 0, 'le');
    expect(ufsdumpFormat.bid(d)).toBeNull();
    // the little-endian magic alone (as in a GNU .mo file or any binary) is not enough
    const junk = Buffer.alloc(1024, 0x11);
    junk.writeUInt32LE(60012, 24);
    junk.writeUInt32LE(1, 0);
    expect(ufsdumpFormat.bid(junk)).toBeNull();
    expect(ufsdumpFormat.bid(Buffer.alloc(20))).toBeNull();
  });

  it.runIf(corpusAvailable())('bids on the two corpus dumps and on nothing else in the corpus', () => {
    for (const row of readManifest()) {
      const b = ufsdumpFormat.bid(head(readCorpus(row.filename)));
      if (row.filename.includes('linuxdump')) expect(b, row.filename).toEqual({ bits: 72, variant: 'linux-le' });
      else expect(b, row.filename).toBeNull();
    }
  });
});
