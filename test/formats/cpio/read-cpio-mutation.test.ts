/**
 * Mutation properties (fast-check): random byte flips, truncations, insertions and deletions
 * in valid archives of every variant end in entries or a ZoneP2vError — never another
 * exception, a hang, or reading past what a body is allowed to hold. And unmutated archives
 * give the same result under any chunking.
 */
import { describe, expect } from 'vitest';
import { fc, it } from '@fast-check/vitest';
import { ZoneP2vError } from '../../../src/errors.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats } from '../../../src/formats/format.js';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { asAsync, randomChunks } from '../../support/chunking.js';
import { buildCpio, solarisHolesText, type BuildVariant } from '../../support/cpio-build.js';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import { sampleEntries } from './common-suite.js';
import { withDeadline, applyByteEdit, cappedBody, type ByteEdit } from '../../support/mutation.js';

function archiveFor(v: BuildVariant): Buffer {
  const link = { ino: 50, nlink: 2 };
  const solaris =
    v === 'newc' || v === 'odc'
      ? [
          { name: 'f', mode: 0xe080, data: '1000002user::rw-,other:r--\0' },
          { name: '/dev/null/a.hdr', mode: 0xb1a4, data: 'hdr' },
          {
            name: 'sparse',
            mode: 0o300644,
            data: Buffer.concat([solarisHolesText([[100, 10]], 300), Buffer.alloc(10, 0x73)]),
          },
        ]
      : [];
  return buildCpio(v, [
    ...sampleEntries(),
    { name: 'h1', ...link },
    { name: 'h2', data: 'linked data', ...link },
    ...solaris,
  ]);
}

/** Mutations per variant; CPIO_FUZZ_RUNS=20000 for a long run. */
const RUNS = Number(process.env.CPIO_FUZZ_RUNS ?? 300);

const VARIANTS: BuildVariant[] = ['odc', 'newc', 'crc', 'afio', 'bin-le', 'bin-be'];
const BASES = new Map(VARIANTS.map((v) => [v, archiveFor(v)]));

type Mutation = ByteEdit;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      at: fc.nat(),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  },
);

function mutate(base: Buffer, ms: Mutation[]): Buffer {
  let b: Buffer = Buffer.from(base);
  for (const m of ms) {
    if (b.length === 0) break;
    b = applyByteEdit(b, m);
  }
  return b;
}

/** Reads everything, consuming at most `bodyCap` bytes of each body; returns a digest or throws. */
async function consume(chunks: Buffer[], bodyCap = 1 << 20): Promise<string> {
  const out: string[] = [];
  const src = new ByteSource(asAsync(chunks));
  for await (const e of cpioFormat.read(src, newStats('cpio'), { onWarning: () => {} })) {
    const target = e.linkTarget?.toString('hex');
    out.push(`${e.type}:${e.path.toString('hex')}:${e.size}:${target}:${(await cappedBody(e, bodyCap)).toString('hex')}`);
  }
  return out.join('|');
}


const CORPUS_BASES = ['generated/gnucpio-crc.cpio', 'generated/mirpax-bcpio-be.cpio', 'generated/bsdtar-odc.cpio'];

describe('cpio mutation properties', () => {
  for (const file of corpusAvailable() ? CORPUS_BASES : []) {
    const base = readCorpus(file);
    it.prop([fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat()], { numRuns: 150 })(
      `${file}: mutated archives end in entries or a ZoneP2vError`,
      async (ms, seed) => {
        try {
          await withDeadline(consume(randomChunks(mutate(base, ms), seed, 4096)), 5000);
        } catch (e) {
          if (!(e instanceof ZoneP2vError)) throw e;
        }
      },
    );
  }

  for (const v of VARIANTS) {
    const base = BASES.get(v)!;

    it.prop([fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat()], { numRuns: RUNS })(
      `${v}: mutated archives end in entries or a ZoneP2vError`,
      async (ms, seed) => {
        const input = mutate(base, ms);
        try {
          await withDeadline(consume(randomChunks(input, seed, 64)), 5000);
        } catch (e) {
          if (!(e instanceof ZoneP2vError)) throw e;
          expect(typeof e.code).toBe('string');
        }
      },
    );

    it.prop([fc.nat()], { numRuns: 20 })(`${v}: any chunking gives the same result`, async (seed) => {
      const whole = await consume([base]);
      expect(await consume(randomChunks(base, seed, 97))).toBe(whole);
    });
  }
});
