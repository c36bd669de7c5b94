/**
 * Linux dump (4.4BSD inode and directory format), little-endian: the two real streams of the
 * corpus (dump 0.4b47 on an ext2 image, plain and `-z6`) against their MANIFEST rows and against
 * the same tree as GNU tar archived it (bodies, link targets, owners, modes, devices, the sparse
 * file expanded), under every chunking; plus streams of our writer in the Linux dialect
 * (EXT_XATTR records, compressed records, bzip2 refused by name).
 */
import { describe, expect, it } from 'vitest';
import { newStats } from '../../../src/formats/format.js';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { openArchive } from '../../../src/pipeline/open-archive.js';
import { asAsync, CHUNKINGS } from '../../support/chunking.js';
import { readCorpus, readManifest, unescapeOctal } from '../../support/corpus.js';
import { writeUfsdump } from '../../support/ufsdump-write.js';
import { SAMPLE_TOKENS, linuxTree, readDump, restoreToken, sampleBodies, token } from './helpers.js';

const DUMPS = ['generated/linuxdump-ext2.dump', 'generated/linuxdump-ext2-zlib.dump'];

/** Entries of the same tree as GNU tar wrote it: path (without `tree/`) → entry with body. */
async function tarTree() {
  const src = new ByteSource(asAsync([readCorpus('generated/gnutar-pax.tar')]));
  const out = new Map<string, { type: string; data: Buffer; linkTarget: string; mode: number; uid: number; gid: number; devMajor: number; devMinor: number }>();
  for await (const e of tarFormat.read(src, newStats(''), { onWarning: () => {} })) {
    const parts: Buffer[] = [];
    for await (const c of e.body) parts.push(Buffer.from(c));
    const p = e.path.toString('latin1').replace(/^tree\/?/, '').replace(/\/$/, '') || '.';
    out.set(p, {
      type: e.type,
      data: Buffer.concat(parts),
      linkTarget: e.linkTarget?.toString('latin1').replace(/^tree\//, '') ?? '',
      mode: e.mode,
      uid: e.uid,
      gid: e.gid,
      devMajor: e.devMajor,
      devMinor: e.devMinor,
    });
  }
  return out;
}

describe('corpus: Linux dump of the sample tree', () => {
  const manifest = readManifest();
  for (const file of DUMPS) {
    it(`${file}: restore's listing (names, inodes, hard-link groups) under every chunking`, async () => {
      const row = manifest.find((r) => r.filename === file)!;
      const expected = row.expected.split(' | ').map((t) => unescapeOctal(t.trim()).toString('latin1')).sort();
      const bytes = readCorpus(file);
      for (const ch of CHUNKINGS) {
        const r = await readDump(bytes, { chunking: ch });
        expect(r.error, ch.name).toBeUndefined();
        expect(r.entries.map(restoreToken).sort(), ch.name).toEqual(expected);
        expect(r.stats.variant).toBe('linux-le');
        expect(r.stats.bytesRead).toBe(file.endsWith('zlib.dump') ? bytes.length : 55 * 1024);
      }
    });

    it(`${file}: bodies, targets, owners, modes and devices equal GNU tar's copy of the tree`, async () => {
      const tar = await tarTree();
      const r = await readDump(readCorpus(file));
      let files = 0;
      for (const e of r.entries) {
        const p = e.path.toString('latin1');
        if (p === 'lost+found') continue; // made by mke2fs, not in the tree
        const t = tar.get(p);
        expect(t, p).toBeDefined();
        expect(e.mode, p).toBe(t!.mode);
        expect([e.uid, e.gid], p).toEqual([t!.uid, t!.gid]);
        expect(e.mtime, p).toBe(1600000000);
        if (e.type === 'hardlink') {
          // dump names the shallowest link first (tar the first it met): the same group of two
          expect([p, e.linkTarget!.toString()]).toEqual(['dir/hardlink-a.txt', 'hardlink-b.txt']);
          continue;
        }
        if (e.type === 'file') {
          files++;
          const want = t!.type === 'hardlink' ? tar.get(t!.linkTarget)!.data : t!.data;
          expect(e.data!.equals(want), p).toBe(true);
        } else {
          expect(e.type, p).toBe(t!.type);
        }
        if (e.type === 'symlink') expect(e.linkTarget!.toString('latin1'), p).toBe(t!.linkTarget);
        if (e.type === 'char-device' || e.type === 'block-device') expect([e.devMajor, e.devMinor], p).toEqual([t!.devMajor, t!.devMinor]);
      }
      expect(files).toBe(9);
      const sparse = r.entries.find((e) => e.path.toString() === 'dir/sparse.dat')!;
      expect(sparse.size).toBe(131072);
      expect(sparse.data!.subarray(4096 + 13, 124 * 1024).every((b) => b === 0)).toBe(true);
      expect(sparse.data!.subarray(124 * 1024, 124 * 1024 + 11).toString()).toBe('tail block ');
    });

    it(`${file}: detected through the pipeline as ufsdump / linux-le`, async () => {
      const archive = await openArchive(asAsync([readCorpus(file)]));
      expect(archive.layers.map((l) => l.name)).toEqual(['ufsdump']);
      expect(archive.layers.at(-1)).toMatchObject({ variant: 'linux-le' });
      await archive.close();
    });
  }
});

describe('writer, Linux dialect, little-endian', () => {
  it('lists the sample tree with EXT_XATTR records consumed', async () => {
    const bytes = writeUfsdump(linuxTree('le'), { order: 'le', dialect: 'linux' });
    for (const ch of CHUNKINGS) {
      const r = await readDump(bytes, { chunking: ch });
      expect(r.error, ch.name).toBeUndefined();
      expect(r.entries.map(token).sort()).toEqual(SAMPLE_TOKENS);
      expect(r.stats.metaRecords).toEqual({ 'linux-xattr': 2 });
      expect(r.stats.variant).toBe('linux-le');
    }
  });

  it('compressed records (DR_COMPRESSED, zlib) read like the plain stream', async () => {
    const bytes = writeUfsdump(linuxTree('le'), { order: 'le', dialect: 'linux', compress: 'zlib' });
    const r = await readDump(bytes, { chunking: CHUNKINGS[2]! });
    expect(r.error).toBeUndefined();
    expect(r.entries.map(token).sort()).toEqual(SAMPLE_TOKENS);
    const bodies = sampleBodies();
    for (const e of r.entries) if (e.type === 'file') expect(e.data!.equals(bodies.get(e.path.toString('latin1'))!)).toBe(true);
  });

  it('bzip2 records are refused by name', async () => {
    const bytes = writeUfsdump(linuxTree('le'), { order: 'le', dialect: 'linux', compress: 'bzip2' });
    const r = await readDump(bytes);
    expect(r.error).toMatchObject({ code: 'FORMAT_UNSUPPORTED', offset: 10240 });
    expect((r.error as Error).message).toMatch(/^ufsdump: Linux dump record compressed with bzip2 is not supported/);
  });
});
