/**
 * Mutation properties (fast-check): random byte flips, truncations, insertions and deletions of
 * valid dumps — and header fields rewritten with a recomputed checksum, so that hostile values
 * get past the checksum into the parser — end in entries or a ZoneP2vError naming a byte offset:
 * never another exception, a hang, or unbounded memory. Unmutated dumps read the same under any
 * chunking. UFSDUMP_FUZZ_RUNS=20000 for a long run.
 */
import { describe, expect } from 'vitest';
import { fc, it } from '@fast-check/vitest';
import { ZoneP2vError } from '../../../src/errors.js';
import { newStats } from '../../../src/formats/format.js';
import { ufsdumpFormat, type UfsdumpReadOptions } from '../../../src/formats/ufsdump/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { asAsync, randomChunks } from '../../support/chunking.js';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import { fixChecksum, headerUnits, writeUfsdump, type DumpNode } from '../../support/ufsdump-write.js';
import { linuxTree, sampleTree } from './helpers.js';
import { withDeadline, applyByteEdit, cappedBody, type ByteEdit } from '../../support/mutation.js';

const RUNS = Number(process.env.UFSDUMP_FUZZ_RUNS ?? 150);

/** The sample tree without its 700 KiB file (keeps each run fast). */
const lean = (nodes: DumpNode[]) => nodes.filter((n) => n.path !== 'big.bin');

interface Base {
  name: string;
  bytes: Buffer;
  order: 'be' | 'le';
  /** Header offsets (plain streams only; compressed ones get byte mutations). */
  headers: number[];
}

function base(name: string, bytes: Buffer, order: 'be' | 'le', plain = true): Base {
  return { name, bytes, order, headers: plain ? headerUnits(bytes, order).map((h) => h.off) : [] };
}

const BASES: Base[] = [
  base('solaris-be', writeUfsdump(lean(sampleTree('be')), { order: 'be' }), 'be'),
  base('solaris-le', writeUfsdump(lean(sampleTree('le')), { order: 'le', volumeBreak: { insideData: { path: 'dir/sparse.dat', unit: 3 } } }), 'le'),
  base('linux-be', writeUfsdump(lean(linuxTree('be')), { order: 'be', dialect: 'linux' }), 'be'),
  base('linux-le-zlib', writeUfsdump(lean(linuxTree('le')), { order: 'le', dialect: 'linux', compress: 'zlib' }), 'le', false),
];
if (corpusAvailable()) {
  BASES.push(base('corpus linuxdump-ext2', readCorpus('generated/linuxdump-ext2.dump'), 'le'));
  BASES.push(base('corpus linuxdump-ext2-zlib', readCorpus('generated/linuxdump-ext2-zlib.dump'), 'le', false));
}

type Mutation =
  | ByteEdit
  | { kind: 'field'; header: number; at: number; value: number; width: 1 | 2 | 4 };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 1024 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 2048 }) }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('field' as const),
      header: fc.nat(),
      // mostly the interesting fields: type..checksum, dinode, c_count, c_addr, flags, spare
      at: fc.oneof(fc.integer({ min: 0, max: 27 }), fc.integer({ min: 32, max: 167 }), fc.integer({ min: 164, max: 675 }), fc.integer({ min: 880, max: 1023 })),
      value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 511, 512, 513, 0x7fffffff, 0xffffffff)),
      width: fc.constantFrom(1 as const, 2 as const, 4 as const),
    }),
  },
);

function mutate(b0: Base, ms: Mutation[]): Buffer {
  let b: Buffer = Buffer.from(b0.bytes);
  for (const m of ms) {
    if (b.length === 0) break;
    if (m.kind === 'field') {
      if (b0.headers.length === 0) continue;
      const h = b0.headers[m.header % b0.headers.length]!;
      if (h + 1024 > b.length) continue;
      const at = h + (m.at & ~(m.width - 1));
      if (m.width === 1) b[at] = m.value & 0xff;
      else if (m.width === 2) (b0.order === 'le' ? b.writeUInt16LE : b.writeUInt16BE).call(b, m.value & 0xffff, at);
      else (b0.order === 'le' ? b.writeUInt32LE : b.writeUInt32BE).call(b, m.value >>> 0, at);
      if (at < 28 || at >= 32) fixChecksum(b, h, b0.order);
      continue;
    }
    const at = m.at % b.length;
    switch (m.kind) {
      default:
        b = applyByteEdit(b, m);
    }
  }
  return b;
}

/** Reads everything, keeping at most `bodyCap` bytes of each body; returns a digest or throws. */
async function consume(chunks: Buffer[], bodyCap = 1 << 20): Promise<string> {
  const out: string[] = [];
  const src = new ByteSource(asAsync(chunks));
  const options: UfsdumpReadOptions = { onWarning: () => {}, maxDirectoryMapBytes: 1 << 20 };
  for await (const e of ufsdumpFormat.read(src, newStats(''), options)) {
    out.push(`${e.type}:${e.path.toString('hex')}:${e.size}:${e.linkTarget?.toString('hex')}:${e.uid}:${e.mode}:${(await cappedBody(e, bodyCap)).toString('hex')}`);
  }
  return out.join('|');
}


describe('ufsdump mutation properties', () => {
  for (const b of BASES) {
    it.prop([fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat()], { numRuns: RUNS })(
      `${b.name}: mutated dumps end in entries or a ZoneP2vError naming an offset`,
      async (ms, seed) => {
        const input = mutate(b, ms);
        const before = process.memoryUsage().rss;
        try {
          await withDeadline(consume(randomChunks(input, seed, 8192)), 10_000);
        } catch (e) {
          if (!(e instanceof ZoneP2vError)) throw e;
          expect(typeof e.offset, e.message).toBe('number');
          expect(e.message).toMatch(/^ufsdump: /);
        }
        expect(process.memoryUsage().rss - before).toBeLessThan(512 * 1024 * 1024);
      },
    );

    it.prop([fc.nat()], { numRuns: 10 })(`${b.name}: any chunking gives the same result`, async (seed) => {
      const whole = await consume([b.bytes]);
      expect(await consume(randomChunks(b.bytes, seed, 97))).toBe(whole);
    });
  }
});
