/**
 * afio large ASCII (070727), alone and mixed with odc headers as afio writes them
 * (libarchive test_read_format_cpio_afio.c: an odc member, then an afio member for uid 65536).
 */
import { describe, expect, it } from 'vitest';
import { buildCpio, buildCpioArchive } from '../../support/cpio-build.js';
import { commonSuite } from './common-suite.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

commonSuite('afio');

describe('afio specifics', () => {
  it('reads odc and afio headers mixed in one archive', async () => {
    const odc = buildCpio('odc', [{ name: 'file1', data: '0123456789abcdef\n' }], { trailer: false });
    const afio = buildCpio('afio', [{ name: 'file2', data: '0123456789abcdef\n', uid: 65536, ino: 2 ** 40 }]);
    const { entries, stats, warnings } = await readCpio([Buffer.concat([odc, afio])]);
    expect(entries.map((e) => [manifestItem(e), e.uid, e.extra.variant])).toEqual([
      ['f:file1:17', 0, 'odc'],
      ['f:file2:17', 65536, 'afio'],
    ]);
    expect(entries[1]!.ino).toBe(2 ** 40);
    expect(stats.variant).toBe('afio');
    expect(warnings).toEqual([]);
  });

  it('refuses a non-zero extension size it cannot skip', async () => {
    const e = await readError([buildCpio('afio', [{ name: 'x', xsize: 4 }])]);
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_UNSUPPORTED', 94]);
  });

  it('needs its marker characters', async () => {
    const { bytes } = buildCpioArchive('afio', [{ name: 'x' }]);
    for (const [at, field] of [
      [30, 'ino'],
      [85, 'mtime'],
      [98, 'xsize'],
      [115, 'filesize'],
    ] as const) {
      const broken = Buffer.from(bytes);
      broken[at] = 0x30;
      const e = await readError([broken]);
      expect(isZ(e) && e.code).toBe('FORMAT_CORRUPT');
      expect((e as Error).message).toContain(`bad header field '${field}'`);
    }
  });

  it('refuses a 16-digit number that is not exact in a double', async () => {
    const bytes = Buffer.from(buildCpio('afio', [{ name: 'x' }]));
    bytes.write('FFFFFFFFFFFFFFFF', 99, 'latin1'); // filesize
    const e = await readError([bytes]);
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_CORRUPT', 99]);
  });

  it('takes a name without NUL whole (the corpus header test)', async () => {
    const bytes = buildCpio('afio', [{ name: 'a', noNul: true, mode: 0 }]);
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['f:a:0']);
  });
});
