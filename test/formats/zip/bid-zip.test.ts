/**
 * zip detection bids: a sane local header at 0 (and after a spanning marker), an empty archive,
 * a local header later in the head (prefix data); and what must not bid.
 */
import { describe, expect, it } from 'vitest';
import { detect } from '../../../src/detect/detect.js';
import { bidZip } from '../../../src/formats/zip/bid.js';
import { corpusAvailable, readCorpus, readManifest } from '../../support/corpus.js';
import { buildZip } from '../../support/zip-build.js';

const head = (b: Buffer) => b.subarray(0, 1024);

describe('zip bid', () => {
  it('a local header at 0: 48 bits, zip or zip64', () => {
    expect(bidZip(head(buildZip([{ name: 'a', data: 'x' }]).bytes))).toEqual({ bits: 48, variant: 'zip' });
    expect(bidZip(head(buildZip([{ name: 'a', data: 'x', zip64: true }]).bytes))).toEqual({ bits: 48, variant: 'zip64' });
  });

  it('a spanning marker, then a local header', () => {
    const z = buildZip([{ name: 'a', data: 'x' }]).bytes;
    for (const marker of ['PK\x07\x08', 'PK00']) {
      expect(bidZip(Buffer.concat([Buffer.from(marker, 'latin1'), z]))).toEqual({ bits: 56, variant: 'zip' });
    }
  });

  it('an empty archive', () => {
    expect(bidZip(buildZip([]).bytes)).toEqual({ bits: 40, variant: 'zip' });
    expect(bidZip(buildZip([], { comment: 'hello' }).bytes)).toEqual({ bits: 40, variant: 'zip' });
    expect(bidZip(Buffer.concat([buildZip([]).bytes, Buffer.from('x')]))).toBeNull();
  });

  it('a local header later in the head (prefix data): a low bid', () => {
    const bytes = buildZip([{ name: 'a', data: 'x' }], { prefix: Buffer.alloc(300, 0x41) }).bytes;
    expect(bidZip(head(bytes))).toEqual({ bits: 12, variant: 'sfx' });
  });

  it('no bid for insane headers or other data', () => {
    const ok = buildZip([{ name: 'a', data: 'x' }]).bytes;
    const broken = (at: number, v: number) => {
      const b = Buffer.from(ok);
      b.writeUInt16LE(v, at);
      return bidZip(b);
    };
    expect(broken(4, 200)).toBeNull(); // version needed 20.0
    expect(broken(6, 0x8000)).toBeNull(); // a reserved flag bit
    expect(broken(8, 77)).toBeNull(); // no such method
    expect(broken(26, 0)).toBeNull(); // empty name
    expect(bidZip(Buffer.from('PK\x03\x04\x14\x00\x00\x00\x00\x00', 'latin1'))).toEqual({ bits: 32, variant: 'zip' });
    expect(bidZip(Buffer.from('hello world, not a zip'))).toBeNull();
    expect(bidZip(Buffer.alloc(0))).toBeNull();
  });

  it.skipIf(!corpusAvailable())('every corpus zip starting with a local header is detected as zip; nothing else is', () => {
    for (const row of readManifest()) {
      const bytes = readCorpus(row.filename);
      const w = detect(head(bytes));
      const isZip = /zip/i.test(row.format);
      if (isZip && row.filename.endsWith('_sfx')) {
        // The stub is 1024 bytes: the local header lies beyond the head; only the end record
        // (random access) finds it.
        expect(w?.kind === 'format' && w.format.name === 'zip').toBe(false);
      } else if (isZip) {
        expect(w?.kind === 'format' ? [w.format.name, w.variant] : w?.kind, row.filename).toEqual([
          'zip',
          /zip64/.test(row.filename) ? 'zip64' : 'zip',
        ]);
      } else {
        expect(w?.kind === 'format' && w.format.name === 'zip', row.filename).toBe(false);
      }
    }
  });
});
