/**
 * odc (070707): the shared suite plus the octal header's particulars.
 */
import { describe, expect, it } from 'vitest';
import { buildCpio } from '../../support/cpio-build.js';
import { commonSuite } from './common-suite.js';
import { isZ, manifestItem, readCpio, readError } from './helpers.js';

commonSuite('odc');

describe('odc specifics', () => {
  it('splits the single rdev number as major<<8 | minor (1801 = 7,9)', async () => {
    const bytes = buildCpio('odc', [{ name: 'loop9', mode: 0o060660, rdevMajor: 7, rdevMinor: 9 }]);
    expect(bytes.toString('latin1', 42, 48)).toBe('003411'); // 1801 in octal
    const { entries } = await readCpio([bytes]);
    expect(entries.map(manifestItem)).toEqual(['b:loop9:7,9']);
  });

  it('rejects a non-octal digit, naming the field and its byte', async () => {
    const bytes = Buffer.from(buildCpio('odc', [{ name: 'a', data: 'A' }]));
    bytes.write('8', 18 + 5, 'latin1'); // last digit of mode
    const e = await readError([bytes]);
    expect(isZ(e) && [e.code, e.offset]).toEqual(['FORMAT_CORRUPT', 18]);
    expect((e as Error).message).toBe("cpio-odc: bad header field 'mode' at byte 18");
  });

  it('reads 11-digit sizes beyond 4 GiB (a cut archive ends in FORMAT_TRUNCATED)', async () => {
    const big = 5 * 1024 ** 3;
    const bytes = buildCpio('odc', [{ name: 'big', size: big }], { trailer: false });
    const e = await readError([bytes], { skipBodies: true });
    expect(isZ(e) && e.code).toBe('FORMAT_TRUNCATED');
    expect((e as Error).message).toContain(`needed ${big} more bytes`);
  });
});
