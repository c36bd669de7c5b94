/**
 * A second real Linux dump (test/formats/ufsdump/fixtures, provenance in its README): 4 KiB
 * file-system blocks, a directory and a file continued in TS_ADDR headers, a sparse file whose
 * map spans two headers, maps listing units beyond the size, EXT_XATTR records on a file and a
 * directory. Bodies are compared with the bytes the fixture was made from.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CHUNKINGS } from '../../support/chunking.js';
import { readDump, token } from './helpers.js';

const dump = gunzipSync(readFileSync(new URL('./fixtures/linuxdump-ext2-4k-xattr.dump.gz', import.meta.url)));
const X40 = 'x'.repeat(40);
const name = (i: number) => `bigdir/entry-with-a-long-name-${String(i).padStart(3, '0')}-${X40}`;
const BIG = Buffer.from(Array.from({ length: 600 * 1024 + 123 }, (_, i) => (i * 31 + (i >> 10)) & 0xff));
const HOLEY = Buffer.alloc(600 * 1024);
HOLEY.fill(0x48, 0, 4096);
HOLEY.fill(0x54, 520 * 1024, 524 * 1024);

describe('real Linux dump: 4 KiB blocks, TS_ADDR continuations, EXT_XATTR', () => {
  it('lists the tree and delivers its bytes, under whole and random chunking', async () => {
    const expected = [
      'd:.',
      'd:lost+found',
      'd:bigdir',
      ...Array.from({ length: 150 }, (_, i) => `f:${name(i)}:4`),
      `f:big-link:${BIG.length}`,
      'h:big.bin=>big-link',
      `f:holey:${HOLEY.length}`,
      `l:sym->${name(7)}`,
    ].sort();
    for (const ch of [CHUNKINGS[0]!, CHUNKINGS[2]!, CHUNKINGS[3]!]) {
      const r = await readDump(dump, { chunking: ch });
      expect(r.error, ch.name).toBeUndefined();
      expect(r.entries.map(token).sort(), ch.name).toEqual(expected);
      expect(r.stats.metaRecords).toEqual({ 'linux-xattr': 2 });
      const m = new Map(r.entries.map((e) => [e.path.toString('latin1'), e]));
      expect(m.get('big-link')!.data!.equals(BIG)).toBe(true);
      expect(m.get('holey')!.data!.equals(HOLEY)).toBe(true);
      for (let i = 0; i < 150; i += 37) expect(m.get(name(i))!.data!.toString()).toBe(`${String(i).padStart(3, '0')}\n`);
      expect(m.get('big-link')).toMatchObject({ nlink: 2, ino: 12 });
    }
  });
});
