/**
 * newc (070701): the shared suite plus what is particular to the 110-byte hex header.
 */
import { describe, expect, it } from 'vitest';
import { readBody } from '../../../src/entry/entry.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats } from '../../../src/formats/format.js';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { buildCpio, rawNewcHeader } from '../../support/cpio-build.js';
import { commonSuite } from './common-suite.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

commonSuite('newc');

describe('newc specifics', () => {
  it('accepts upper- and lower-case hex digits', async () => {
    const upper = buildCpio('newc', [{ name: 'f', data: 'x'.repeat(0xab), uid: 0xbeef, mtime: 0x5f5e1000 }]);
    const lower = Buffer.from(upper);
    for (let i = 0; i < 110; i++) if (lower[i]! >= 0x41 && lower[i]! <= 0x46) lower[i]! += 0x20;
    expect(lower.equals(upper)).toBe(false);
    for (const bytes of [upper, lower]) {
      const { entries } = await readCpio([bytes]);
      expect(entries.map((e) => [manifestItem(e), e.uid, e.mtime])).toEqual([['f:f:171', 0xbeef, 0x5f5e1000]]);
    }
  });

  it('names a bad header field and its byte offset', async () => {
    const bytes = buildCpio('newc', [{ name: 'a', data: 'A' }, { name: 'b', data: 'B' }]);
    // second record starts at 116 (110 + "a\0" = 112, data 1 + 3 padding)
    const second = 116;
    const broken = Buffer.from(bytes);
    broken.write('0000000G', second + 54, 'latin1'); // filesize
    const e = await readError([broken]);
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_CORRUPT', second + 54]);
    expect((e as Error).message).toBe(`cpio-newc: bad header field 'filesize' at byte ${second + 54}`);
  });

  it('rejects spaces and signs in hex fields', async () => {
    for (const bad of [' 0000001', '+0000001', '0x000001']) {
      const h = rawNewcHeader({ namesize: '2', nlink: '1', mode: '81A4', filesize: bad });
      const e = await readError([Buffer.concat([h, Buffer.from('a\0')])]);
      expect(isZ(e) && e.code).toBe('FORMAT_CORRUPT');
      expect((e as Error).message).toContain("bad header field 'filesize'");
    }
  });

  it('refuses namesize 2^32-1 without buffering or allocating for it', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      const h = rawNewcHeader({ namesize: 'FFFFFFFF', nlink: '1', mode: '81A4' });
      pulled += h.length;
      yield h;
      for (;;) {
        pulled += 65536;
        yield Buffer.alloc(65536, 0x41);
      }
    }
    const gen = cpioFormat.read(new ByteSource(endless()), newStats('newc'), { onWarning: () => {} });
    const e = await gen.next().then(
      () => null,
      (x: unknown) => x,
    );
    expect(isZ(e) && [e.code, e.offset]).toEqual(['LIMIT_META_SIZE', 94]);
    expect(pulled).toBeLessThanOrEqual(110);
  });

  it('measures padding from where the archive starts in its stream', async () => {
    const archive = buildCpio('newc', [{ name: 'a', data: 'A' }, { name: 'bb', data: 'BB' }]);
    const src = new ByteSource([Buffer.concat([Buffer.from('xyz'), archive])]);
    await src.fill(3);
    src.take(3);
    const entries = [];
    for await (const e of cpioFormat.read(src, newStats('newc'), { onWarning: () => {} })) {
      entries.push([manifestItem(e), e.offset]);
    }
    expect(entries).toEqual([
      ['f:a:1', 3],
      ['f:bb:2', 3 + 116],
    ]);
  });

  it('does not check the crc field of newc records', async () => {
    const bytes = buildCpio('newc', [{ name: 'f', data: 'data', check: 12345 }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['f:f:4']);
  });

  it('refuses a crc header inside a newc archive', async () => {
    const a = buildCpio('newc', [{ name: 'a' }], { trailer: false });
    const b = buildCpio('crc', [{ name: 'b' }]);
    const e = await readError([Buffer.concat([a, b])]);
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_CORRUPT', a.length]);
  });

  it('cuts a name at its first NUL', async () => {
    const bytes = buildCpio('newc', [{ name: Buffer.from('a\0/../../x', 'latin1') }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['f:a:0']);
  });

  it('stops a symlink target at its first NUL', async () => {
    const bytes = buildCpio('newc', [{ name: 'l', mode: 0o120777, data: 'target\0junk' }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map((e) => [manifestItem(e), e.size])).toEqual([['l:l->target', 0]]);
  });
});

describe('newc bodies and the reading protocol', () => {
  const bytes = buildCpio('newc', [{ name: 'a', data: 'first body' }, { name: 'b', data: 'second' }]);

  it('makes a body stale once the next entry is requested, read or not', async () => {
    for (const partial of [false, true]) {
      const gen = cpioFormat.read(new ByteSource([bytes]), newStats('newc'), { onWarning: () => {} });
      const a = (await gen.next()).value!;
      if (partial) {
        const it = a.body[Symbol.asyncIterator]();
        await it.next();
        await it.return?.();
      }
      const b = (await gen.next()).value!;
      const e = await (async () => {
        for await (const _ of a.body) void _;
      })().then(() => null, (x: unknown) => x);
      expect(isZ(e) && e.code).toBe('ENTRY_BODY_STALE');
      expect((await readBody(b)).toString()).toBe('second');
    }
  });

  it('stops with ABORTED when the signal fires', async () => {
    const ac = new AbortController();
    const gen = cpioFormat.read(new ByteSource([bytes]), newStats('newc'), { onWarning: () => {}, signal: ac.signal });
    await gen.next();
    ac.abort();
    const e = await gen.next().then(() => null, (x: unknown) => x);
    expect(isZ(e) && e.code).toBe('ABORTED');
  });
});
