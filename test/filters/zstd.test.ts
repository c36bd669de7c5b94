/**
 * zstd: every corpus stream decodes to exactly what `zstd -dc` produces, under every chunking;
 * skippable frames anywhere; frames fzstd must not see (windows > 32 MiB) go to zstd(1) or fail
 * with FILTER_UNSUPPORTED, never to wrong bytes; checksum, content size and structure errors
 * are typed; truncation and mutations end in a ZoneP2vError or correct output.
 *
 * Frames built by hand use raw and RLE blocks (the format is simple enough to write directly),
 * so the routing and checking logic is tested without depending on an encoder.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { fc, test } from '@fast-check/vitest';
import { ZoneP2vError } from '../../src/errors.js';
import type { Filter } from '../../src/filters/filter.js';
import {
  createZstdFilter,
  findZstdOnPath,
  zstdCliDecoder,
  zstdFilter,
  type ZstdExternalDecoder,
} from '../../src/filters/zstd.js';
import { checkHuffmanWeights, parseFrameHeader } from '../../src/filters/zstd-frame.js';
import { externalDecodersEnabled } from '../../src/filters/external-decoder.js';
import { xxhash64 } from '../../src/util/xxhash64.js';
import { asAsync, CHUNKINGS, prng, randomChunks } from '../support/chunking.js';
import { corpusAvailable, corpusPath, readCorpus } from '../support/corpus.js';

const HAS_ZSTD = (() => {
  try {
    execFileSync('zstd', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const CORPUS_ZST = [
  'generated/gnucpio-newc.cpio.zst',
  'generated/gnucpio-odc.cpio.multiframe.zst', // two frames
  'generated/gnutar-pax.tar.zst',
  'libarchive/test_compat_zstd_1.tar.zst', // three frames, a skippable frame in the middle
  'libarchive/test_compat_zstd_2.tar.zst', // pzstd: a skippable frame first
  'libarchive/test_extract.cpio.zst',
  'libarchive/test_extract.tar.zst',
];

const offline = createZstdFilter({ external: null });

/**
 * `externalDecoders`: false for tests of the in-process decoder's own checks and messages
 * (fzstd and our frame accounting); by default the filter uses zstd(1) when it is installed
 * (test/filters/external-decoder.test.ts compares the two).
 */
async function decode(
  chunks: Buffer[],
  filter: Filter = zstdFilter,
  warnings: ZoneP2vError[] = [],
  cap = Number.POSITIVE_INFINITY,
  externalDecoders = true,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const c of filter.open(asAsync(chunks), { onWarning: (w) => warnings.push(w), externalDecoders })) {
    parts.push(Buffer.from(c));
    total += c.length;
    if (total > cap) throw new Error(`output grew past ${cap} bytes`);
  }
  return Buffer.concat(parts);
}

async function decodeError(chunks: Buffer[], filter: Filter = zstdFilter, externalDecoders = true): Promise<ZoneP2vError> {
  try {
    await decode(chunks, filter, [], Number.POSITIVE_INFINITY, externalDecoders);
  } catch (e) {
    if (!(e instanceof ZoneP2vError)) throw e;
    return e;
  }
  throw new Error('expected a ZoneP2vError');
}

// --- hand-built frames -------------------------------------------------------------------------

interface HandFrame {
  windowLog?: number; // Window_Descriptor exponent + 10 (absent with singleSegment)
  singleSegment?: boolean;
  checksum?: boolean;
  fcs?: number | null; // null: absent; default: the data length
  fcsBytes?: 1 | 2 | 4 | 8;
  dictId?: number;
  blockSize?: number;
  rle?: boolean; // RLE blocks (data must be one repeated byte)
  badChecksum?: boolean;
}

function u24(v: number): Buffer {
  return Buffer.from([v & 255, (v >> 8) & 255, (v >> 16) & 255]);
}

function handFrame(data: Buffer, o: HandFrame = {}): Buffer {
  const fcs = o.fcs === undefined ? data.length : o.fcs;
  const single = o.singleSegment ?? false;
  let fcsBytes = 0;
  if (fcs !== null) fcsBytes = o.fcsBytes ?? (single && fcs < 256 ? 1 : fcs < 65536 + 256 && fcs >= 256 ? 2 : 4);
  const fcsFlag = { 0: 0, 1: 0, 2: 1, 4: 2, 8: 3 }[fcsBytes]!;
  const didBytes = o.dictId === undefined ? 0 : 4;
  const desc = (fcsFlag << 6) | (single ? 0x20 : 0) | (o.checksum === false ? 0 : 0x04) | (didBytes ? 3 : 0);
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, desc])];
  if (!single) parts.push(Buffer.from([((o.windowLog ?? 20) - 10) << 3]));
  if (didBytes) {
    const d = Buffer.alloc(4);
    d.writeUInt32LE(o.dictId!);
    parts.push(d);
  }
  if (fcsBytes) {
    const f = Buffer.alloc(8);
    f.writeBigUInt64LE(BigInt(fcsBytes === 2 ? fcs! - 256 : fcs!));
    parts.push(f.subarray(0, fcsBytes));
  }
  const bs = o.blockSize ?? 128 * 1024;
  let p = 0;
  do {
    const n = Math.min(bs, data.length - p);
    const last = p + n >= data.length ? 1 : 0;
    if (o.rle) parts.push(u24((n << 3) | (1 << 1) | last), data.subarray(p, p + 1));
    else parts.push(u24((n << 3) | last), data.subarray(p, p + n));
    p += n;
  } while (p < data.length);
  if (o.checksum !== false) {
    const c = Buffer.alloc(4);
    c.writeUInt32LE((Number(xxhash64(data) & 0xffffffffn) ^ (o.badChecksum ? 1 : 0)) >>> 0);
    parts.push(c);
  }
  return Buffer.concat(parts);
}

function skippable(payload: Buffer, nibble = 0): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32LE(0x184d2a50 + nibble, 0);
  h.writeUInt32LE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

function noise(n: number, seed: number): Buffer {
  const rnd = prng(seed);
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd() < 0.3 ? 0x41 : Math.floor(rnd() * 256);
  return b;
}

function zstdCompress(data: Buffer, args: string[] = []): Buffer {
  return execFileSync('zstd', ['-q', '-c', ...args], { input: data, maxBuffer: 1 << 28 });
}

// --- tests -------------------------------------------------------------------------------------

describe.skipIf(!corpusAvailable())('zstd: corpus matches zstd -dc', () => {
  for (const file of CORPUS_ZST) {
    it.skipIf(!HAS_ZSTD)(file, async () => {
      const data = readCorpus(file);
      const want = execFileSync('zstd', ['-dc', corpusPath(file)], { maxBuffer: 1 << 28 });
      for (const external of [false, true]) {
        for (const ch of CHUNKINGS) {
          const warnings: ZoneP2vError[] = [];
          const got = await decode(ch.split(data), zstdFilter, warnings, Number.POSITIVE_INFINITY, external);
          expect(got.equals(want), `${file} (${ch.name}, external ${external}): ${got.length} bytes, want ${want.length}`).toBe(true);
          expect(warnings).toEqual([]);
        }
      }
    });
  }
});

describe('zstd: bid', () => {
  it('frame magic with a sane descriptor', () => {
    const f = handFrame(Buffer.from('hello'));
    expect(zstdFilter.bid(f)).toBe(34);
    expect(zstdFilter.bid(f.subarray(0, 6))).toBe(33);
    expect(zstdFilter.bid(f.subarray(0, 4))).toBe(32);
    const reserved = Buffer.from(f);
    reserved[4] = reserved[4]! | 0x08;
    expect(zstdFilter.bid(reserved)).toBe(0);
  });
  it('skippable magic bids lower', () => {
    expect(zstdFilter.bid(skippable(Buffer.from('x'), 0xf))).toBe(24);
  });
  it('rejects other data', () => {
    expect(zstdFilter.bid(Buffer.from([0x28, 0xb5, 0x2f]))).toBe(0);
    expect(zstdFilter.bid(Buffer.from('BZh91AY&SY'))).toBe(0);
    expect(zstdFilter.bid(Buffer.alloc(0))).toBe(0);
  });
});

describe('zstd: frame structure', () => {
  const a = noise(300_000, 1);
  const b = Buffer.alloc(200_000, 0x5a);

  it('decodes hand-built raw and RLE frames, single-segment and not, every FCS width', async () => {
    const cases: Array<[Buffer, HandFrame]> = [
      [a, {}],
      [a, { fcs: null, checksum: false }],
      [a, { fcsBytes: 8 }],
      [b, { rle: true }],
      [Buffer.from('tiny'), { singleSegment: true }],
      [Buffer.alloc(300, 7), { singleSegment: true, fcsBytes: 2 }],
      [Buffer.alloc(0), { singleSegment: true }],
      [Buffer.alloc(0), {}],
    ];
    for (const [data, o] of cases) {
      for (const ch of CHUNKINGS.slice(0, data.length > 10_000 ? 1 : 4)) {
        expect((await decode(ch.split(handFrame(data, o)))).equals(data), `${JSON.stringify(o)} ${ch.name}`).toBe(true);
      }
    }
  });

  it('skips skippable frames at the start, between frames and at the end', async () => {
    const stream = Buffer.concat([
      skippable(Buffer.from('pzstd-like header'), 0),
      handFrame(a),
      skippable(Buffer.alloc(0), 7),
      skippable(noise(5000, 2), 0xf),
      handFrame(b, { rle: true }),
      skippable(Buffer.from('tail'), 3),
    ]);
    for (const ch of CHUNKINGS) {
      expect((await decode(ch.split(stream))).equals(Buffer.concat([a, b])), ch.name).toBe(true);
    }
    expect((await decode([skippable(Buffer.from('only metadata'))])).length).toBe(0);
  });

  it.skipIf(!HAS_ZSTD)('concatenated zstd(1) frames with skippable frames between them', async () => {
    const x = noise(100_000, 3);
    const y = Buffer.from('y'.repeat(50_000));
    const stream = Buffer.concat([skippable(Buffer.from('a')), zstdCompress(x), skippable(Buffer.from('b')), zstdCompress(y, ['-19'])]);
    for (const ch of CHUNKINGS) {
      expect((await decode(ch.split(stream))).equals(Buffer.concat([x, y])), ch.name).toBe(true);
    }
  });

  it('trailing garbage is one warning; zero padding is silent', async () => {
    const warnings: ZoneP2vError[] = [];
    const out = await decode([handFrame(a), Buffer.from('garbage!')], zstdFilter, warnings);
    expect(out.equals(a)).toBe(true);
    expect(warnings.map((w) => w.code)).toEqual(['FILTER_TRAILING_DATA']);
    expect(warnings[0]!.offset).toBe(handFrame(a).length);
    const w2: ZoneP2vError[] = [];
    expect((await decode([handFrame(a), Buffer.alloc(1000)], zstdFilter, w2)).equals(a)).toBe(true);
    expect((await decode([handFrame(a), Buffer.alloc(2)], zstdFilter, w2)).equals(a)).toBe(true);
    expect(w2).toEqual([]);
  });

  it('not zstd at all, or empty', async () => {
    expect((await decodeError([Buffer.from('definitely not zstd')])).code).toBe('FILTER_CORRUPT');
    expect((await decodeError([Buffer.alloc(0)])).code).toBe('FILTER_TRUNCATED');
  });
});

describe('zstd: checks fzstd does not make', () => {
  const data = noise(200_000, 4);

  it('a corrupted content checksum is FILTER_CHECKSUM', async () => {
    const e = await decodeError([handFrame(data, { badChecksum: true })], zstdFilter, false);
    expect(e.code).toBe('FILTER_CHECKSUM');
    expect(e.message).toMatch(/^zstd: frame at byte 0 fails its content checksum/);
    expect(e.offset).toBe(handFrame(data).length - 4);
  });

  it.skipIf(!HAS_ZSTD)('a corrupted checksum in a zstd(1) frame, and corrupted content, are caught', async () => {
    const z = zstdCompress(data);
    const badSum = Buffer.from(z);
    badSum[badSum.length - 1]! ^= 0x40;
    expect((await decodeError([badSum], zstdFilter, false)).code).toBe('FILTER_CHECKSUM');
    // A flipped literal byte deep in a compressed block: fzstd refuses it (zstd(1) accepts this
    // one: the bit does not change what it decodes).
    const z2 = zstdCompress(Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(20) + 'unique tail 0123456789'));
    const bad = Buffer.from(z2);
    bad[bad.length - 10]! ^= 0x01;
    const e = await decodeError([bad], zstdFilter, false);
    expect(['FILTER_CHECKSUM', 'FILTER_CORRUPT']).toContain(e.code);
  });

  it('Frame_Content_Size is enforced: more output than declared stops early, less fails at the end', async () => {
    const more = await decodeError([handFrame(data, { fcs: 1000, checksum: false })], zstdFilter, false);
    expect(more.code).toBe('FILTER_CORRUPT');
    expect(more.message).toContain('more than its declared 1000 bytes');
    const less = await decodeError([handFrame(data, { fcs: data.length + 1, checksum: false })], zstdFilter, false);
    expect(less.code).toBe('FILTER_CORRUPT');
    expect(less.message).toContain(`decodes to ${data.length} bytes, not its declared ${data.length + 1}`);
  });

  it('dictionary frames are FILTER_UNSUPPORTED', async () => {
    const e = await decodeError([handFrame(data, { dictId: 12345 })]);
    expect(e.code).toBe('FILTER_UNSUPPORTED');
    expect(e.message).toBe('zstd: frame at byte 0 needs dictionary 12345, which is not available; decompress it with zstd -D <dictionary> first');
    // Dictionary_ID 0 means "none named": decoded normally.
    expect((await decode([handFrame(data, { dictId: 0 })])).equals(data)).toBe(true);
  });

  it('reserved bits, reserved block types and oversized blocks are FILTER_CORRUPT', async () => {
    const f = handFrame(Buffer.from('hello world'));
    const reserved = Buffer.from(f);
    reserved[4]! |= 0x08;
    expect((await decodeError([reserved])).code).toBe('FILTER_CORRUPT');
    const blockType3 = Buffer.from(f);
    const hs = (parseFrameHeader(f) as { headerSize: number }).headerSize;
    blockType3[hs]! |= 0x06; // block header byte 0: type bits 1-2 = 3
    expect((await decodeError([blockType3])).message).toContain('reserved type');
    // A 1 KiB window allows blocks of at most 1 KiB.
    const big = await decodeError([handFrame(noise(5000, 5), { windowLog: 10, blockSize: 2048 })]);
    expect(big.code).toBe('FILTER_CORRUPT');
    expect(big.message).toContain('above its maximum block size 1024');
  });

  it('LIMIT_MEMORY above maxWindowSize', async () => {
    const limited = createZstdFilter({ external: null, maxWindowSize: 2 ** 20 });
    const e = await decodeError([handFrame(Buffer.from('x'), { windowLog: 21 })], limited);
    expect(e.code).toBe('LIMIT_MEMORY');
    expect(e.message).toBe('zstd: frame at byte 0 needs a 2 MiB window, more than the limit of 1 MiB');
  });

  it('a Huffman weight table with a single symbol (hangs fzstd 0.1.1 forever) is FILTER_CORRUPT', async () => {
    // Compressed block: literals header (compressed, 1 stream), tree description byte 6 (FSE
    // weights), accuracy log 5 and a first symbol holding all 32 points; every FSE state then
    // reads 0 bits and fzstd's weight loop never ends.
    const content = Buffer.from([0xa2, 0x28, 0x00, 6, 0xf0, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
    expect(checkHuffmanWeights(content)).toBe('Huffman weights distribution with a single symbol');
    const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x20, 100]), u24((content.length << 3) | (2 << 1) | 1), content]);
    const started = Date.now();
    const e = await decodeError([frame], zstdFilter, false);
    expect(e.code).toBe('FILTER_CORRUPT');
    expect(e.message).toContain('single symbol');
    expect(Date.now() - started).toBeLessThan(2000);
    // Two symbols (16 + 16 points) is fine for the guard.
    const two = Buffer.from(content);
    two[4] = 0x00 | (17 & 0x0f) << 4; // value 17 on 5 bits: bits 4-7 of this byte, bit 0 of the next
    two[5] = 17 >> 4;
    expect(checkHuffmanWeights(two)).toBeNull();
  });

  it('a block that makes fzstd loop ~10^10 times is stopped by the time limit', async () => {
    // Compressed block: no literals, 98,047 sequences, RLE modes with the largest literal-length
    // and match-length codes (16 extra bits each, read as zeros past the end of the bitstream):
    // fzstd 0.1.1 copies ~131,000 bytes per sequence into a 128 KiB buffer, for minutes.
    const content = Buffer.from([0x00, 0xff, 0xff, 0xff, 0x54, 35, 0, 52, 0x01]);
    const bomb = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58]), u24((content.length << 3) | (2 << 1) | 1), content]);
    const started = Date.now();
    const e = await decodeError([bomb], createZstdFilter({ external: null, blockTimeoutMs: 300 }));
    expect(e.code).toBe('FILTER_CORRUPT');
    expect(e.message).toMatch(/^zstd: frame at byte 0 has blocks \(from byte 6\) that the built-in decoder did not finish within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5000);
    // The decoder is usable again afterwards.
    expect((await decode([handFrame(Buffer.from('after the bomb'))])).toString()).toBe('after the bomb');
  });

  it('frame headers parse as the spec says', () => {
    const h = parseFrameHeader(handFrame(Buffer.alloc(70_000), { windowLog: 27, fcsBytes: 8 }));
    expect(h).toMatchObject({ windowSize: 2 ** 27, contentSize: 70_000, hasChecksum: true, dictionaryId: 0, blockMaxSize: 131072 });
    const s = parseFrameHeader(handFrame(Buffer.alloc(300), { singleSegment: true, fcsBytes: 2 }));
    expect(s).toMatchObject({ singleSegment: true, windowSize: 300, contentSize: 300, blockMaxSize: 300, headerSize: 7 });
  });
});

describe('zstd: frames beyond fzstd (windows > 32 MiB)', () => {
  const data = noise(3 * 1024 * 1024, 6);
  const bigWindow = handFrame(data, { windowLog: 27 });

  it('without an external decoder: FILTER_UNSUPPORTED, and no bytes at all', async () => {
    const parts: Buffer[] = [];
    let err: unknown;
    try {
      for await (const c of offline.open(asAsync([bigWindow]), { onWarning: () => {} })) parts.push(c);
    } catch (e) {
      err = e;
    }
    expect(parts).toEqual([]);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect((err as ZoneP2vError).code).toBe('FILTER_UNSUPPORTED');
    expect((err as ZoneP2vError).message).toBe(
      'zstd: frame at byte 0 needs a 128 MiB window, more than the built-in decoder supports; install zstd(1)',
    );
  });

  it('the frame offset in the message is the frame, not the stream start', async () => {
    const stream = Buffer.concat([handFrame(Buffer.from('first')), skippable(Buffer.from('s')), bigWindow]);
    const e = await decodeError([stream], offline);
    expect(e.offset).toBe(handFrame(Buffer.from('first')).length + 9);
  });

  // By default (zstd(1) on PATH, external decoders on) the whole stream goes to zstd(1); with
  // an explicit per-frame zstd(1) decoder only the big-window frame does. With the programs
  // switched off (ZONEP2V_EXTERNAL_DECODERS=0) the default filter says so.
  it.skipIf(!HAS_ZSTD)('with zstd(1) on PATH: exact bytes, under every chunking', async () => {
    expect(await findZstdOnPath()).toMatch(/zstd$/);
    const stream = Buffer.concat([handFrame(Buffer.from('before ')), bigWindow, handFrame(Buffer.from(' after'))]);
    const want = Buffer.concat([Buffer.from('before '), data, Buffer.from(' after')]);
    const perFrame = createZstdFilter({ external: zstdCliDecoder('zstd') });
    for (const ch of [CHUNKINGS[0]!, CHUNKINGS[2]!]) {
      expect((await decode(ch.split(stream), perFrame)).equals(want), ch.name).toBe(true);
      if (externalDecodersEnabled({})) expect((await decode(ch.split(stream))).equals(want), ch.name).toBe(true);
      else expect((await decodeError(ch.split(stream))).message).toContain('external decoders are switched off');
    }
  });

  it.skipIf(!HAS_ZSTD)('a real `zstd --long=27` frame: decoded via zstd(1), or FILTER_UNSUPPORTED without it', async () => {
    const input = Buffer.concat([noise(2 * 1024 * 1024, 7), noise(2 * 1024 * 1024, 7)]);
    const z = zstdCompress(input, ['--long=27', '--no-content-size']);
    const h = parseFrameHeader(z);
    expect('windowSize' in h && h.windowSize).toBe(2 ** 27);
    if (externalDecodersEnabled({})) expect((await decode(randomChunks(z, 3, 100_000))).equals(input)).toBe(true);
    expect((await decode([z], createZstdFilter({ external: zstdCliDecoder('zstd') }))).equals(input)).toBe(true);
    expect((await decodeError([z], offline)).code).toBe('FILTER_UNSUPPORTED');
  });

  it('an external decoder that returns wrong bytes is caught by our checksum', async () => {
    const liar: ZstdExternalDecoder = async function* (frame) {
      for await (const _ of frame) {
        // consume the frame
      }
      const out = Buffer.from(data);
      out[12345]! ^= 1;
      yield out;
    };
    const e = await decodeError([bigWindow], createZstdFilter({ external: liar }));
    expect(e.code).toBe('FILTER_CHECKSUM');
  });

  it('an external decoder that returns too much is stopped by the content size', async () => {
    const verbose: ZstdExternalDecoder = async function* (frame) {
      for await (const _ of frame) {
        // consume the frame
      }
      yield data;
      yield Buffer.from('extra');
    };
    expect((await decodeError([bigWindow], createZstdFilter({ external: verbose }))).code).toBe('FILTER_CORRUPT');
    const lazy: ZstdExternalDecoder = async function* () {
      yield Buffer.alloc(0);
    };
    expect((await decodeError([bigWindow], createZstdFilter({ external: lazy }))).message).toContain('not read to its end');
  });

  it('a truncated big-window frame is FILTER_TRUNCATED even on the external path', async () => {
    const fake: ZstdExternalDecoder = async function* (frame) {
      for await (const _ of frame) {
        // consume the frame
      }
    };
    const e = await decodeError([bigWindow.subarray(0, 1_000_000)], createZstdFilter({ external: fake }));
    expect(e.code).toBe('FILTER_TRUNCATED');
    expect(e.offset).toBeGreaterThan(0);
  });

  it.skipIf(!HAS_ZSTD)('zstd(1) failing on a corrupt frame is FILTER_CORRUPT with its message; a missing binary is FILTER_UNSUPPORTED', async () => {
    const input = Buffer.from('abcdefgh'.repeat(100_000));
    const z = Buffer.from(zstdCompress(input, ['--long=27', '--no-content-size', '--no-check']));
    z[z.length - 20]! ^= 0xff;
    const viaCli = createZstdFilter({ external: zstdCliDecoder('zstd') });
    let err: unknown;
    try {
      const out = await decode([z], viaCli);
      // zstd(1) may not notice every flip in a frame without checksum; then it must not be our bytes
      expect(out.equals(input)).toBe(false);
    } catch (e) {
      err = e;
    }
    if (err) {
      expect(err).toBeInstanceOf(ZoneP2vError);
      expect((err as ZoneP2vError).code).toBe('FILTER_CORRUPT');
      expect((err as ZoneP2vError).message).toMatch(/^zstd: frame at byte 0 could not be decoded by zstd: /);
    }
    const missing = createZstdFilter({ external: zstdCliDecoder('/nonexistent/zstd') });
    expect((await decodeError([bigWindow], missing)).code).toBe('FILTER_UNSUPPORTED');
  });
});

describe('zstd: truncation and mutation', () => {
  const x = noise(50_000, 8);
  const y = Buffer.alloc(40_000, 0x33);
  const parts = [skippable(Buffer.from('meta')), handFrame(x, { blockSize: 16_384 }), handFrame(y, { rle: true, blockSize: 30_000 })];
  const stream = Buffer.concat(parts);
  const boundaries = new Map<number, Buffer>([
    [parts[0]!.length, Buffer.alloc(0)],
    [parts[0]!.length + parts[1]!.length, x],
    [stream.length, Buffer.concat([x, y])],
  ]);

  // The walk decides truncation on both paths; in process here (one child per cut would be slow).
  it('truncation at every byte: FILTER_TRUNCATED, or the frames before a frame boundary', async () => {
    const frame = handFrame(Buffer.from('short frame content'));
    for (let cut = 0; cut < frame.length; cut++) {
      const e = await decodeError([frame.subarray(0, cut)], zstdFilter, false);
      expect(e.code, `cut ${cut}`).toBe('FILTER_TRUNCATED');
      expect(e.offset).toBeLessThanOrEqual(cut);
    }
    const step = 97;
    for (let cut = 0; cut <= stream.length; cut += cut > 200 && cut < stream.length - 200 ? step : 1) {
      let out: Buffer | undefined;
      let err: unknown;
      try {
        out = await decode([stream.subarray(0, cut)], zstdFilter, [], Number.POSITIVE_INFINITY, false);
      } catch (e) {
        err = e;
      }
      if (boundaries.has(cut)) {
        expect(err, `cut ${cut}`).toBeUndefined();
        expect(out!.equals(boundaries.get(cut)!)).toBe(true);
      } else {
        expect(err, `cut ${cut}`).toBeInstanceOf(ZoneP2vError);
        expect((err as ZoneP2vError).code).toBe('FILTER_TRUNCATED');
      }
    }
  });

  it.skipIf(!HAS_ZSTD)('truncated zstd(1) output is FILTER_TRUNCATED', async () => {
    const z = zstdCompress(noise(300_000, 9));
    for (const cut of [5, 10, 100, 1000, z.length - 5, z.length - 1]) {
      expect((await decodeError([z.subarray(0, cut)])).code, `cut ${cut}`).toBe('FILTER_TRUNCATED');
    }
  });

  // Every frame has a content size and a checksum, so a mutation can only lead to an error, to
  // the original output, or to the output of the frames before the damage (when it turns the
  // rest into trailing data or cuts at a frame boundary).
  const sources: Array<{ z: Buffer; outputs: Buffer[] }> = [
    { z: stream, outputs: [Buffer.alloc(0), x, Buffer.concat([x, y])] },
  ];
  if (HAS_ZSTD) {
    const p = noise(20_000, 10);
    const q = Buffer.from('solaris zone image '.repeat(2000));
    // zstd(1) reading a pipe writes no content size unless told: one frame each way.
    sources.push({
      z: Buffer.concat([zstdCompress(p), skippable(Buffer.from('m')), zstdCompress(q, ['-19', `--stream-size=${q.length}`])]),
      outputs: [Buffer.alloc(0), p, Buffer.concat([p, q])],
    });
    sources.push({ z: zstdCompress(q, ['--ultra', '-22']), outputs: [Buffer.alloc(0), q] });
  }
  if (corpusAvailable() && HAS_ZSTD) {
    for (const f of ['generated/gnucpio-odc.cpio.multiframe.zst', 'libarchive/test_compat_zstd_1.tar.zst']) {
      const z = readCorpus(f);
      const full = execFileSync('zstd', ['-dc', corpusPath(f)], { maxBuffer: 1 << 28 });
      sources.push({ z, outputs: [full] });
    }
  }

  test.prop(
    [
      fc.nat(sources.length - 1),
      fc.constantFrom('flip', 'set', 'truncate', 'insert', 'delete'),
      fc.nat(),
      fc.integer({ min: 0, max: 255 }),
      fc.integer(),
    ],
    { numRuns: 300, timeout: 10_000 },
  )('mutated streams end in the right output or a ZoneP2vError, never a hang or runaway output', async (si, kind, at, value, seed) => {
    const { z, outputs } = sources[si]!;
    const i = at % z.length;
    let m: Buffer;
    if (kind === 'flip' || kind === 'set') {
      m = Buffer.from(z);
      m[i] = kind === 'flip' ? m[i]! ^ (1 << (value & 7)) : value;
    } else if (kind === 'truncate') m = z.subarray(0, i);
    else if (kind === 'insert') m = Buffer.concat([z.subarray(0, i), Buffer.from([value]), z.subarray(i)]);
    else m = Buffer.concat([z.subarray(0, i), z.subarray(i + 1)]);
    // Every block needs at least 3 bytes and yields at most 128 KiB: the structural bound.
    const cap = Math.ceil(m.length / 3) * 128 * 1024;
    let out: Buffer;
    try {
      out = await decode(randomChunks(m, seed, 2000), offline, [], cap);
    } catch (e) {
      expect(e).toBeInstanceOf(ZoneP2vError);
      return;
    }
    const ok = outputs.some((o) => o.equals(out)) || (outputs.length === 1 && outputs[0]!.subarray(0, out.length).equals(out));
    expect(ok, `${kind} at ${i}: ${out.length} bytes`).toBe(true);
  });

  // Random content in compressed blocks goes straight at fzstd's parsers: whatever happens must
  // end in a ZoneP2vError (ours, fzstd's wrapped, or the time limit) or bounded output.
  const fuzzed = createZstdFilter({ external: null, blockTimeoutMs: 150 });
  test.prop([fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.boolean(), fc.integer({ min: 10, max: 25 })], {
    numRuns: 200,
    timeout: 10_000,
  })('random compressed-block content never escapes as anything but a ZoneP2vError', async (content, single, windowLog) => {
    const header = single
      ? Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 200]) // single segment, checksum, FCS 200
      : Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x04, (windowLog - 10) << 3]);
    const frame = Buffer.concat([header, u24((content.length << 3) | (2 << 1) | 1), Buffer.from(content), Buffer.alloc(4)]);
    try {
      const out = await decode([frame], fuzzed, [], 128 * 1024);
      expect(out.length).toBeLessThanOrEqual(128 * 1024);
    } catch (e) {
      expect(e).toBeInstanceOf(ZoneP2vError);
    }
  });

  it('abort', async () => {
    const ac = new AbortController();
    const iter = zstdFilter.open(asAsync(randomChunks(stream, 2, 1000)), { onWarning: () => {}, signal: ac.signal })[Symbol.asyncIterator]();
    await iter.next();
    ac.abort();
    await expect(iter.next()).rejects.toMatchObject({ code: 'ABORTED' });
  });
});
