/**
 * Detection matrix: for every corpus file and every fixture, the layer chain (filters,
 * envelope) and the format with its variant, as detected by content alone (file names are
 * never consulted). Expectations come from the MANIFEST's format/compression columns through
 * the rules below, so a new corpus row is covered automatically.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openArchive } from '../../src/pipeline/open-archive.js';
import { ZoneP2vError } from '../../src/errors.js';
import { asAsync } from '../support/chunking.js';
import { corpusPath, PROJECT_ROOT, readCorpus, readManifest, type ManifestRow } from '../support/corpus.js';
import { ByteSource } from '../../src/io/byte-source.js';
import { openRandomAccess } from '../../src/io/random-access.js';

interface Expect {
  layers: string[];
  format: string | null;
  variant?: string;
}

/** Rows whose first header differs from what the format column suggests (checked by hand). */
const VARIANT_OVERRIDES: Record<string, string> = {
  // The sample misspells the magic as `utsar`: only the checksum identifies it (v7 bid).
  'libarchive/test_read_format_tar_invalid_pax_size.tar': 'v7',
  // Written with GNU magic `ustar  \0` although it carries a pax `g` header.
  'libarchive/test_read_format_tar_pax_g_large.tar': 'gnu',
};

/** The MANIFEST calls libarchive's test_extract.cpio.* newc; their bytes start `070707` (odc). */
const CPIO_OVERRIDES: Record<string, string> = Object.fromEntries(
  ['Z', 'bz2', 'gz', 'lzma', 'xz', 'zst'].map((x) => [`libarchive/test_extract.cpio.${x}`, 'odc']),
);

function expectedFor(row: ManifestRow): Expect | 'refused' {
  if (/dump/i.test(row.format)) return { layers: ['ufsdump'], format: 'ufsdump', variant: 'linux-le' };
  if (/zip/i.test(row.format) && !/flash/i.test(row.format)) {
    const variant = /zip64/.test(row.filename) ? 'zip64' : /sfx/.test(row.filename) ? 'sfx' : 'zip';
    return { layers: ['zip'], format: 'zip', variant };
  }
  if (row.filename.endsWith('afio_header.part2.cpio')) return 'refused';
  const c = row.compression;
  const layers = c === 'none' ? [] : c === 'none (archive section only)' ? ['flar'] : c === 'compress (archive section only)' ? ['flar', 'compress'] : [c];
  if (row.expected.startsWith('raw:')) return { layers, format: null };
  const f = row.format;
  if (/flash archive/i.test(f) || /cpio/i.test(f)) {
    const variant = /070707|odc/.test(f)
      ? 'odc'
      : /070701|newc/.test(f)
        ? 'newc'
        : /070702|crc/.test(f)
          ? 'crc'
          : /afio/.test(f)
            ? 'afio'
            : /big-endian/i.test(f)
              ? 'bin-be'
              : 'bin-le';
    return { layers: [...layers, 'cpio'], format: 'cpio', variant: CPIO_OVERRIDES[row.filename] ?? variant };
  }
  const variant = VARIANT_OVERRIDES[row.filename] ?? (/v7|no ustar magic/i.test(f) ? 'v7' : /GNU tar/.test(f) ? 'gnu' : 'ustar');
  return { layers: [...layers, 'tar'], format: 'tar', variant };
}

async function detectBytes(bytes: Buffer, file?: string) {
  // As the CLI opens a plain file: with random access (a self-extracting zip is found by its tail).
  if (file) {
    const ra = await openRandomAccess(file);
    try {
      const archive = await openArchive(ByteSource.fromRandomAccess(ra), { randomAccess: ra });
      await archive.close();
      return archive;
    } finally {
      await ra.close();
    }
  }
  const archive = await openArchive(asAsync([bytes]));
  await archive.close();
  return archive;
}

describe('detection matrix: corpus', () => {
  for (const row of readManifest()) {
    const exp = expectedFor(row);
    it(`${row.filename}`, async () => {
      const bytes = readCorpus(row.filename);
      if (exp === 'refused') {
        await expect(detectBytes(bytes)).rejects.toBeInstanceOf(ZoneP2vError);
        return;
      }
      const result = await detectBytes(bytes, /zip/i.test(row.format) ? corpusPath(row.filename) : undefined).catch((e) => e);
      if (exp.format === null) {
        // A bare compressed stream: the filter is recognised, then nothing inside.
        if (result instanceof ZoneP2vError) {
          expect(result.code).toBe('DETECT_NO_ARCHIVE');
          expect(result.message).toContain(`after ${exp.layers.join(' > ')}`);
        } else {
          expect(result.layers.map((l: { name: string }) => l.name)).toEqual(exp.layers);
          expect(result.format).toBeNull();
        }
        return;
      }
      expect(result).not.toBeInstanceOf(Error);
      expect(result.layers.map((l: { name: string }) => l.name)).toEqual(exp.layers);
      expect(result.format).toBe(exp.format);
      expect(result.variant).toBe(exp.variant);
    });
  }
});

/** fixtures/: every file with a `.detect.json` next to it names its expected chain. */
describe('detection matrix: fixtures', () => {
  const dir = join(PROJECT_ROOT, 'fixtures');
  const files = (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.detect.json'));
  it('has fixtures to check', () => expect(files.length).toBeGreaterThan(0));
  for (const spec of files) {
    const target = join(dir, spec.replace(/\.detect\.json$/, ''));
    it(spec.replace(/\.detect\.json$/, ''), async () => {
      expect(statSync(target).isFile()).toBe(true);
      const exp = JSON.parse(readFileSync(join(dir, spec), 'utf8')) as Expect;
      const result = await detectBytes(readFileSync(target));
      expect(result.layers.map((l) => l.name)).toEqual(exp.layers);
      expect(result.format).toBe(exp.format);
      expect(result.variant).toBe(exp.variant);
    });
  }
});
