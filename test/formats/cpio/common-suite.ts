/**
 * Behaviour every cpio variant shares, run by each read-cpio-<variant> test file on archives
 * built in code (test/support/cpio-build.ts): entry types and fields, names kept as stored,
 * the trailer, a missing trailer, a bad magic, hard-link placements, truncation at every byte.
 */
import { describe, expect, it } from 'vitest';
import { buildCpio, buildCpioArchive, type BuildEntry, type BuildVariant } from '../../support/cpio-build.js';
import { CHUNKINGS, oneByte } from '../../support/chunking.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFIFO = 0o010000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;
const S_IFSOCK = 0o140000;

/** Uid/gid that fit every variant (old binary: 16 bits). */
const UID = 1000;

export function sampleEntries(): BuildEntry[] {
  return [
    { name: '.', mode: S_IFDIR | 0o755, nlink: 3 },
    { name: './dir', mode: S_IFDIR | 0o750, nlink: 2, uid: UID, gid: UID },
    { name: './dir/file.txt', mode: S_IFREG | 0o644, data: 'hello, world\n', uid: UID, gid: 100, mtime: 1234567890 },
    { name: '/abs/setuid', mode: S_IFREG | 0o4755, data: 'x' },
    { name: 'sticky', mode: S_IFDIR | 0o3775 },
    { name: 'link', mode: S_IFLNK | 0o777, data: 'dir/file.txt' },
    { name: 'fifo', mode: S_IFIFO | 0o600 },
    { name: 'null', mode: S_IFCHR | 0o666, rdevMajor: 1, rdevMinor: 3 },
    { name: 'loop9', mode: S_IFBLK | 0o660, rdevMajor: 7, rdevMinor: 9 },
    { name: 'sock', mode: S_IFSOCK | 0o755 },
    { name: Buffer.from('caf\xe9.txt', 'latin1'), data: 'latin-1\n' },
    { name: 'empty', data: '' },
    { name: 'odd', data: 'abc' },
  ];
}

export const SAMPLE_LISTING = [
  'd:.',
  'd:./dir',
  'f:./dir/file.txt:13',
  'f:/abs/setuid:1',
  'd:sticky',
  'l:link->dir/file.txt',
  'p:fifo',
  'c:null:1,3',
  'b:loop9:7,9',
  's:sock',
  'f:caf\xe9.txt:8',
  'f:empty:0',
  'f:odd:3',
];

export function commonSuite(variant: BuildVariant): void {
  const layer = `cpio-${variant}`;

  describe(`${variant}: entries`, () => {
    const bytes = buildCpio(variant, sampleEntries());
    for (const chunking of CHUNKINGS) {
      it(`reads every type with its fields (${chunking.name})`, async () => {
        const { entries, stats, warnings } = await readCpio(chunking.split(bytes));
        expect(entries.map(manifestItem)).toEqual(SAMPLE_LISTING);
        expect(warnings).toEqual([]);
        expect(stats.entries).toBe(SAMPLE_LISTING.length);
        expect(stats.variant).toBe(variant);
        expect(stats.bytesRead).toBe(bytes.length);
        const byName = new Map(entries.map((e) => [e.path.toString('latin1'), e]));
        const f = byName.get('./dir/file.txt')!;
        expect([f.mode, f.uid, f.gid, f.mtime, f.data.toString()]).toEqual([
          0o644,
          UID,
          100,
          1234567890,
          'hello, world\n',
        ]);
        expect(f.extra.variant).toBe(variant);
        expect(byName.get('/abs/setuid')!.mode).toBe(0o4755);
        expect(byName.get('sticky')!.mode).toBe(0o3775);
        const l = byName.get('link')!;
        // the target travels in linkTarget; the (empty) body has size 0
        expect([l.size, l.data.length, l.linkTarget!.toString()]).toEqual([0, 0, 'dir/file.txt']);
        expect(byName.get('odd')!.data.toString()).toBe('abc');
        expect(byName.get('caf\xe9.txt')!.path).toEqual(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]));
        expect(entries.map((e) => e.offset)).toEqual(
          buildCpioArchive(variant, sampleEntries()).records.slice(0, -1).map((r) => r.header),
        );
      });
    }

    it('skips bodies it is not asked for', async () => {
      const { entries } = await readCpio([bytes], { skipBodies: true });
      expect(entries.map(manifestItem)).toEqual(SAMPLE_LISTING);
    });
  });

  describe(`${variant}: end of archive`, () => {
    it('stops at TRAILER!!! and ignores what follows', async () => {
      const junk = Buffer.from('this is not a header at all, just padding garbage');
      const bytes = Buffer.concat([buildCpio(variant, [{ name: 'a', data: 'A' }], { blockSize: 512 }), junk]);
      const { entries, warnings } = await readCpio([bytes]);
      expect(entries.map(manifestItem)).toEqual(['f:a:1']);
      expect(warnings).toEqual([]);
    });

    it('ends at a TRAILER!!! of any type and size, without padding', async () => {
      const bytes = buildCpio(
        variant,
        [{ name: 'TRAILER!!!', mode: S_IFLNK | 0o777, data: 'x'.repeat(1001) }],
        { trailer: false },
      );
      // cut right after the trailer's name: no padding, no body
      const hs = variant.startsWith('bin') ? 26 : variant === 'odc' ? 76 : variant === 'afio' ? 116 : 110;
      const cut = bytes.subarray(0, hs + 11);
      for (const input of [bytes, cut]) {
        const { entries, warnings, stats } = await readCpio([input]);
        expect(entries).toEqual([]);
        expect(warnings).toEqual([]);
        expect(stats.entries).toBe(0);
      }
    });

    it('warns once when the archive ends at a record boundary without a trailer', async () => {
      const { bytes, records } = buildCpioArchive(variant, [{ name: 'a', data: 'A' }, { name: 'b' }], {
        trailer: false,
      });
      const { entries, warnings } = await readCpio([bytes]);
      expect(entries.map(manifestItem)).toEqual(['f:a:1', 'f:b:0']);
      expect(warnings.map((w) => [w.code, w.severity, w.layer, w.offset])).toEqual([
        ['FORMAT_WARNING', 'warning', layer, records[1]!.end],
      ]);
      expect(warnings[0]!.message).toContain('no TRAILER!!! record');
    });

    it('reports a bad magic where the next header should be', async () => {
      const { bytes, records } = buildCpioArchive(variant, [{ name: 'a', data: 'A' }, { name: 'b' }]);
      const broken = Buffer.from(bytes);
      broken[records[1]!.header] = 0x58; // 'X'
      broken[records[1]!.header + 1] = 0x58;
      const e = await readError([broken]);
      expect(isZ(e) && [e.code, e.layer, e.offset]).toEqual(['FORMAT_CORRUPT', layer, records[1]!.header]);
      expect((e as Error).message).toBe(
        `${layer}: bad header magic at byte ${records[1]!.header}; the archive is corrupt or truncated`,
      );
    });

    it('refuses a name size of 0 without reading on', async () => {
      const bytes = buildCpio(variant, [{ name: 'a', namesize: 0, noNul: true }]);
      const e = await readError([bytes]);
      expect(isZ(e) && [e.code, e.offset! < 116]).toEqual(['FORMAT_CORRUPT', true]);
      expect((e as Error).message).toContain('bad name size 0');
    });

    it('refuses a name size above maxMetaSize before buffering it', async () => {
      const bytes = buildCpio(variant, [{ name: 'a'.repeat(300) }]);
      const e = await readError([bytes], { maxMetaSize: 256 });
      expect(isZ(e) && e.code).toBe('LIMIT_META_SIZE');
      expect((e as Error).message).toContain('name size 301 exceeds the limit of 256 bytes');
    });
  });

  describe(`${variant}: hard links (formats.md §3.5)`, () => {
    const content = 'eighteen bytes!!\n\n';
    const link = (name: string, data: string, extra: Partial<BuildEntry> = {}): BuildEntry => ({
      name,
      data,
      ino: 77,
      nlink: 2,
      devMajor: 0,
      devMinor: 1,
      ...extra,
    });
    const cases: Array<[string, BuildEntry[], string[]]> = [
      [
        'data on the last link (GNU newc, Solaris -c)',
        [link('a', ''), { name: 'other', data: 'o' }, link('b', content)],
        ['f:a:0', 'f:other:1', 'h:b=>a'],
      ],
      ['data on the first link', [link('a', content), link('b', '')], ['f:a:18', 'h:b=>a']],
      ['data on every link (odc, MirBSD)', [link('a', content), link('b', content)], ['f:a:18', 'h:b=>a']],
      [
        'three links, data on the last',
        [link('a', '', { nlink: 3 }), link('b', '', { nlink: 3 }), link('c', content, { nlink: 3 })],
        ['f:a:0', 'h:b=>a', 'h:c=>a'],
      ],
    ];
    for (const [title, entries, listing] of cases) {
      it(title, async () => {
        const got = await readCpio(oneByte(buildCpio(variant, entries)));
        expect(got.entries.map(manifestItem)).toEqual(listing);
        const datas = got.entries.filter((e) => e.ino === 77 && e.data.length > 0).map((e) => e.data.toString());
        expect(datas.length).toBeGreaterThan(0);
        for (const d of datas) expect(d).toBe(content);
        for (const e of got.entries) expect(e.data.length).toBe(e.size);
      });
    }

    it('never merges nlink = 1 entries with equal inodes (test_compat_cpio_1)', async () => {
      const got = await readCpio([
        buildCpio(variant, [
          { name: 'foo1', data: 'foo1', ino: 5, nlink: 1 },
          { name: 'foo2', data: 'foo2', ino: 5, nlink: 1 },
          { name: 'bar1', data: 'bar1', ino: 6, nlink: 2 },
          { name: 'bar2', data: 'bar1', ino: 6, nlink: 2 },
        ]),
      ]);
      expect(got.entries.map(manifestItem)).toEqual(['f:foo1:4', 'f:foo2:4', 'f:bar1:4', 'h:bar2=>bar1']);
    });

    it('does not merge directories, other devices or other inodes', async () => {
      const got = await readCpio([
        buildCpio(variant, [
          { name: 'd1', mode: S_IFDIR | 0o755, ino: 9, nlink: 2 },
          { name: 'd2', mode: S_IFDIR | 0o755, ino: 9, nlink: 2 },
          { name: 'x', ino: 9, nlink: 2, devMinor: 1 },
          { name: 'y', ino: 9, nlink: 2, devMinor: 2 },
          { name: 'z', ino: 10, nlink: 2, devMinor: 1 },
        ]),
      ]);
      expect(got.entries.map(manifestItem)).toEqual(['d:d1', 'd:d2', 'f:x:0', 'f:y:0', 'f:z:0']);
    });

    it('starts a new group once every link of the previous one was seen', async () => {
      const got = await readCpio([
        buildCpio(variant, [link('a', content), link('b', content), link('c', content), link('d', '')]),
      ]);
      expect(got.entries.map(manifestItem)).toEqual(['f:a:18', 'h:b=>a', 'f:c:18', 'h:d=>c']);
    });
  });

  describe(`${variant}: truncation at every byte`, () => {
    const { bytes, records } = buildCpioArchive(variant, [
      { name: 'abc', data: 'hello' },
      { name: 'sym', mode: S_IFLNK | 0o777, data: 'target' },
      { name: 'de', data: 'xyz' },
    ]);
    const trailer = records[records.length - 1]!;

    /** The part of the archive a cut at `cut` falls in, as the error message names it. */
    function partAt(cut: number): { record: number; part: string } | 'boundary' | 'complete' {
      for (const r of records) {
        if (cut === r.header) return 'boundary';
        if (cut > r.header && cut < r.end) {
          if (r === trailer) {
            return cut < r.namePad ? { record: r.header, part: cut < r.name ? 'header' : 'name' } : 'complete';
          }
          if (cut < r.name) return { record: r.header, part: 'header' };
          if (cut < r.namePad) return { record: r.header, part: 'name' };
          if (cut < r.data) return { record: r.header, part: 'name padding' };
          if (cut < r.dataPad) return { record: r.header, part: 'data' };
          return { record: r.header, part: 'data padding' };
        }
      }
      return 'complete';
    }

    it('ends in FORMAT_TRUNCATED at the cut, naming the part, or a warning at a boundary', async () => {
      for (let cut = 1; cut < bytes.length; cut++) {
        const at = partAt(cut);
        const input = bytes.subarray(0, cut);
        for (const chunks of [[input], oneByte(input)]) {
          const e = await readError(chunks);
          if (at === 'boundary' || at === 'complete') {
            expect(e, `cut ${cut}`).toBeNull();
            continue;
          }
          expect(isZ(e) && [e.code, e.offset], `cut ${cut}`).toEqual(['FORMAT_TRUNCATED', cut]);
          const msg = (e as Error).message;
          if (at.part === 'data') {
            expect(msg, `cut ${cut}`).toMatch(/entry body|symlink target/);
          } else {
            expect(msg, `cut ${cut}`).toContain(`in the ${at.part} of the record at byte ${at.record}`);
          }
          expect(msg).toContain('the archive is truncated');
        }
      }
    });
  });
}
