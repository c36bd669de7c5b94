/**
 * Bodies and fields of the generated corpus tree (corpus README "generated/"), the same in every
 * cpio variant and writer: binary.bin, the hard-link pair whichever link carried the data,
 * modes, owners, times and devices.
 */
import { describe, expect, it } from 'vitest';
import { corpusAvailable, readCorpus } from '../../support/corpus.js';
import { randomChunks } from '../../support/chunking.js';
import { readCpio, type ReadEntry } from './helpers.js';

const TREE_ARCHIVES = [
  'generated/gnucpio-odc.cpio',
  'generated/gnucpio-newc.cpio',
  'generated/gnucpio-crc.cpio',
  'generated/gnucpio-bin-le.cpio',
  'generated/mirpax-bcpio-be.cpio',
  'generated/mirpax-odc.cpio',
  'generated/mirpax-newc.cpio',
  'generated/mirpax-crc.cpio',
  'generated/bsdtar-odc.cpio',
  'generated/bsdtar-newc.cpio',
];

describe.skipIf(!corpusAvailable())('generated tree in every cpio variant', () => {
  const reference = new Map<string, string>();

  for (const archive of TREE_ARCHIVES) {
    it(`${archive}: bodies and fields match the tree`, async () => {
      const { entries, stats } = await readCpio(randomChunks(readCorpus(archive), 7, 1 << 16));
      const byName = new Map<string, ReadEntry>(entries.map((e) => [e.path.toString('latin1'), e]));
      const get = (n: string) => {
        const e = byName.get(n);
        expect(e, n).toBeDefined();
        return e!;
      };

      const bin = get('tree/dir/binary.bin');
      expect([bin.data.length, bin.mode, bin.uid, bin.gid, bin.mtime]).toEqual([3000, 0o640, 65534, 65534, 1600000000]);
      const file = get('tree/dir/file.txt');
      expect([file.data.length, file.uid, file.gid]).toEqual([14, 1000, 1000]);
      expect(get('tree/setuid-prog').mode).toBe(0o4755);
      expect(get('tree/dir/setgid-sticky').mode).toBe(0o3775);
      expect(get('tree/dir/sparse.dat').data.length).toBe(131072);

      // Hard links: one file, one hardlink to it, content 18 bytes wherever it was stored.
      const pair = [get('tree/dir/hardlink-a.txt'), get('tree/hardlink-b.txt')];
      expect(pair.map((e) => e.type).sort()).toEqual(['file', 'hardlink']);
      const link = pair.find((e) => e.type === 'hardlink')!;
      const target = pair.find((e) => e.type === 'file')!;
      expect(link.linkTarget).toEqual(target.path);
      const carried = pair.filter((e) => e.data.length > 0).map((e) => e.data);
      expect(carried.length).toBeGreaterThan(0);
      for (const d of carried) expect(d.length).toBe(18);

      const sig = JSON.stringify({
        bin: bin.data.toString('base64'),
        file: file.data.toString('base64'),
        link: carried[0]!.toString('base64'),
        sparse: get('tree/dir/sparse.dat').data.toString('base64'),
        sym: get('tree/symlink-to-file').linkTarget!.toString(),
        dangling: get('tree/dir/dangling-symlink').linkTarget!.toString(),
        dev: [get('tree/dev-null-copy').devMajor, get('tree/dev-null-copy').devMinor],
        blk: [get('tree/dev-loop9').devMajor, get('tree/dev-loop9').devMinor],
        fifo: get('tree/fifo').type,
      });
      for (const [other, s] of reference) expect(sig, `${archive} vs ${other}`).toBe(s);
      reference.set(archive, sig);
      expect(stats.bytesRead).toBeGreaterThan(0);
    });
  }
});
