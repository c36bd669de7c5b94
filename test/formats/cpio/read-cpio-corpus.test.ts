/**
 * Every cpio file of the corpus MANIFEST (uncompressed, plus the gzip ones through node:zlib)
 * lists exactly its expected_entries under every chunking, with identical results. The other
 * compressed ones are decompressed by the reference tool when it is installed and read in two
 * chunkings (their filters are tested elsewhere).
 */
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { corpusAvailable, corpusPath, readCorpus, readManifest } from '../../support/corpus.js';
import { expectedItems, manifestItem, readCpio, sameListing } from './helpers.js';

const AFIO_PART1 = 'libarchive/test_read_format_cpio_afio_header.part1.cpio';
const AFIO_PART2 = 'libarchive/test_read_format_cpio_afio_header.part2.cpio';

/** Reference decompressors for the compressions node:zlib does not cover. */
const TOOLS: Record<string, [string, string[]]> = {
  bzip2: ['bzip2', ['-dc']],
  xz: ['xz', ['-dc']],
  lzma: ['xz', ['-dc', '--format=lzma']],
  zstd: ['zstd', ['-dc']],
  compress: ['gzip', ['-dc']],
};

function tool(filename: string, compression: string): Buffer | null {
  const t = TOOLS[compression];
  if (!t) return null;
  try {
    const opts = { maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore'] as ['ignore', 'pipe', 'ignore'] };
    return execFileSync(t[0], [...t[1], corpusPath(filename)], opts);
  } catch {
    return null; // tool missing: covered by the filter tests
  }
}

function inputOf(filename: string, compression: string): Buffer | null {
  if (filename === AFIO_PART2) return null; // read together with part 1
  if (filename === AFIO_PART1) return Buffer.concat([readCorpus(AFIO_PART1), readCorpus(AFIO_PART2)]);
  if (compression === 'none') return readCorpus(filename);
  if (compression === 'gzip') return gunzipSync(readCorpus(filename));
  return tool(filename, compression);
}

const rows = corpusAvailable() ? readManifest().filter((r) => r.format.startsWith('cpio')) : [];

describe.skipIf(!corpusAvailable())('cpio corpus listings', () => {
  it('covers every uncompressed cpio file of the manifest', () => {
    const none = rows.filter((r) => r.compression === 'none');
    expect(rows.filter((r) => r.compression === 'gzip').length).toBeGreaterThanOrEqual(4);
    expect(none.length).toBeGreaterThanOrEqual(29);
  });

  for (const row of rows) {
    const input = inputOf(row.filename, row.compression);
    if (input === null) continue;
    describe(`${row.filename}`, () => {
      const expected = expectedItems(row.expected);
      let first: string | null = null;
      const zlibOrNone = row.compression === 'none' || row.compression === 'gzip';
      for (const chunking of zlibOrNone ? CHUNKINGS : CHUNKINGS.filter((c) => c.name === 'random-42')) {
        it(`lists its expected entries (${chunking.name} chunks)`, async () => {
          const { entries, warnings, stats } = await readCpio(chunking.split(input));
          const listing = entries.map(manifestItem);
          if (!sameListing(listing, expected)) expect(listing).toEqual(expected);
          // The afio sample is a header test: it has no trailer, which is one warning.
          if (row.filename === AFIO_PART1) {
            expect(warnings.map((w) => [w.code, w.layer, w.offset])).toEqual([['FORMAT_WARNING', 'cpio-afio', 117]]);
          } else {
            expect(warnings).toEqual([]);
          }
          expect(stats.entries).toBe(entries.length);
          // Identical results whatever the chunking (bodies included).
          const digest = JSON.stringify(
            entries.map((e) => [manifestItem(e), e.mode, e.uid, e.gid, e.mtime, e.data.toString('base64')]),
          );
          if (first === null) first = digest;
          else expect(digest).toBe(first);
        });
      }
    });
  }
});
