/**
 * gzip, bzip2, xz and lzma-alone filters: every corpus stream of these kinds decodes to exactly
 * what the reference tool (gzip, bzip2, xz) produces, under every chunking; trailing garbage is
 * a warning; truncation and corruption are typed errors.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ZoneP2vError } from '../../src/errors.js';
import type { Filter } from '../../src/filters/filter.js';
import { bzip2Filter } from '../../src/filters/bzip2.js';
import { gzipFilter } from '../../src/filters/gzip.js';
import { lzmaFilter } from '../../src/filters/lzma.js';
import { xzFilter } from '../../src/filters/xz.js';
import { asAsync, CHUNKINGS, randomChunks } from '../support/chunking.js';
import { corpusPath, readCorpus } from '../support/corpus.js';

/**
 * `externalDecoders`: bzip2, xz and lzma decode through bzip2(1) / xz(1) when installed and
 * this is true; false keeps them in process. Every case below runs both ways (with the programs
 * absent, both ways are in process).
 */
async function decode(filter: Filter, chunks: Buffer[], warnings: ZoneP2vError[] = [], externalDecoders = true): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of filter.open(asAsync(chunks), { onWarning: (w) => warnings.push(w), externalDecoders })) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const MODES = [
  { mode: 'in process', external: false },
  { mode: 'external program', external: true },
];

function reference(cmd: string, args: string[], file: string): Buffer {
  return execFileSync(cmd, [...args, corpusPath(file)], { maxBuffer: 1 << 28 });
}

const CASES: Array<{ filter: Filter; files: string[]; ref: [string, string[]] }> = [
  {
    filter: gzipFilter,
    ref: ['gzip', ['-dc']],
    files: [
      'generated/gnucpio-newc.cpio.gz',
      'generated/gnucpio-odc.cpio.multimember.gz',
      'generated/gnutar-pax.tar.gz',
      'libarchive/test_compat_gzip_1.tgz',
      'libarchive/test_empty.gz',
      'libarchive/test_expand.gz',
      'libarchive/test_extract.cpio.gz',
      'libarchive/test_read_format_cpio_svr4.cpio.gz',
    ],
  },
  {
    filter: bzip2Filter,
    ref: ['bzip2', ['-dc']],
    files: [
      'generated/gnucpio-newc.cpio.bz2',
      'generated/gnucpio-odc.cpio.multistream.bz2',
      'generated/gnutar-pax.tar.bz2',
      'libarchive/test_compat_bzip2_1.tbz',
      'libarchive/test_compat_bzip2_2.tbz',
      'libarchive/test_expand.bz2',
      'libarchive/test_read_format_pax.tar.bz2',
    ],
  },
  {
    filter: xzFilter,
    ref: ['xz', ['-dc']],
    files: [
      'generated/gnucpio-newc.cpio.xz',
      'generated/gnucpio-odc.cpio.multistream.xz',
      'generated/gnucpio-odc.cpio.nocheck.xz',
      'generated/gnutar-pax.tar.xz',
      'libarchive/test_compat_xz_1.txz',
      'libarchive/test_empty.xz',
      'libarchive/test_expand.xz',
      'libarchive/test_read_format_cpio_bin.cpio.xz',
    ],
  },
  {
    filter: lzmaFilter,
    ref: ['xz', ['--format=lzma', '-dc']],
    files: [
      'generated/gnucpio-newc.cpio.lzma',
      'generated/gnucpio-odc.cpio.dict64k.lzma',
      'generated/gnutar-pax.tar.lzma',
      'libarchive/test_compat_lzma_2.tlz',
      'libarchive/test_compat_lzma_3.tlz',
      'libarchive/test_extract.cpio.lzma',
      'libarchive/test_read_format_cpio_bin.cpio.lzma',
    ],
  },
];

// gzip has no external program: once.
describe.each(CASES.flatMap((c) => (c.filter === gzipFilter ? MODES.slice(0, 1) : MODES).map((m) => ({ ...c, ...m }))))('$filter.name filter ($mode)', ({ filter, files, ref, external }) => {
  it.each(files)('bids on and decodes %s exactly, under every chunking', async (file) => {
    const raw = readCorpus(file);
    expect(filter.bid(raw.subarray(0, 1024))).toBeGreaterThan(0);
    const expected = reference(ref[0], ref[1], file);
    for (const ch of CHUNKINGS) {
      if (ch.name === 'one-byte' && raw.length > 8192) continue; // covered by the small files
      const got = await decode(filter, ch.split(raw), [], external);
      expect(got.equals(expected), `${file} with ${ch.name} chunks`).toBe(true);
    }
  });

  it('fails with a typed error when the stream is cut short', async () => {
    const raw = readCorpus(files[0]!);
    const cut = raw.subarray(0, Math.floor(raw.length / 2));
    const err = await decode(filter, [cut], [], external).then(() => null, (e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(['FILTER_TRUNCATED', 'FILTER_CORRUPT']).toContain((err as ZoneP2vError).code);
    expect((err as ZoneP2vError).message.startsWith(`${filter.name}:`)).toBe(true);
  });

  it('survives random corruption: output or a typed error, never another exception or a hang', async () => {
    const raw = readCorpus(files[0]!);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(raw.length - 1), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.integer({ min: 1, max: 1000 }),
        async (flips, seed) => {
          const bad = Buffer.from(raw);
          for (const f of flips) bad[f.at] = bad[f.at]! ^ f.xor;
          try {
            const out = await decode(filter, randomChunks(bad, seed), [], external);
            expect(out.length).toBeLessThan(64 * 1024 * 1024);
          } catch (e) {
            expect(e).toBeInstanceOf(ZoneP2vError);
          }
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe.each(MODES)('trailing data ($mode)', ({ external }) => {
  it('gzip: garbage after the last member is one warning and the data stands (test_compat_gzip_2)', async () => {
    const warnings: ZoneP2vError[] = [];
    const got = await decode(gzipFilter, [readCorpus('libarchive/test_compat_gzip_2.tgz')], warnings, external);
    expect(got.length).toBe(7168);
    expect(warnings.map((w) => w.code)).toEqual(['FILTER_TRAILING_DATA']);
    expect(warnings[0]!.message).toMatch(/^gzip: \d+ bytes of trailing garbage/);
  });

  it('gzip: zero padding after the last member is silent', async () => {
    const warnings: ZoneP2vError[] = [];
    const raw = readCorpus('libarchive/test_extract.cpio.gz');
    const got = await decode(gzipFilter, [raw, Buffer.alloc(10240)], warnings, external);
    expect(got.equals(reference('gzip', ['-dc'], 'libarchive/test_extract.cpio.gz'))).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('gzip: a corrupted CRC is FILTER_CHECKSUM', async () => {
    const raw = Buffer.from(readCorpus('libarchive/test_extract.cpio.gz'));
    raw[raw.length - 8] = raw[raw.length - 8]! ^ 0xff;
    const err = await decode(gzipFilter, [raw], [], external).catch((e) => e);
    expect((err as ZoneP2vError).code).toBe('FILTER_CHECKSUM');
  });

  it('lzma: junk after the end marker is ignored (test_compat_lzma_1)', async () => {
    const got = await decode(lzmaFilter, [readCorpus('libarchive/test_compat_lzma_1.tlz')], [], external);
    expect(got.length).toBe(7168);
  });

  it('xz: garbage after the last stream is a warning', async () => {
    const warnings: ZoneP2vError[] = [];
    const raw = readCorpus('generated/gnucpio-odc.cpio.multistream.xz');
    const got = await decode(xzFilter, [raw, Buffer.from('not an xz stream at all')], warnings, external);
    expect(got.length).toBe(136704);
    expect(warnings.map((w) => w.code)).toEqual(['FILTER_TRAILING_DATA']);
  });

  it('bzip2: garbage after the last stream is a warning', async () => {
    const warnings: ZoneP2vError[] = [];
    const raw = readCorpus('generated/gnucpio-odc.cpio.multistream.bz2');
    const got = await decode(bzip2Filter, [raw, Buffer.from('junk junk junk')], warnings, external);
    expect(got.length).toBe(136704);
    expect(warnings.map((w) => w.code)).toEqual(['FILTER_TRAILING_DATA']);
  });
});

describe('bids', () => {
  it('lzma-alone does not bid on plain archives or other compressions', () => {
    for (const f of ['generated/gnucpio-newc.cpio', 'generated/gnutar-pax.tar', 'generated/gnucpio-bin-le.cpio', 'generated/gnucpio-newc.cpio.gz', 'generated/gnucpio-newc.cpio.xz']) {
      expect(lzmaFilter.bid(readCorpus(f).subarray(0, 1024)), f).toBe(0);
    }
  });
  it('no filter bids on an uncompressed archive', () => {
    for (const filter of [gzipFilter, bzip2Filter, xzFilter]) {
      expect(filter.bid(readCorpus('generated/gnucpio-odc.cpio').subarray(0, 1024))).toBe(0);
    }
  });
});

describe('inflateRawFrom', () => {
  it('ends cleanly when the input ends exactly with the deflate stream, and reports a cut one', async () => {
    const { deflateRawSync } = await import('node:zlib');
    const { ByteSource } = await import('../../src/io/byte-source.js');
    const { inflateRawFrom } = await import('../../src/filters/inflate-raw.js');
    const raw = deflateRawSync(Buffer.from('hello world '.repeat(1000)));
    const run = async (b: Buffer) => {
      let n = 0;
      for await (const c of inflateRawFrom(new ByteSource([b]), 'zip')) n += c.length;
      return n;
    };
    expect(await run(raw)).toBe(12000);
    const err = await run(raw.subarray(0, raw.length - 3)).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('FILTER_TRUNCATED');
  });
});
