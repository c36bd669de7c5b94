/**
 * Hostile archives built in code (dependencies-research.md §7): absurd sizes refused before
 * anything is buffered for them, names kept as stored for the sink to judge, link targets that
 * only ever name earlier entries, and many tiny records read in linear time.
 */
import { describe, expect, it } from 'vitest';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats } from '../../../src/formats/format.js';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { buildCpio, rawNewcHeader, type BuildVariant } from '../../support/cpio-build.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

/** A source that yields `head` and then endless 64 KiB chunks, counting what was pulled. */
function endless(head: Buffer): { chunks: AsyncGenerator<Buffer>; pulled: () => number } {
  let pulled = 0;
  async function* gen(): AsyncGenerator<Buffer> {
    pulled += head.length;
    yield head;
    for (;;) {
      pulled += 65536;
      yield Buffer.alloc(65536, 0x41);
    }
  }
  return { chunks: gen(), pulled: () => pulled };
}

async function firstError(chunks: AsyncGenerator<Buffer>): Promise<unknown> {
  const gen = cpioFormat.read(new ByteSource(chunks), newStats('cpio'), { onWarning: () => {} });
  try {
    for (;;) {
      const r = await gen.next();
      if (r.done) return null;
    }
  } catch (e) {
    return e;
  }
}

describe('hostile cpio', () => {
  it('refuses a huge symlink target before buffering it', async () => {
    const h = rawNewcHeader({ mode: 'A1FF', nlink: '1', namesize: '2', filesize: 'FFFFFFFF' });
    const src = endless(Buffer.concat([h, Buffer.from('l\0')]));
    const e = await firstError(src.chunks);
    expect(isZ(e) && [e.code, e.path?.toString()]).toEqual(['LIMIT_META_SIZE', 'l']);
    expect(src.pulled()).toBeLessThanOrEqual(112);
  });

  it('refuses a huge ACL record before buffering it', async () => {
    const h = rawNewcHeader({ mode: 'E080', nlink: '1', namesize: '2', filesize: '7FFFFFFF' });
    const src = endless(Buffer.concat([h, Buffer.from('a\0')]));
    const e = await firstError(src.chunks);
    expect(isZ(e) && e.code).toBe('LIMIT_META_SIZE');
    expect(src.pulled()).toBeLessThanOrEqual(112);
  });

  it('streams past a 4 GiB - 1 body without holding it', async () => {
    const h = rawNewcHeader({ mode: '81A4', nlink: '1', namesize: '2', filesize: 'FFFFFFFF' });
    const bytes = Buffer.concat([h, Buffer.from('f\0'), Buffer.alloc(1 << 20)]);
    const e = await readError([bytes], { skipBodies: true });
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_TRUNCATED', bytes.length]);
  });

  for (const v of ['odc', 'newc', 'bin-le'] as BuildVariant[]) {
    it(`${v}: refuses name sizes above maxMetaSize whatever the variant allows`, async () => {
      const e = await readError([buildCpio(v, [{ name: 'n'.repeat(5000) }])], { maxMetaSize: 4096 });
      expect(isZ(e) && e.code).toBe('LIMIT_META_SIZE');
    });
  }

  it('keeps dangerous names and targets as stored (the sink judges them)', async () => {
    const bytes = buildCpio('newc', [
      { name: '../../victim', data: 'x', ino: 4, nlink: 2 },
      { name: 'inside', data: '', ino: 4, nlink: 2 },
      { name: '/etc/passwd', data: 'root::0:0' },
      { name: 'evil-link', mode: 0o120777, data: '../../../etc' },
      { name: 'evil-link/x', data: 'through the link' },
    ]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual([
      'f:../../victim:1',
      'h:inside=>../../victim',
      'f:/etc/passwd:9',
      'l:evil-link->../../../etc',
      'f:evil-link/x:16',
    ]);
  });

  it('only ever links to a path emitted earlier', async () => {
    const bytes = buildCpio('newc', [
      { name: 'a', ino: 1, nlink: 3 },
      { name: 'b', ino: 1, nlink: 3 },
      { name: 'c', ino: 2, nlink: 2, data: 'c' },
      { name: 'd', ino: 1, nlink: 3, data: 'abc' },
      { name: 'e', ino: 2, nlink: 2, data: 'c' },
    ]);
    const { entries } = await readCpio([bytes]);
    const seen = new Set<string>();
    for (const e of entries) {
      if (e.type === 'hardlink') expect(seen.has(e.linkTarget!.toString('latin1'))).toBe(true);
      seen.add(e.path.toString('latin1'));
    }
    expect(entries.map(manifestItem)).toEqual(['f:a:0', 'h:b=>a', 'f:c:1', 'h:d=>a', 'h:e=>c']);
  });

  it('reads 100,000 tiny records in linear time', async () => {
    const records: Buffer[] = [];
    const one = buildCpio('newc', [{ name: 'etc/some/file-name', data: 'x' }], { trailer: false });
    for (let i = 0; i < 100_000; i++) records.push(one);
    records.push(buildCpio('newc', []));
    const bytes = Buffer.concat(records);
    const t0 = performance.now();
    const { stats } = await readCpio([bytes], { skipBodies: true });
    const ms = performance.now() - t0;
    expect(stats.entries).toBe(100_000);
    expect(ms).toBeLessThan(5000);
  });
});
