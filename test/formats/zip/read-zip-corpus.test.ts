/**
 * Every zip of the corpus MANIFEST lists exactly its expected_entries: in random-access mode
 * (through the real file, and through an in-memory RandomAccess that streams the central
 * directory in 7-byte pieces) and in streaming mode under every chunking. Where streaming mode
 * cannot give what the central directory says (symlinks), or the sample is broken on purpose,
 * the expectation is spelled out below with the reason.
 */
import { describe, expect, it } from 'vitest';
import { readBody, type Entry } from '../../../src/entry/entry.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { newStats, type FormatReadOptions } from '../../../src/formats/format.js';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { zipFormat } from '../../../src/formats/zip/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { openRandomAccess, type RandomAccess } from '../../../src/io/random-access.js';
import { asAsync, CHUNKINGS } from '../../support/chunking.js';
import { corpusAvailable, corpusPath, readCorpus, readManifest, type ManifestRow } from '../../support/corpus.js';
import { expectedTokens, tokenOf } from '../../support/listing.js';
import { memoryRandomAccess } from './helpers.js';

const rows = corpusAvailable() ? readManifest().filter((r) => /zip/i.test(r.format)) : [];

interface Outcome {
  tokens: string[];
  /** Error code the listing ends with (after the tokens). */
  error?: string;
}

const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

/** Random-access expectations that differ from the MANIFEST cell. */
const RANDOM_SPECIAL: Record<string, Outcome> = {
  // libarchive built this sample with different names in the local and central headers (the
  // central ones CP437, the local ones ASCII with Info-ZIP Unicode Path extras whose CRCs fit
  // only some of them). Names that differ between the two headers are refused: FORMAT_CORRUPT
  // at the second entry. (The MANIFEST cell is bsdtar's C-locale listing, which skips names it
  // cannot convert.)
  'libarchive/test_read_format_zip_7075_utf8_paths.zip': { tokens: ['f:File 1.txt:9'], error: 'FORMAT_CORRUPT' },
};

/**
 * Streaming expectations that differ from the MANIFEST cell, and why:
 *  - symlinks: local headers carry no file type; a symlink arrives as a regular file whose
 *    content (and size) is its target, and the central-directory cross-check warns about it;
 *  - test_read_format_zip.zip: file2 has a data descriptor with a wrong CRC (made so by
 *    libarchive, see its test_read_format_zip.c); streaming mode must read the data to find
 *    the descriptor, so the listing itself ends in FORMAT_CHECKSUM;
 *  - the 7075 sample: the local names (with their valid Unicode Path extras: libarchive's
 *    expectation for this file) are delivered, then the central directory disagrees with them.
 */
function streamingOutcome(row: ManifestRow, base: string[]): Outcome {
  switch (row.filename) {
    case 'libarchive/test_read_format_zip.zip':
      return { tokens: base, error: 'FORMAT_CHECKSUM' };
    case 'libarchive/test_read_format_zip_7075_utf8_paths.zip':
      return {
        tokens: ['f:File 1.txt:9', `f:${utf8('File 2 - ö.txt')}:9`, `f:${utf8('File 3 - ä.txt')}:9`, 'f:File 4 - xx.txt:9'],
        error: 'FORMAT_CORRUPT',
      };
    default:
      return { tokens: base.map((t) => symlinkAsFile(t)) };
  }
}

/** `l:a->b` as streaming mode delivers it: `f:a:<length of b>`. */
function symlinkAsFile(token: string): string {
  const m = /^l:(.*)->(.*)$/s.exec(token);
  return m ? `f:${m[1]}:${Buffer.from(m[2]!, 'latin1').length}` : token;
}

/** Rows where streaming mode delivers a symlink as a file (checked to stay in sync). */
const STREAMING_SYMLINK_ROWS = ['libarchive/test_read_format_zip_symlink.zip', 'generated/bsdtar-store.zip', 'generated/bsdtar.zip'];

interface Listed extends Outcome {
  entries: Entry[];
  warnings: ZoneP2vError[];
}

async function list(bytes: Buffer, options: Partial<FormatReadOptions>, chunks: Buffer[] = [bytes]): Promise<Listed> {
  const warnings: ZoneP2vError[] = [];
  const src = new ByteSource(asAsync(options.randomAccess ? [] : chunks));
  const entries: Entry[] = [];
  const tokens: string[] = [];
  try {
    for await (const e of zipFormat.read(src, newStats('zip'), { onWarning: (w) => warnings.push(w), ...options })) {
      entries.push(e);
      tokens.push(tokenOf(e));
    }
  } catch (e) {
    if (!(e instanceof ZoneP2vError)) throw e;
    return { tokens, entries, warnings, error: e.code };
  }
  return { tokens, entries, warnings };
}

describe.skipIf(!corpusAvailable())('zip corpus listings', () => {
  it('covers every zip row of the manifest', () => {
    expect(rows.length).toBeGreaterThanOrEqual(19);
    const withSymlinks = rows.filter((r) => r.expected.includes('l:')).map((r) => r.filename);
    expect(withSymlinks.sort()).toEqual([...STREAMING_SYMLINK_ROWS].sort());
  });

  for (const row of rows) {
    const bytes = readCorpus(row.filename);
    const base = expectedTokens(row.expected);
    const randomExpected = RANDOM_SPECIAL[row.filename] ?? { tokens: base };

    describe(row.filename, () => {
      it('random access (the file itself)', async () => {
        const ra = await openRandomAccess(corpusPath(row.filename));
        try {
          const got = await list(bytes, { randomAccess: ra });
          expect({ tokens: got.tokens, error: got.error }).toEqual({ tokens: randomExpected.tokens, error: randomExpected.error });
          if (!randomExpected.error) expect(got.warnings).toEqual([]);
        } finally {
          await ra.close();
        }
      });

      it('random access (directory streamed in 7-byte pieces)', async () => {
        const got = await list(bytes, { randomAccess: memoryRandomAccess(bytes, 7) });
        expect({ tokens: got.tokens, error: got.error }).toEqual({ tokens: randomExpected.tokens, error: randomExpected.error });
      });

      const streamExpected = streamingOutcome(row, base);
      let first: string | null = null;
      for (const chunking of CHUNKINGS) {
        it(`streaming (${chunking.name} chunks)`, async () => {
          const got = await list(bytes, {}, chunking.split(bytes));
          expect({ tokens: got.tokens, error: got.error }).toEqual({ tokens: streamExpected.tokens, error: streamExpected.error });
          const symlinkWarnings = got.warnings.filter((w) => /is a symlink according to the central directory/.test(w.message));
          expect(symlinkWarnings.length).toBe(base.filter((t) => t.startsWith('l:')).length);
          const digest = JSON.stringify(got.entries.map((e) => [tokenOf(e), e.mode, e.uid, e.gid, e.mtime]));
          if (first === null) first = digest;
          else expect(digest).toBe(first);
        });
      }
    });
  }
});

/** The entries of a tar with their bodies, by path (hard links resolved to their target's body). */
async function tarBodies(bytes: Buffer): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const src = new ByteSource(asAsync([bytes]));
  for await (const e of tarFormat.read(src, newStats('tar'), { onWarning: () => {} })) {
    const key = e.path.toString('latin1');
    if (e.type === 'file') out.set(key, await readBody(e));
    else if (e.type === 'hardlink') out.set(key, out.get(e.linkTarget!.toString('latin1'))!);
    else if (e.type === 'symlink') out.set(key, e.linkTarget!);
  }
  return out;
}

async function zipBodies(bytes: Buffer, options: Partial<FormatReadOptions>, chunks: Buffer[] = [bytes]): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  const src = new ByteSource(asAsync(options.randomAccess ? [] : chunks));
  for await (const e of zipFormat.read(src, newStats('zip'), { onWarning: () => {}, ...options })) {
    if (e.type === 'file') out.set(e.path.toString('latin1'), await readBody(e));
    else if (e.type === 'symlink') out.set(e.path.toString('latin1'), e.linkTarget!);
  }
  return out;
}

describe.skipIf(!corpusAvailable())('zip corpus bodies equal the same files in generated/gnutar-pax.tar', () => {
  for (const name of ['generated/bsdtar.zip', 'generated/bsdtar-store.zip']) {
    it(`${name}, random access and streaming`, async () => {
      const expected = await tarBodies(readCorpus('generated/gnutar-pax.tar'));
      const bytes = readCorpus(name);
      const modes: Array<[string, Map<string, Buffer>]> = [
        ['random', await zipBodies(bytes, { randomAccess: memoryRandomAccess(bytes, 1000) })],
        ['stream whole', await zipBodies(bytes, {})],
        ['stream random-42', await zipBodies(bytes, {}, CHUNKINGS[3]!.split(bytes))],
        ['stream one-byte', await zipBodies(bytes, {}, CHUNKINGS[1]!.split(bytes))],
      ];
      for (const [mode, got] of modes) {
        expect(got.size, mode).toBe(12); // 10 files and 2 symlinks
        for (const [path, body] of got) {
          const want = expected.get(path);
          expect(want, `${mode}: ${path} is in the tar`).toBeDefined();
          expect(body.equals(want!), `${mode}: ${path}`).toBe(true);
        }
      }
    });
  }
});

describe.skipIf(!corpusAvailable())('zip corpus metadata (random access)', () => {
  const one = async (file: string, ra?: RandomAccess) => {
    const bytes = readCorpus(file);
    return (await list(bytes, { randomAccess: ra ?? memoryRandomAccess(bytes) })).entries;
  };

  it('test_read_format_zip.zip: mtimes from the UT extra (libarchive test values)', async () => {
    const [dir, file1] = await one('libarchive/test_read_format_zip.zip');
    expect(dir!.mtime).toBe(1179604249);
    expect(file1!.mtime).toBe(1179604289);
    expect(dir!.mode).toBe(0o755);
  });

  it("'ux' extra gives uid/gid; PKWARE Unix extra gives uid, gid and mtime", async () => {
    const [ux] = await one('libarchive/test_read_format_zip_ux.zip');
    expect([ux!.uid, ux!.gid]).toEqual([1001, 1001]);
    const [pk] = await one('libarchive/test_read_format_zip_pkware_unix.zip');
    expect([pk!.uid, pk!.gid, pk!.mtime]).toEqual([1001, 1002, 0x4d86a108]);
  });

  it('DOS time is read as UTC when no extra gives the time', async () => {
    const [file1] = await one('libarchive/test_compat_zip_2.zip');
    expect(file1!.mtime).toBe(Date.UTC(2010, 10, 6, 18, 43, 58) / 1000);
  });

  it('Unix modes, setuid and symlink targets from bsdtar', async () => {
    const entries = await one('generated/bsdtar.zip');
    const by = new Map(entries.map((e) => [e.path.toString('latin1'), e]));
    expect(by.get('tree/setuid-prog')!.mode).toBe(0o4755);
    expect(by.get('tree/dir/setgid-sticky')!.mode & 0o7000).toBe(0o3000);
    expect(by.get('tree/symlink-to-file')!.size).toBe(0);
    expect(by.get('tree/dir/sub/')!.type).toBe('directory');
  });

  it('the self-extractor is variant sfx; zip64 samples are zip64', async () => {
    for (const [file, variant] of [
      ['libarchive/test_read_format_zip_sfx', 'sfx'],
      ['libarchive/test_read_format_zip_zip64a.zip', 'zip64'],
      ['libarchive/test_read_format_zip_zip64b.zip', 'zip64'],
      ['libarchive/test_compat_zip_1.zip', 'zip'],
    ] as const) {
      const bytes = readCorpus(file);
      const stats = newStats('zip');
      const src = new ByteSource(asAsync([]));
      for await (const e of zipFormat.read(src, stats, { onWarning: () => {}, randomAccess: memoryRandomAccess(bytes) })) void e;
      expect(stats.variant, file).toBe(variant);
    }
  });

  it('zip64 samples read their 6-byte body in both modes', async () => {
    for (const file of ['libarchive/test_read_format_zip_zip64a.zip', 'libarchive/test_read_format_zip_zip64b.zip']) {
      const bytes = readCorpus(file);
      for (const options of [{ randomAccess: memoryRandomAccess(bytes) }, {}]) {
        const bodies = await zipBodies(bytes, options);
        expect(bodies.get('-')!.length).toBe(6);
      }
    }
  });

  it('unsupported methods list normally; reading the body names the method', async () => {
    const cases: Array<[string, string]> = [
      ['libarchive/test_read_format_zip_bzip2.zipx', '12 (bzip2)'],
      ['libarchive/test_read_format_zip_lzma.zipx', '14 (lzma)'],
      ['libarchive/test_read_format_zip_zstd.zipx', '93 (zstd)'],
      ['libarchive/test_read_format_zip_xz_multi.zipx', '95 (xz)'],
    ];
    for (const [file, method] of cases) {
      const bytes = readCorpus(file);
      for (const options of [{ randomAccess: memoryRandomAccess(bytes) }, {}]) {
        const src = new ByteSource(asAsync(options.randomAccess ? [] : [bytes]));
        const it = zipFormat.read(src, newStats('zip'), { onWarning: () => {}, ...options });
        const first = (await it.next()).value as Entry;
        const err = await readBody(first).catch((e) => e);
        expect(err).toBeInstanceOf(ZoneP2vError);
        expect(err.code).toBe('FORMAT_UNSUPPORTED');
        expect(err.message).toBe(
          `zip: entry '${first.path.toString('latin1')}' (local header at byte 0) uses compression method ${method}, which is not supported`,
        );
        await it.return(undefined);
      }
    }
  });
});
