/**
 * Mutation properties (fast-check): byte flips, truncations, insertions and deletions in valid
 * zips end in entries or a ZoneP2vError — never another exception, a hang, or runaway memory —
 * in random-access mode and in streaming mode under random chunking. Unmutated archives give
 * the same result under any chunking.
 */
import { describe, expect } from 'vitest';
import { fc, it } from '@fast-check/vitest';
import { ZoneP2vError } from '../../../src/errors.js';
import { newStats } from '../../../src/formats/format.js';
import { zipFormat } from '../../../src/formats/zip/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { asAsync, randomChunks } from '../../support/chunking.js';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import { buildZip } from '../../support/zip-build.js';
import { memoryRandomAccess, type Mode } from './helpers.js';
import { withDeadline, applyByteEdit, cappedBody, type ByteEdit } from '../../support/mutation.js';

/** Mutations per base and mode; ZIP_FUZZ_RUNS=20000 for a long run. */
const RUNS = Number(process.env.ZIP_FUZZ_RUNS ?? 150);

const text = Buffer.from('zone image payload '.repeat(40));
const BUILT: Record<string, Buffer> = {
  features: buildZip([
    { name: 'dir/', data: '', mode: 0o40755 },
    { name: 'dir/a.txt', data: text, method: 8, mtime: 1_600_000_000, uid: 5, gid: 6 },
    { name: 'dir/dd', data: text, method: 8, descriptor: 'sig' },
    { name: 'dir/dd-nosig', data: 'short', method: 8, descriptor: 'nosig', sizeInLocalHeader: true },
    { name: 'dir/stored-dd', data: Buffer.from('PK\x07\x08 inside PK\x03\x04'), descriptor: 'sig' },
    { name: 'dir/z64', data: text.subarray(0, 100), method: 8, zip64: true },
    { name: 'dir/z64dd', data: 'x', method: 8, descriptor: 'nosig', zip64: true },
    { name: 'link', data: 'dir/a.txt', mode: 0o120777 },
    { name: Buffer.from([0x63, 0x82]), data: 'u', unicodePath: Buffer.from('cé') },
    { name: 'bz', data: 'not bzip2', method: 12 },
  ]).bytes,
  zip64end: buildZip([{ name: 'a', data: text, method: 8 }, { name: 'b', data: 'b' }], { zip64End: true, comment: 'c' }).bytes,
};

const CORPUS = ['generated/bsdtar.zip', 'libarchive/test_read_format_zip.zip', 'libarchive/test_read_format_zip_zip64b.zip', 'libarchive/test_compat_zip_2.zip'];

type Mutation = ByteEdit;

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }) },
);

function mutate(base: Buffer, ms: Mutation[]): Buffer {
  let b: Buffer = Buffer.from(base);
  for (const m of ms) {
    if (b.length === 0) break;
    b = applyByteEdit(b, m);
  }
  return b;
}

/** Reads everything (at most `bodyCap` bytes of each body); returns a digest or throws. */
async function consume(bytes: Buffer, mode: Mode, seed: number, bodyCap = 1 << 20): Promise<string> {
  const out: string[] = [];
  const src = new ByteSource(asAsync(randomChunks(bytes, seed, 97)));
  const options = mode === 'random' ? { onWarning: () => {}, randomAccess: memoryRandomAccess(bytes, 61) } : { onWarning: () => {} };
  for await (const e of zipFormat.read(src, newStats('zip'), options)) {
    out.push(`${e.type}:${e.path.toString('hex')}:${e.size}:${e.linkTarget?.toString('hex')}:${(await cappedBody(e, bodyCap)).toString('hex')}`);
  }
  return out.join('|');
}


const bases: Array<[string, Buffer]> = [
  ...Object.entries(BUILT),
  ...(corpusAvailable() ? CORPUS.map((f) => [f, readCorpus(f)] as [string, Buffer]) : []),
];

describe('zip mutation properties', () => {
  const rssBefore = process.memoryUsage().rss;
  for (const [name, base] of bases) {
    for (const mode of ['random', 'stream'] as const) {
      it.prop([fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.nat()], { numRuns: RUNS })(
        `${name} (${mode}): mutated archives end in entries or a ZoneP2vError`,
        async (ms, seed) => {
          try {
            await withDeadline(consume(mutate(base, ms), mode, seed), 5000);
          } catch (e) {
            if (!(e instanceof ZoneP2vError)) throw e;
            expect(typeof e.code).toBe('string');
            expect(e.message).toMatch(/^zip: /);
          }
        },
      );
    }
    it.prop([fc.nat()], { numRuns: 10 })(`${name}: any chunking gives the same result`, async (seed) => {
      const whole = await consume(base, 'stream', 0).catch((e: ZoneP2vError) => e.code);
      expect(await consume(base, 'stream', seed).catch((e: ZoneP2vError) => e.code)).toBe(whole);
    });
  }
  it('memory stayed bounded', () => {
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 << 20);
  });
});
