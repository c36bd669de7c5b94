/**
 * What every Solaris-dialect dump must give, run by read-ufsdump-solaris-be and -le on streams
 * written by test/support/ufsdump-write.ts from one tree (helpers.ts sampleTree): the same
 * listing as the tree under every chunking, bodies byte-exact (holes expanded, >512-unit files
 * through TS_ADDR), metadata of the icommon dialect, parents-first order with the root as `.`,
 * ACL/xattr records consumed and counted, and the same result for the shapes of one stream that
 * must not matter (skipped or partly read bodies, MTB unit size, big bitmaps, a second volume).
 */
import { describe, expect, it } from 'vitest';
import { openArchive } from '../../../src/pipeline/open-archive.js';
import { asAsync, CHUNKINGS } from '../../support/chunking.js';
import { writeUfsdump, type DumpWriteOptions } from '../../support/ufsdump-write.js';
import { BIG, SAMPLE_TOKENS, detail, readDump, sampleBodies, sampleTree, token, type ReadEntry } from './helpers.js';

const byPath = (entries: ReadEntry[]) => new Map(entries.map((e) => [e.path.toString('latin1'), e]));

export function solarisSuite(order: 'be' | 'le'): void {
  const opts: DumpWriteOptions = { order };
  const dump = writeUfsdump(sampleTree(order), opts);
  const variant = `solaris-${order}`;

  describe(`${variant}: listing`, () => {
    it('lists the tree under every chunking, identically', async () => {
      let first: string[] | null = null;
      for (const ch of CHUNKINGS) {
        const r = await readDump(dump, { chunking: ch });
        expect(r.error, ch.name).toBeUndefined();
        expect(r.entries.map(token).sort(), ch.name).toEqual(SAMPLE_TOKENS);
        const lines = r.entries.map(detail);
        if (first === null) first = lines;
        else expect(lines, ch.name).toEqual(first);
        expect(r.stats.variant).toBe(variant);
      }
    });

    it('delivers every body byte-exact: holes as zeros, TS_ADDR continuation, last unit cut', async () => {
      const r = await readDump(dump);
      const want = sampleBodies();
      const got = byPath(r.entries);
      for (const [path, data] of want) {
        const e = got.get(path)!;
        expect(e.type, path).toBe('file');
        expect(e.size, path).toBe(data.length);
        expect(e.data!.equals(data), path).toBe(true);
      }
      expect(got.get('big.bin')!.data!.length).toBe(BIG.length);
    });

    it('reads the icommon dialect: ids (UID_LONG), modes, times, link counts, devices', async () => {
      const r = await readDump(dump);
      const m = byPath(r.entries);
      expect(m.get('.')).toMatchObject({ type: 'directory', mode: 0o755, uid: 0, gid: 3, mtime: 1600000001, mtimeNsec: 250_000_000, ino: 2, nlink: 4 });
      expect(m.get('dir')).toMatchObject({ ino: 40, nlink: 3 });
      expect(m.get('dir/sub')).toMatchObject({ mode: 0o700, uid: 100, gid: 10, ino: 7 });
      expect(m.get('emptydir')).toMatchObject({ mode: 0o1777 });
      expect(m.get('dir/file.txt')).toMatchObject({ uid: 1000, gid: 1000, mtime: 1600000000, mtimeNsec: 123_456_000 });
      expect(m.get('dir/binary.bin')).toMatchObject({ mode: 0o640, uid: 65534, gid: 65534 });
      expect(m.get('big-uid')).toMatchObject({ uid: 100000, gid: 70000 });
      expect(m.get('setuid-prog')!.mode).toBe(0o4755);
      expect(m.get('dir/setgid-sticky')!.mode).toBe(0o3775);
      expect(m.get('hardlink-b.txt')).toMatchObject({ type: 'file', nlink: 3 });
      const h = m.get('dir/sub/hardlink-c.txt')!;
      expect(h).toMatchObject({ type: 'hardlink', size: 0, ino: m.get('hardlink-b.txt')!.ino });
      expect(h.linkTarget!.toString()).toBe('hardlink-b.txt');
      expect(m.get('symlink-to-file')).toMatchObject({ type: 'symlink', size: 0, mode: 0o777 });
      expect(m.get('dev-null-copy')).toMatchObject({ devMajor: 13, devMinor: 2, mode: 0o666 });
      expect(m.get('fifo')).toMatchObject({ type: 'fifo', mode: 0o644, size: 0 });
    });

    it('emits directories first, parents before children, the root as "." and no "./" prefixes', async () => {
      const r = await readDump(dump, { bodies: false });
      const paths = r.entries.map((e) => e.path.toString('latin1'));
      expect(paths[0]).toBe('.');
      const firstNonDir = r.entries.findIndex((e) => e.type !== 'directory');
      expect(r.entries.slice(firstNonDir).every((e) => e.type !== 'directory')).toBe(true);
      const seen = new Set<string>(['.']);
      for (const e of r.entries.slice(1, firstNonDir)) {
        const p = e.path.toString('latin1');
        const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '.';
        expect(seen.has(parent), p).toBe(true);
        seen.add(p);
      }
      for (const p of paths.slice(1)) expect(p.startsWith('./') || p.startsWith('/')).toBe(false);
      // a hard link always follows the entry it names
      const idx = new Map(paths.map((p, i) => [p, i]));
      for (const e of r.entries.filter((x) => x.type === 'hardlink')) {
        expect(idx.get(e.linkTarget!.toString('latin1'))!).toBeLessThan(idx.get(e.path.toString('latin1'))!);
      }
    });

    it('consumes ACLs (DR_HASMETA and IFSHAD) and attribute directories as metadata', async () => {
      const r = await readDump(dump, { bodies: false });
      expect(r.stats.metaRecords).toEqual({ 'ufs-acl': 3, 'ufs-xattr': 3 });
      expect(r.stats.entries).toBe(SAMPLE_TOKENS.length);
      expect(r.warnings).toEqual([]);
      // bytesRead ends after the first TS_END; its padding is not read
      expect(r.stats.bytesRead).toBeLessThanOrEqual(dump.length);
      expect(r.stats.bytesRead).toBeGreaterThan(dump.length - 10 * 1024);
    });

    it('gives the same listing when bodies are skipped or only partly read', async () => {
      const full = (await readDump(dump)).entries.map(token);
      for (const ch of [CHUNKINGS[0]!, CHUNKINGS[2]!]) {
        const skipped = await readDump(dump, { chunking: ch, bodies: false });
        expect(skipped.error).toBeUndefined();
        expect(skipped.entries.map(token)).toEqual(full);
        const partial = await readDump(dump, { chunking: ch, partial: 1500 });
        expect(partial.error).toBeUndefined();
        expect(partial.entries.map(token)).toEqual(full);
      }
    });

    it('is detected through the pipeline as ufsdump / ' + variant, async () => {
      const archive = await openArchive(asAsync([dump]));
      expect(archive.layers.at(-1)).toMatchObject({ name: 'ufsdump', variant });
      await archive.close();
    });
  });

  describe(`${variant}: stream shapes that must not change the listing`, () => {
    const same = async (bytes: Buffer, extra: Record<string, number> = {}) => {
      for (const ch of [CHUNKINGS[0]!, CHUNKINGS[3]!]) {
        const r = await readDump(bytes, { chunking: ch });
        expect(r.error, ch.name).toBeUndefined();
        expect(r.entries.map(token).sort(), ch.name).toEqual(SAMPLE_TOKENS);
        expect(byPath(r.entries).get('big.bin')!.data!.equals(BIG)).toBe(true);
        expect(r.stats.metaRecords).toEqual({ 'ufs-acl': 3, 'ufs-xattr': 3, ...extra });
      }
    };

    it('MTB_MAGIC with 2048-byte units', async () => {
      const bytes = writeUfsdump(sampleTree(order), { ...opts, unitSize: 2048 });
      await same(bytes);
      expect((await readDump(bytes, { bodies: false })).stats.variant).toBe(`solaris-mtb-${order}`);
    });

    it('bitmaps longer than 512 units (TS_ADDR continuation of TS_CLRI/TS_BITS)', async () => {
      await same(writeUfsdump(sampleTree(order), { ...opts, mapUnits: 600 }));
    });

    it('a second volume before an inode header', async () => {
      await same(writeUfsdump(sampleTree(order), { ...opts, volumeBreak: { before: 'dir/sparse.dat' } }), { 'ufs-volume': 1 });
    });

    it('a second volume between two data units of a file (4.4BSD: the map continues)', async () => {
      await same(writeUfsdump(sampleTree(order), { ...opts, volumeBreak: { insideData: { path: 'big.bin', unit: 100 } } }), { 'ufs-volume': 1 });
    });

    it("a second volume whose TS_TAPE carries the rest of a file's map (Solaris)", async () => {
      await same(writeUfsdump(sampleTree(order), { ...opts, volumeBreak: { continuation: 'big.bin' } }), { 'ufs-volume': 1 });
    });

    it("a second volume whose TS_TAPE stands in for an inode's TS_INODE (Solaris newtape)", async () => {
      await same(writeUfsdump(sampleTree(order), { ...opts, volumeBreak: { replacing: 'dir/sparse.dat' } }), { 'ufs-volume': 1 });
      await same(writeUfsdump(sampleTree(order), { ...opts, volumeBreak: { replacing: 'acl-small' } }), { 'ufs-volume': 1 });
    });

    it('an inode no directory names is consumed, not emitted, with one warning', async () => {
      const bytes = writeUfsdump(sampleTree(order), { ...opts, orphans: [{ ino: 90, data: 'unlinked but dumped\n' }] });
      const r = await readDump(bytes);
      expect(r.error).toBeUndefined();
      expect(r.entries.map(token).sort()).toEqual(SAMPLE_TOKENS);
      expect(r.warnings.map((w) => w.code)).toEqual(['FORMAT_WARNING']);
      expect(r.warnings[0]!.message).toMatch(/^ufsdump: 1 inode\(s\) not reachable/);
    });
  });
}
