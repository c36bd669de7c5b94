/**
 * The corpus contract: every cpio, tar/pax and flar file of ../shared/corpus/MANIFEST.tsv is
 * listed exactly as its expected_entries column says (names byte-exact, types, sizes, link
 * targets, hard-link groups), through the full pipeline (detection, filters, envelope, reader),
 * with the input in one piece, in one-byte chunks and in seeded random chunks. Bare compressed
 * streams are recognised through their compression and refused as holding no archive.
 * ufsdump rows are compared as restore -t lists them; zip rows through random access.
 */
import { describe, expect, it } from 'vitest';
import { ZoneP2vError } from '../../src/errors.js';
import type { Entry } from '../../src/entry/entry.js';
import { asAsync, CHUNKINGS } from '../support/chunking.js';
import { corpusPath, readCorpus, readManifest, type ManifestRow } from '../support/corpus.js';
import { ByteSource } from '../../src/io/byte-source.js';
import { openRandomAccess } from '../../src/io/random-access.js';
import { expectedTokens, listStream, withoutSize } from '../support/listing.js';

const rows = readManifest();

function kind(row: ManifestRow): 'archive' | 'raw' | 'special' | 'dump' | 'zip' {
  if (/dump/i.test(row.format)) return 'dump';
  if (/zip/i.test(row.format) && !/flash/i.test(row.format)) return 'zip';
  if (row.expected.startsWith('raw:')) return 'raw';
  if (row.expected.startsWith('(') || / \(/.test(row.expected)) return 'special';
  return 'archive';
}

async function listBytes(bytes: Buffer, chunking = CHUNKINGS[0]!) {
  return listStream(asAsync(chunking.split(bytes)));
}

describe('corpus listings match MANIFEST.tsv', () => {
  for (const row of rows.filter((r) => kind(r) === 'archive')) {
    it(`${row.filename}`, async () => {
      const bytes = readCorpus(row.filename);
      const expected = expectedTokens(row.expected);
      let first: string[] | null = null;
      for (const ch of CHUNKINGS) {
        if (ch.name === 'one-byte' && bytes.length > 200_000) continue;
        const { tokens } = await listBytes(bytes, ch);
        expect(tokens, `${row.filename} (${ch.name} chunks)`).toEqual(expected);
        first ??= tokens;
      }
      // From the file itself with pread and seeking skips (what the CLI does for a plain
      // file), in small chunks so that skips cross chunk boundaries and seek past them.
      const ra = await openRandomAccess(corpusPath(row.filename));
      try {
        const { tokens } = await listStream(ByteSource.fromRandomAccess(ra, 'input', 333));
        expect(tokens, `${row.filename} (random access)`).toEqual(expected);
      } finally {
        await ra.close();
      }
    });
  }
});

/** restore -t style: `d:.#2`, `d:./dir#15`, `e:./dir/file#16` (equal inode numbers are hard links). */
function restoreToken(e: Entry): string {
  const p = e.path.toString('latin1');
  return `${e.type === 'directory' ? 'd' : 'e'}:${p === '.' ? '.' : `./${p}`}#${e.ino}`;
}

describe('dump streams list as restore -t does (one pass emits directories first, so compared as sets)', () => {
  for (const row of rows.filter((r) => kind(r) === 'dump')) {
    it(`${row.filename}`, async () => {
      const bytes = readCorpus(row.filename);
      const expected = expectedTokens(row.expected).sort();
      for (const ch of CHUNKINGS) {
        if (ch.name === 'one-byte' && bytes.length > 200_000) continue;
        const { entries, archive } = await listBytes(bytes, ch);
        expect(entries.map(restoreToken).sort(), `${row.filename} (${ch.name} chunks)`).toEqual(expected);
        expect(archive.format).toBe('ufsdump');
      }
    });
  }
});

describe('bare compressed streams are recognised and refused as holding no archive', () => {
  for (const row of rows.filter((r) => kind(r) === 'raw')) {
    it(`${row.filename} (${row.expected})`, async () => {
      const n = Number(row.expected.slice(4));
      const result = await listBytes(readCorpus(row.filename)).catch((e) => e);
      if (n === 0) {
        expect(result.tokens).toEqual([]);
        expect(result.archive.layers.map((l: { name: string }) => l.name)).toEqual([row.compression]);
      } else {
        expect(result).toBeInstanceOf(ZoneP2vError);
        expect(result.code).toBe('DETECT_NO_ARCHIVE');
        expect(result.message).toContain(`after ${row.compression}`);
      }
    });
  }
});

describe('special corpus rows (per the libarchive test that ships them)', () => {
  const get = (name: string) => readCorpus(`libarchive/${name}`);

  it('afio large-header cpio split in two parts reads as one stream: one file "a"', async () => {
    const both = Buffer.concat([get('test_read_format_cpio_afio_header.part1.cpio'), get('test_read_format_cpio_afio_header.part2.cpio')]);
    for (const ch of CHUNKINGS) {
      const { tokens, archive } = await listBytes(both, ch);
      expect(tokens.map(withoutSize)).toEqual(['f:a']);
      expect(archive.layers.at(-1)).toMatchObject({ name: 'cpio', variant: 'afio' });
    }
  });

  it('the afio second part alone is not an archive', async () => {
    const err = await listBytes(get('test_read_format_cpio_afio_header.part2.cpio')).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
  });

  it('a symlink named TRAILER!!! ends the archive: nothing listed', async () => {
    const { tokens } = await listBytes(get('test_read_format_cpio_symlink_trailer.cpio'));
    expect(tokens).toEqual([]);
  });

  it('concatenated tar archives: reading stops at the first end-of-archive', async () => {
    const { tokens } = await listBytes(get('test_read_format_tar_concatenated.tar'));
    expect(tokens.map(withoutSize)).toEqual(['f:file1']);
  });

  it('a pax header with no entry after it lists nothing', async () => {
    const { tokens } = await listBytes(get('test_read_format_tar_empty_pax.tar.Z'));
    expect(tokens).toEqual([]);
  });

  it('a negative pax size is fatal', async () => {
    const err = await listBytes(get('test_read_format_tar_invalid_pax_size.tar')).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('FORMAT_CORRUPT');
    expect(err.message).toMatch(/^tar: /);
  });

  it('a 4 GiB global pax header is never allocated and yields no entry', async () => {
    const before = process.memoryUsage().rss;
    const result = await listBytes(get('test_read_format_tar_pax_g_large.tar')).catch((e) => e);
    if (result instanceof ZoneP2vError) expect(['LIMIT_META_SIZE', 'FORMAT_TRUNCATED', 'FORMAT_CORRUPT']).toContain(result.code);
    else expect(result.tokens).toEqual([]);
    expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
  });

  it('a very large pax attribute still yields file "foo"', async () => {
    const { tokens } = await listBytes(get('test_read_format_tar_pax_large_attr.tar.Z'));
    expect(tokens.map(withoutSize)).toEqual(['f:foo']);
  });

  it('SUN.holesdata map: one file "hole" of 1536 bytes', async () => {
    const { tokens } = await listBytes(get('test_read_format_tar_pax_sun_holesdata.tar'));
    expect(tokens).toEqual(['f:hole:1536']);
  });

  it('every special row is covered above', () => {
    const special = rows.filter((r) => kind(r) === 'special').map((r) => r.filename.replace('libarchive/', ''));
    expect(special.sort()).toEqual(
      [
        'test_read_format_cpio_afio_header.part1.cpio',
        'test_read_format_cpio_afio_header.part2.cpio',
        'test_read_format_cpio_symlink_trailer.cpio',
        'test_read_format_tar_concatenated.tar',
        'test_read_format_tar_empty_pax.tar.Z',
        'test_read_format_tar_invalid_pax_size.tar',
        'test_read_format_tar_pax_g_large.tar',
        'test_read_format_tar_pax_large_attr.tar.Z',
        'test_read_format_tar_pax_sun_holesdata.tar',
      ].sort(),
    );
  });
});

/**
 * zip rows, read as the CLI reads a file (central directory through random access: Unix types
 * and modes live there). Streaming-mode listings and their documented limits are covered in
 * test/formats/zip/read-zip-corpus.test.ts.
 */
describe('zip listings match MANIFEST.tsv (random access)', () => {
  // libarchive made this sample with local names that differ from the central ones (the local
  // ones are what bsdtar lists); a name mismatch is a hostile pattern, so it is refused.
  const REFUSED: Record<string, RegExp> = { 'libarchive/test_read_format_zip_7075_utf8_paths.zip': /^zip: .*name/ };
  for (const row of rows.filter((r) => kind(r) === 'zip')) {
    it(`${row.filename}`, async () => {
      const ra = await openRandomAccess(corpusPath(row.filename));
      try {
        const result = await listStream(ByteSource.fromRandomAccess(ra), { randomAccess: ra }).catch((e) => e);
        const refused = REFUSED[row.filename];
        if (refused) {
          expect(result).toBeInstanceOf(ZoneP2vError);
          expect(result.message).toMatch(refused);
          return;
        }
        expect(result.tokens).toEqual(expectedTokens(row.expected));
      } finally {
        await ra.close();
      }
    });
  }
});
