/**
 * Mutation properties (fast-check): random byte flips (also with the header checksum repaired,
 * so that corrupt fields get past the checksum), truncations, insertions and deletions in
 * valid archives of every variant end in entries or a ZoneP2vError — never another exception,
 * a hang, or a body delivering other than `size` bytes. Meta records are capped at 64 KiB and
 * bodies are read up to 1 MiB, so memory stays bounded whatever sizes the mutation claims.
 */
import { fc, it } from '@fast-check/vitest';
import { describe, expect } from 'vitest';
import { ZoneP2vError } from '../../../src/errors.js';
import { randomChunks } from '../../support/chunking.js';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import {
  base256,
  eoa,
  file,
  gnuLong,
  member,
  oldGnuSparse,
  pax,
  setChecksum,
  solarisAcl,
  sparse10Map,
  tar,
} from '../../support/tar-build.js';
import { readTarBuffer } from './tar-helpers.js';
import { applyByteEdit, type ByteEdit } from '../../support/mutation.js';

const sparseRuns: Array<[number, number]> = [
  [0, 300],
  [2000, 100],
  [4000, 10],
  [5000, 20],
  [6000, 30],
  [7000, 40],
];
const sparseFull = Buffer.alloc(8000);
for (const [o, l] of sparseRuns) sparseFull.fill(0x53, o, o + l);
const sparseStored = Buffer.concat(sparseRuns.map(([o, l]) => sparseFull.subarray(o, o + l)));

const BASES: Record<string, Buffer> = {
  ustar: tar(
    member({ name: 'dir/', typeflag: '5' }),
    file('dir/file', 'hello world'.repeat(60)),
    member({ name: 'dir/sym', typeflag: '2', linkname: 'file' }),
    member({ name: 'dir/hard', typeflag: '1', linkname: 'dir/file' }),
    member({ name: 'null', typeflag: '3', devmajor: 1, devminor: 3 }),
    member({ name: 'fifo', typeflag: '6' }),
    file('name', 'p', { prefix: 'some/prefix', uid: base256(70000, 8), mtime: base256(-5, 12) }),
    eoa(),
  ),
  pax: tar(
    pax([['uname', 'g'], ['mtime', '1.5']], 'g'),
    pax([['path', 'p'.repeat(150)], ['size', '7'], ['uid', '9'], ['hdrcharset', 'BINARY']]),
    file('short', 'abcdefg'),
    pax([['GNU.sparse.major', '1'], ['GNU.sparse.minor', '0'], ['GNU.sparse.name', 'sp'], ['GNU.sparse.realsize', '8000']]),
    file('GNUSparseFile/sp', Buffer.concat([sparse10Map(sparseRuns), sparseStored])),
    pax([['GNU.sparse.size', '8000'], ['GNU.sparse.map', sparseRuns.flat().join(',')]]),
    file('sp01', sparseStored),
    pax([['SUN.holesdata', ' 0 10 20 30']]),
    file('holes', Buffer.alloc(30, 1)),
    pax([['linkpath', 'x'.repeat(120)]]),
    member({ name: 'hl', typeflag: '1', linkname: 't' }, 'link body'),
    eoa(),
  ),
  gnu: tar(
    gnuLong('L', 'l'.repeat(200)),
    file('l'.repeat(100), 'long', { magic: 'gnu' }),
    gnuLong('K', 'k'.repeat(150)),
    member({ name: 's', typeflag: '2', magic: 'gnu' }),
    oldGnuSparse('old-sparse', sparseFull, sparseRuns),
    member({ name: 'vol', typeflag: 'V', magic: 'gnu' }),
    member({ name: 'd/', typeflag: 'D', magic: 'gnu' }, 'Yx\0\0'),
    eoa(),
  ),
  solaris: tar(
    pax([['path', 'x-path']], 'X'),
    solarisAcl('x-path', 0o1000002, 'user::rw-,other:r--'),
    file('x', 'solaris'),
    member({ name: 'x-path', typeflag: 'E' }, Buffer.from('1.0\x00\x00\x00\x000000000010\x000000000010\x000000000000\x00', 'latin1')),
    member({ name: '/dev/null/attr', typeflag: 'E' }, 'attr data'),
    member({ name: 'unknown', typeflag: 'Q' }, 'q'),
    eoa(),
  ),
  v7: tar(
    member({ name: 'dir/', typeflag: 0, magic: 'v7', mode: 0o40755 }),
    file('dir/a', 'v7 file', { magic: 'v7', typeflag: 0, checksum: 'signed' }),
    member({ name: 'dir/h', typeflag: '1', linkname: 'dir/a', magic: 'v7', size: 7 }),
    eoa(),
  ),
};
if (corpusAvailable()) {
  BASES['corpus-solaris-acl'] = readCorpus('libarchive/test_compat_solaris_tar_acl.tar');
  BASES['corpus-holesdata'] = readCorpus('libarchive/test_read_format_tar_pax_sun_holesdata.tar');
  BASES['corpus-gtar'] = readCorpus('libarchive/test_compat_gtar_1.tar');
}

type Mutation = ByteEdit | { kind: 'field'; at: number; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }) },
  // Mostly in the numeric/typeflag area of a header, checksum repaired afterwards.
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('field' as const), at: fc.nat(), value: fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x30, 0x37, 0x20, 0, 0x80, 0xff, 0x39)) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }) },
);

function mutate(base: Buffer, ms: Mutation[]): Buffer {
  let b: Buffer = Buffer.from(base);
  for (const m of ms) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    switch (m.kind) {
      case 'field': {
        const block = Math.floor(at / 512) * 512;
        if (block + 512 > b.length) break;
        const h = b.subarray(block, block + 512);
        if (h.every((x) => x === 0)) break;
        h[100 + (at % 400)] = m.value;
        setChecksum(h, at % 3 === 0 ? 'signed' : 'unsigned');
        break;
      }
      default:
        b = applyByteEdit(b, m);
    }
  }
  return b;
}

const BODY_CAP = 1 << 20;
/** Runs per base; raise with TAR_FUZZ_RUNS=5000 for a longer local soak. */
const RUNS = Number(process.env.TAR_FUZZ_RUNS ?? 150);

async function check(buf: Buffer, seed: number): Promise<void> {
  const chunking = seed % 3 === 0 ? undefined : { name: 'random', split: (x: Buffer) => randomChunks(x, seed) };
  const r = await readTarBuffer(buf, { chunking, bodyCap: BODY_CAP, maxMetaSize: 64 * 1024 });
  if (r.error !== undefined && !(r.error instanceof ZoneP2vError)) throw r.error;
  for (const w of r.warnings) expect(w).toBeInstanceOf(ZoneP2vError);
  const complete = r.error === undefined;
  for (const e of r.entries) {
    expect(Number.isSafeInteger(e.size) && e.size >= 0).toBe(true);
    // A fully read body delivers exactly `size` bytes (the last entry may have failed mid-body).
    if (complete && e.size < BODY_CAP) expect(e.data!.length).toBe(e.size);
  }
}

describe('tar mutation properties', () => {
  for (const [name, base] of Object.entries(BASES)) {
    it('reads the unmutated base cleanly', async () => {
      const r = await readTarBuffer(base);
      expect(r.error, name).toBeUndefined();
      expect(r.entries.length, name).toBeGreaterThan(0);
    });

    it.prop([fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1, max: 1 << 30 })], {
      numRuns: RUNS,
    })(`${name}: mutations end in entries or a ZoneP2vError`, async (ms, seed) => {
      await check(mutate(base, ms), seed);
    });
  }

  it.prop([fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 1, max: 1 << 30 })], { numRuns: 200 })(
    'random bytes end in entries or a ZoneP2vError',
    async (bytes, seed) => {
      await check(Buffer.from(bytes), seed);
    },
  );
});
