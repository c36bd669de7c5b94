/**
 * Every tar in the corpus MANIFEST: the listing must equal the expected_entries column under
 * every chunking. Uncompressed files are read in place; .tar.gz files are inflated with
 * node:zlib; other compressions use the system tools when present (the real filters are
 * tested elsewhere; here they only give the tar reader more inputs, e.g. the Solaris pax
 * sparse samples, which exist only as .Z).
 */
import { execFileSync } from 'node:child_process';
import { gunzipSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { corpusAvailable, corpusPath, readCorpus, readManifest, type ManifestRow } from '../../support/corpus.js';
import { expectedTokens, isError, readTarBuffer, sha256, token, type ReadEntry } from './tar-helpers.js';

const isTarRow = (r: ManifestRow): boolean => /tar|pax|ustar/i.test(r.format);

interface Special {
  tokens: string[];
  error?: string;
}

/** Rows whose expectation is prose ("per test") rather than a plain listing. */
const SPECIAL: Record<string, Special> = {
  // Two archives back to back: reading stops at the first end-of-archive blocks.
  'libarchive/test_read_format_tar_concatenated.tar': { tokens: ['f:file1:0'] },
  // A negative pax size is fatal on the first header.
  'libarchive/test_read_format_tar_invalid_pax_size.tar': { tokens: [], error: 'FORMAT_CORRUPT' },
  // A 'g' header claiming ~4 GiB: refused by the meta limit, nothing allocated.
  'libarchive/test_read_format_tar_pax_g_large.tar': { tokens: [], error: 'LIMIT_META_SIZE' },
  // Only a pax header, then the end blocks.
  'libarchive/test_read_format_tar_empty_pax.tar.Z': { tokens: [] },
  // An 8 MB pax attribute `unknown=`: over the 1 MiB meta limit, skipped with a warning.
  'libarchive/test_read_format_tar_pax_large_attr.tar.Z': { tokens: ['f:foo:0'] },
};

function expectedFor(row: ManifestRow): Special {
  const special = SPECIAL[row.filename];
  if (special) return special;
  let cell = row.expected;
  const paren = cell.indexOf(' (');
  if (paren >= 0 && cell.endsWith(')')) cell = cell.slice(0, paren);
  return { tokens: expectedTokens(cell) };
}

const TOOLS: Record<string, string[]> = {
  compress: ['uncompress', '-c'],
  bzip2: ['bzip2', '-dc'],
  xz: ['xz', '-dc'],
  lzma: ['xz', '--format=lzma', '-dc'],
  zstd: ['zstd', '-dcq'],
};

function hasTool(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * gunzip; when unrelated bytes follow the stream (test_compat_gzip_2) node's gunzip refuses
 * them, so inflate the first member alone (RFC 1952 header skipped by hand).
 */
function gunzipLenient(buf: Buffer): Buffer {
  try {
    return gunzipSync(buf);
  } catch {
    const flags = buf[3]!;
    let i = 10;
    if (flags & 4) i += 2 + buf.readUInt16LE(i);
    if (flags & 8) i = buf.indexOf(0, i) + 1;
    if (flags & 16) i = buf.indexOf(0, i) + 1;
    if (flags & 2) i += 2;
    return inflateRawSync(buf.subarray(i));
  }
}

async function load(row: ManifestRow): Promise<Buffer | null> {
  if (row.compression === 'none') return readCorpus(row.filename);
  if (row.compression === 'gzip') return gunzipLenient(readCorpus(row.filename));
  const tool = TOOLS[row.compression];
  if (!tool || !hasTool(tool[0]!)) return null;
  try {
    return execFileSync(tool[0]!, [...tool.slice(1), corpusPath(row.filename)], { maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch (e) {
    // Trailing junk after the stream makes some tools exit non-zero after writing everything.
    const out = (e as { stdout?: Buffer }).stdout;
    return out && out.length > 0 ? out : null;
  }
}

const rows = corpusAvailable() ? readManifest().filter(isTarRow) : [];

describe.skipIf(rows.length === 0)('tar corpus listings', () => {
  for (const row of rows) {
    it(`${row.filename} [${row.compression}]`, async () => {
      const data = await load(row);
      if (data === null) return; // no tool for this compression here
      const want = expectedFor(row);
      // Uncompressed files get every chunking; the decompressed ones (mostly the same tree as
      // an uncompressed sample) and the multi-megabyte samples skip the slow one-byte pass.
      const full = row.compression === 'none' && data.length <= 256 * 1024;
      const chunkings = full ? CHUNKINGS : CHUNKINGS.filter((c) => c.name !== 'one-byte');
      let first: string | null = null;
      for (const chunking of chunkings) {
        const r = await readTarBuffer(data, { chunking });
        if (want.error) {
          expect(isError(r.error, want.error), `${chunking.name}: ${String(r.error)}`).toBe(true);
        } else {
          expect(r.error, chunking.name).toBeUndefined();
        }
        expect(r.entries.map(token), chunking.name).toEqual(want.tokens);
        for (const e of r.entries) {
          if (e.data !== undefined) expect(e.data.length, token(e)).toBe(e.size);
        }
        const digest = JSON.stringify(r.entries.map((e) => [token(e), e.mode, e.uid, e.gid, e.mtime, sha256(e.data!)]));
        if (first === null) first = digest;
        else expect(digest, `${chunking.name} differs from whole`).toBe(first);
      }
    });
  }

  it('reads the 8 MB pax attribute with a larger meta limit', async () => {
    const row = rows.find((r) => r.filename === 'libarchive/test_read_format_tar_pax_large_attr.tar.Z');
    const data = row ? await load(row) : null;
    if (data === null) return;
    const r = await readTarBuffer(data, { maxMetaSize: 16 << 20 });
    expect(r.error).toBeUndefined();
    expect(r.entries.map((e) => e.path.toString())).toEqual(['foo']);
    expect(r.entries[0]!.extra.pax?.['unknown']?.length).toBeGreaterThan(7_000_000);
  });
});

/** The generated/ tree archives all hold the same files: their bodies must agree by path. */
describe.skipIf(rows.length === 0)('tar corpus bodies', () => {
  const TREE = [
    'generated/gnutar-pax.tar',
    'generated/gnutar-pax-sparse.tar',
    'generated/gnutar-gnu.tar',
    'generated/gnutar-ustar.tar',
    'generated/bsdtar-pax.tar',
    'generated/bsdtar-gnutar.tar',
    'generated/bsdtar-ustar.tar',
    'generated/gnucpio-ustar.tar',
    'generated/mirpax-ustar.tar',
    'generated/mirpax-v7.tar',
  ];

  async function bodies(name: string, type = 'file'): Promise<Map<string, ReadEntry>> {
    const r = await readTarBuffer(readCorpus(name));
    expect(r.error).toBeUndefined();
    return new Map(r.entries.filter((e) => e.type === type).map((e) => [e.path.toString('latin1'), e]));
  }

  it('gnutar-pax-sparse.tar expands tree/dir/sparse.dat to the plain file', async () => {
    const plain = (await bodies('generated/gnutar-pax.tar')).get('tree/dir/sparse.dat')!;
    const sparse = (await bodies('generated/gnutar-pax-sparse.tar')).get('tree/dir/sparse.dat')!;
    expect(plain.size).toBe(131072);
    expect(sparse.size).toBe(131072);
    expect(sparse.data!.length).toBe(131072);
    expect(sparse.data!.equals(plain.data!)).toBe(true);
    // 4 KiB of data, a hole, 4 KiB of data (GNU stores whole 4 KiB-aligned runs).
    expect(sparse.extra.sparseMap).toEqual([
      [0, 8192],
      [126976, 4096],
    ]);
    expect(sparse.data!.subarray(0, 4096).some((x) => x !== 0)).toBe(true);
    expect(sparse.data!.subarray(8192, 126976).every((x) => x === 0)).toBe(true);
    expect(sparse.data!.subarray(126976).some((x) => x !== 0)).toBe(true);
  });

  it('bsdtar-pax.tar (GNU.sparse 1.0 written by bsdtar) expands the same way', async () => {
    const plain = (await bodies('generated/gnutar-pax.tar')).get('tree/dir/sparse.dat')!;
    const sparse = (await bodies('generated/bsdtar-pax.tar')).get('tree/dir/sparse.dat')!;
    expect(sparse.extra.sparseMap).toEqual([
      [0, 8192],
      [126976, 4096],
    ]);
    expect(sparse.data!.equals(plain.data!)).toBe(true);
  });

  it('every generated tree archive yields the same file contents', async () => {
    const ref = await bodies('generated/gnutar-pax.tar');
    const refLinks = await bodies('generated/gnutar-pax.tar', 'hardlink');
    for (const name of TREE) {
      const got = await bodies(name);
      for (const [path, e] of got) {
        // Writers differ on which name of a hard-link pair carries the data.
        const r = ref.get(path) ?? ref.get(refLinks.get(path)?.linkTarget?.toString('latin1') ?? '');
        expect(r, `${name}: ${path}`).toBeDefined();
        expect(sha256(e.data!), `${name}: ${path}`).toBe(sha256(r!.data!));
      }
    }
  });

  it('keeps raw non-UTF-8 pax paths with and without hdrcharset=BINARY', async () => {
    const gnu = await bodies('generated/gnutar-pax.tar');
    const bsd = await bodies('generated/bsdtar-pax.tar');
    expect(gnu.has('tree/caf\xe9.txt')).toBe(true);
    expect(bsd.has('tree/caf\xe9.txt')).toBe(true);
  });
});
