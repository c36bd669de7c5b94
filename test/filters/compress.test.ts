/**
 * Unix compress (.Z): every corpus stream decodes to exactly what `gzip -dc` produces, under
 * every chunking; round trips through a compress-4.x-like test encoder (maxbits 10..16, CLEAR
 * codes, no block mode) under random chunkings; hand-built hostile streams (the prefix-chain
 * cycle of dependencies-research.md §4.2, codes beyond the table, CLEAR floods); mutations of
 * valid streams end in a ZoneP2vError or bounded output, never anything else.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { ZoneP2vError } from '../../src/errors.js';
import { compressFilter } from '../../src/filters/compress.js';
import { LzwDecoder } from '../../src/filters/lzw-decoder.js';
import { asAsync, CHUNKINGS, oneByte, prng, randomChunks } from '../support/chunking.js';
import { corpusAvailable, corpusPath, readCorpus } from '../support/corpus.js';
import { lzwEncode, lzwEncodeWithStats } from '../support/lzw-encode.js';

const CORPUS_Z = [
  'generated/gnucpio-newc.cpio.Z',
  'generated/gnucpio-odc.cpio.b10.Z', // maxbits 10, one CLEAR followed by group padding
  'generated/gnutar-pax.tar.Z',
  'libarchive/test_compat_mac-1.tar.Z',
  'libarchive/test_compat_solaris_pax_sparse_1.pax.Z',
  'libarchive/test_compat_solaris_pax_sparse_2.pax.Z',
  'libarchive/test_expand.Z',
  'libarchive/test_extract.cpio.Z',
  'libarchive/test_extract.tar.Z',
  'libarchive/test_read_format_cpio_bin.cpio.Z',
  'libarchive/test_read_format_cpio_svr4c.cpio.Z',
  'libarchive/test_read_format_raw.data.Z',
  'libarchive/test_read_format_tar_empty_pax.tar.Z',
  'libarchive/test_read_format_tar_filename_koi8r.tar.Z',
  'libarchive/test_read_format_tar_pax_large_attr.tar.Z',
  'libarchive/test_read_format_tz.tar.Z',
  'libarchive/test_read_format_ustar_filename_eucjp.tar.Z',
  'libarchive/test_read_format_ustar_filename_koi8r.tar.Z',
];

const noWarnings = { onWarning: () => {} };

async function decode(chunks: Buffer[], cap = Number.POSITIVE_INFINITY): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of compressFilter.open(asAsync(chunks), noWarnings)) {
    parts.push(c);
    total += c.length;
    if (total > cap) throw new Error(`output grew past ${cap} bytes`);
  }
  return Buffer.concat(parts);
}

async function decodeError(chunks: Buffer[]): Promise<ZoneP2vError> {
  try {
    await decode(chunks);
  } catch (e) {
    expect(e).toBeInstanceOf(ZoneP2vError);
    return e as ZoneP2vError;
  }
  throw new Error('expected a ZoneP2vError');
}

function gunzip(z: Buffer): Buffer {
  return execFileSync('gzip', ['-dc'], { input: z, maxBuffer: 1 << 28 });
}

/** Builds a .Z stream from explicit codes, for hostile cases. */
class CodeWriter {
  bits: number[] = [];
  sectionStart = 0;
  constructor(flags: number) {
    for (const b of [0x1f, 0x9d, flags]) this.#byte(b);
    this.sectionStart = this.bits.length;
  }
  #byte(b: number): void {
    for (let i = 0; i < 8; i++) this.bits.push((b >> i) & 1);
  }
  code(c: number, width = 9): this {
    for (let i = 0; i < width; i++) this.bits.push((c >> i) & 1);
    return this;
  }
  /** Pads to the end of the current group of eight `width`-bit codes (what CLEAR requires). */
  padGroup(width = 9): this {
    const g = width * 8;
    while ((this.bits.length - this.sectionStart) % g !== 0) this.bits.push(1);
    this.sectionStart = this.bits.length;
    return this;
  }
  get bitLength(): number {
    return this.bits.length;
  }
  bytes(): Buffer {
    const out = Buffer.alloc(Math.ceil(this.bits.length / 8));
    this.bits.forEach((bit, i) => {
      if (bit) out[i >> 3]! |= 1 << (i & 7);
    });
    return out;
  }
}

describe.skipIf(!corpusAvailable())('compress: corpus matches gzip -dc', () => {
  for (const file of CORPUS_Z) {
    it(file, async () => {
      const data = readCorpus(file);
      const want = execFileSync('gzip', ['-dc', corpusPath(file)], { maxBuffer: 1 << 28 });
      for (const ch of CHUNKINGS) {
        const got = await decode(ch.split(data));
        expect(got.equals(want), `${file} (${ch.name}): ${got.length} bytes, want ${want.length}`).toBe(true);
      }
    });
  }
});

describe('compress: bid', () => {
  it('accepts 1F 9D with sane flags', () => {
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d, 0x90]))).toBe(19);
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d, 0x0c, 1, 2, 3]))).toBe(19);
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d]))).toBe(16);
  });
  it('rejects other data', () => {
    expect(compressFilter.bid(Buffer.from([0x1f, 0x8b, 0x08]))).toBe(0);
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d, 0xf0]))).toBe(0); // reserved bits
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d, 0x88]))).toBe(0); // maxbits 8
    expect(compressFilter.bid(Buffer.from([0x1f, 0x9d, 0x91]))).toBe(0); // maxbits 17
    expect(compressFilter.bid(Buffer.from([0x1f]))).toBe(0);
    expect(compressFilter.bid(Buffer.alloc(0))).toBe(0);
  });
});

/** Text-like data with repeats (fills tables) followed by noise (makes compress 4.x CLEAR). */
function sampleData(seed: number, textBytes: number, noiseBytes: number): Buffer {
  const rnd = prng(seed);
  const words = ['zone', 'solaris', 'usr/lib/', 'etc/', 'flash', ' ', '\n', 'archive', 'cpio', '0000', 'root'];
  const parts: string[] = [];
  let n = 0;
  while (n < textBytes) {
    const w = words[Math.floor(rnd() * words.length)]!;
    parts.push(w);
    n += w.length;
  }
  const noise = Buffer.alloc(noiseBytes);
  for (let i = 0; i < noiseBytes; i++) noise[i] = Math.floor(rnd() * 256);
  return Buffer.concat([Buffer.from(parts.join('').slice(0, textBytes), 'latin1'), noise]);
}

describe('compress: round trips through the test encoder', () => {
  it('the encoder is a faithful compress: gzip -dc decodes its output (CLEAR, widths, no block mode)', () => {
    const data = sampleData(1, 400_000, 200_000);
    for (const opts of [
      { maxBits: 16 },
      { maxBits: 12 },
      { maxBits: 10 },
      { maxBits: 13, blockMode: false },
      { maxBits: 11, clearEvery: 37 },
    ]) {
      const r = lzwEncodeWithStats(data, opts);
      if (opts.maxBits <= 12 && opts.blockMode !== false) expect(r.clears, JSON.stringify(opts)).toBeGreaterThan(0);
      expect(gunzip(r.data).equals(data), JSON.stringify(opts)).toBe(true);
    }
  });

  it('decodes large streams with ratio-driven CLEARs at every maxbits 10..16', async () => {
    const data = Buffer.concat([sampleData(2, 300_000, 150_000), sampleData(3, 300_000, 0)]);
    for (let maxBits = 10; maxBits <= 16; maxBits++) {
      const r = lzwEncodeWithStats(data, { maxBits });
      const got = await decode(randomChunks(r.data, maxBits, 70_000));
      expect(got.equals(data), `maxbits ${maxBits} (${r.clears} CLEARs)`).toBe(true);
    }
  });

  const dataArb = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }),
    fc.array(fc.constantFrom(0x61, 0x62, 0x63, 0x0a), { maxLength: 20_000 }).map((a) => Uint8Array.from(a)),
    fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3000 })).map(([unit, times]) => {
      const out = new Uint8Array(unit.length * times);
      for (let i = 0; i < times; i++) out.set(unit, i * unit.length);
      return out;
    }),
  );
  const optsArb = fc.record({
    maxBits: fc.integer({ min: 10, max: 16 }),
    blockMode: fc.boolean(),
    clearEvery: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 700 })),
    checkGap: fc.integer({ min: 50, max: 10_000 }),
  });

  test.prop([dataArb, optsArb, fc.integer(), fc.boolean()], { numRuns: 150 })(
    'decode(encode(x)) == x for maxbits 10..16 under random chunkings',
    async (data, opts, seed, tiny) => {
      const z = lzwEncode(data, opts);
      const chunks = tiny && z.length < 4000 ? oneByte(z) : randomChunks(z, seed, 1 + (Math.abs(seed) % 5000));
      const got = await decode(chunks);
      expect(got.equals(Buffer.from(data))).toBe(true);
    },
  );

  it('header split across pushes: 1 + 1 + rest, 1 + rest, 2 + rest', async () => {
    const data = sampleData(4, 20_000, 1000);
    const z = lzwEncode(data, { maxBits: 12 });
    for (const cuts of [[1, 2], [1], [2], [3]]) {
      const chunks: Buffer[] = [];
      let prev = 0;
      for (const c of [...cuts, z.length]) {
        chunks.push(z.subarray(prev, c));
        prev = c;
      }
      expect((await decode(chunks)).equals(data), `cuts ${cuts}`).toBe(true);
    }
  });

  it('empty input (header only) decodes to nothing', async () => {
    expect((await decode([Buffer.from([0x1f, 0x9d, 0x90])])).length).toBe(0);
  });

  it('output comes in chunks of at most 64 KiB; bytesIn/bytesOut track the stream', () => {
    const data = Buffer.alloc(1_000_000, 0x41);
    const z = lzwEncode(data, { maxBits: 16 });
    const dec = new LzwDecoder();
    const sizes: number[] = [];
    for (const o of dec.push(z)) sizes.push(o.length);
    const last = dec.finish();
    if (last) sizes.push(last.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(65536);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
    expect(dec.bytesIn).toBe(z.length);
    expect(dec.bytesOut).toBe(data.length);
    expect(() => dec.finish()).toThrow();
  });
});

describe('compress: end of stream', () => {
  // Eight 9-bit literals fill exactly one group (9 bytes).
  const eight = () => {
    const w = new CodeWriter(0x90);
    for (const c of 'abcdefgh') w.code(c.charCodeAt(0));
    return w;
  };

  it('accepts up to 7 padding bits after the last code', async () => {
    const w = new CodeWriter(0x90).code(0x61).code(0x62).code(0x63); // 27 bits: 5 bits of padding
    expect((await decode([w.bytes()])).toString()).toBe('abc');
  });

  it('a whole byte of an incomplete code is truncation', async () => {
    const z = Buffer.concat([eight().bytes(), Buffer.from([0x41])]);
    expect((await decode([eight().bytes()])).toString()).toBe('abcdefgh');
    const e = await decodeError([z]);
    expect(e.code).toBe('FILTER_TRUNCATED');
    expect(e.message).toMatch(/^compress: stream ends inside a 9-bit code/);
    expect(e.offset).toBe(3 + 9);
  });

  it('a stream may end inside the padding after a CLEAR', async () => {
    const w = new CodeWriter(0x90).code(0x61).code(256).padGroup();
    const full = w.bytes();
    for (let cut = 3 + 3; cut <= full.length; cut++) {
      expect((await decode([full.subarray(0, cut)])).toString(), `cut at ${cut}`).toBe('a');
    }
  });

  it('truncated header', async () => {
    for (const head of [[0x1f], [0x1f, 0x9d]]) {
      const e = await decodeError([Buffer.from(head)]);
      expect(e.code).toBe('FILTER_TRUNCATED');
      expect(e.message).toContain('header');
    }
  });
});

describe('compress: hostile and corrupt input', () => {
  it('bad magic, reserved flags and out-of-range maxbits', async () => {
    expect((await decodeError([Buffer.from([0x1f, 0x8b, 0x90, 0])])).code).toBe('FILTER_CORRUPT');
    expect((await decodeError([Buffer.from([0x1f, 0x9d, 0xb0, 0])])).code).toBe('FILTER_UNSUPPORTED');
    expect((await decodeError([Buffer.from([0x1f, 0x9d, 0x88, 0])])).code).toBe('FILTER_UNSUPPORTED');
    expect((await decodeError([Buffer.from([0x1f, 0x9d, 0x91, 0])])).code).toBe('FILTER_UNSUPPORTED');
  });

  it('a code beyond the next free code is FILTER_CORRUPT naming the layer and byte offset', async () => {
    const w = new CodeWriter(0x90).code(0x61).code(0x62).code(300);
    const e = await decodeError([w.bytes()]);
    expect(e.code).toBe('FILTER_CORRUPT');
    expect(e.layer).toBe('compress');
    expect(e.offset).toBe(3 + Math.floor(18 / 8));
    expect(e.message).toBe('compress: code 300 is beyond the next free code 258 at byte 5; the .Z data is corrupt');
  });

  it('the first code (after the header or a CLEAR) must be a literal', async () => {
    expect((await decodeError([new CodeWriter(0x90).code(257).bytes()])).code).toBe('FILTER_CORRUPT');
    expect((await decodeError([new CodeWriter(0x10).code(256).bytes()])).code).toBe('FILTER_CORRUPT'); // no block mode
    const afterClear = new CodeWriter(0x90).code(0x61).code(0x61).code(256).padGroup().code(257);
    expect((await decodeError([afterClear.bytes()])).code).toBe('FILTER_CORRUPT');
  });

  it('the prefix-chain cycle (dependencies-research.md §4.2): stale entries after CLEAR are never followed', async () => {
    // Before the CLEAR: 143 x 'a', then 258, then 'a': entry 400 = (prefix 258, 'a').
    // After it: 'a', then 400 (stale, above the next free code 257), then 258 (KwKwK). A decoder
    // that follows the stale entry builds 258 -> 400 -> 258 and loops (22 GB RSS in the
    // research); we must stop at the 400 with FILTER_CORRUPT.
    const w = new CodeWriter(0x90);
    for (let i = 0; i < 143; i++) w.code(0x61);
    w.code(258).code(0x61).code(256).padGroup();
    const codeStart = w.bitLength + 9;
    w.code(0x61).code(400).code(258);
    for (const chunks of [[w.bytes()], oneByte(w.bytes())]) {
      const started = Date.now();
      const e = await decodeError(chunks);
      expect(e.code).toBe('FILTER_CORRUPT');
      expect(e.message).toContain('code 400 is beyond the next free code 257');
      expect(e.offset).toBe(Math.floor(codeStart / 8));
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });

  it('a flood of CLEAR codes is cheap (tables are reset only as far as they were used)', async () => {
    const w = new CodeWriter(0x90);
    for (let i = 0; i < 20_000; i++) w.code(0x61).code(0x62).code(257).code(256).padGroup();
    const started = Date.now();
    const out = await decode([w.bytes()]);
    expect(out.length).toBe(20_000 * 4);
    expect(out.subarray(0, 8).toString()).toBe('abababab');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('abort', async () => {
    const ac = new AbortController();
    const z = lzwEncode(Buffer.alloc(500_000, 1));
    const it = compressFilter.open(asAsync(randomChunks(z, 5, 100)), { onWarning: () => {}, signal: ac.signal });
    const iter = it[Symbol.asyncIterator]();
    await iter.next();
    ac.abort();
    await expect(iter.next()).rejects.toMatchObject({ code: 'ABORTED' });
  });

  // Mutations of valid streams: .Z has no length or checksum, so a mutation may well decode to
  // other bytes; what must hold is that it ends (error or not), that errors are ZoneP2vErrors,
  // and that output stays within what the codes can express (string length grows by at most
  // one per code, so k codes yield at most k(k+1)/2 bytes).
  const mutationArb = fc.record({
    data: fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.constantFrom(sampleData(9, 3000, 500))),
    maxBits: fc.integer({ min: 10, max: 16 }),
    clearEvery: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 300 })),
    kind: fc.constantFrom('flip', 'truncate', 'insert', 'set'),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
    seed: fc.integer(),
  });
  test.prop([mutationArb], { numRuns: 400, timeout: 10_000 })(
    'mutated streams end in output or a ZoneP2vError, never a hang or unbounded output',
    async ({ data, maxBits, clearEvery, kind, at, value, seed }) => {
      const z = lzwEncode(data, { maxBits, clearEvery });
      const i = at % z.length;
      let m: Buffer;
      if (kind === 'flip' || kind === 'set') {
        m = Buffer.from(z);
        m[i] = kind === 'flip' ? m[i]! ^ (1 << (value & 7)) : value;
      } else if (kind === 'truncate') m = z.subarray(0, i);
      else m = Buffer.concat([z.subarray(0, i), Buffer.from([value]), z.subarray(i)]);
      const k = Math.max(0, Math.floor(((m.length - 3) * 8) / 9));
      const bound = (k * (k + 1)) / 2;
      try {
        const out = await decode(randomChunks(m, seed, 300), bound);
        expect(out.length).toBeLessThanOrEqual(bound);
      } catch (e) {
        expect(e).toBeInstanceOf(ZoneP2vError);
      }
    },
  );
});
