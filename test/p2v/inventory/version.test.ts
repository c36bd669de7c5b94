/** Version comparison of update on attach (reference §4.3): tables and properties. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteCompare,
  compareFields,
  comparePatchRevisions,
  compareVersions,
  strtoul32,
} from '../../../src/p2v/inventory/version.js';

describe('compareVersions: examples of the reference and the original comments', () => {
  it.each([
    // [a, b, sign of compare(a, b)]
    ['11.10.0,REV=2005.01.21.15.53', '11.10.0,REV=2005.01.21.15.53', 0],
    ['11.10.0,REV=2005.01.21.15.53', '11.10.0,REV=2005.01.21.15.54', -1],
    ['11.10.0,REV=2005.01.21.15.53', '11.10.0,REV=2004.12.31.23.59', 1],
    ['11.10.0,REV=2005.01.21.15.53', '11.11,REV=2001.01.01.00.00', -1],
    ['1.21,REV=2005.01.17.23.31', '1.21,REV=2005.01.17.23.31', 0],
    ['2.6.0,REV=10.0.3.2004.12.16.18.02', '2.6.0,REV=10.0.3.2004.12.16.18.02', 0],
    ['2.6.0,REV=10.0.3.2004.12.16.18.02', '2.6.0,REV=10.0.4.2004.01.01.00.00', -1],
    // "2.6.0 would be greater than 2.20.0" and "12 would be greater than 110" lexically; not here
    ['2.6.0', '2.20.0', -1],
    ['12', '110', -1],
    // 1.2 < 1.2.1: the longer list is greater
    ['1.2', '1.2.1', -1],
    ['1.2.1', '1.2', 1],
    // a non-numeric field decides with strcmp of those two fields only
    ['a.1', 'a.2', 0],
    ['1.a.1', '1.a.9', 0],
    ['1.a', '1.b', -1],
    ['1.b.0', '1.a.9', 1],
    ['1.10a', '1.9', -1], // strcmp("10a", "9")
    ['1.x', '1.x.2', 0],
    // leading zeros, empty fields, trailing dot
    ['01', '1', 0],
    ['1.01', '1.1', 0],
    ['1..2', '1.0.2', 0],
    ['', '0', 0],
    ['1.', '1', 1],
    ['1.', '1.0', 0],
    // only one side has a revision: that side is greater
    ['1.0', '1.0,REV=1', -1],
    ['1.0,REV=1', '1.0', 1],
    ['1.0,', '1.0', 1],
    // a revision without REV= on either side: strcmp of the whole revisions
    ['1.0,abc', '1.0,abd', -1],
    ['1.0,REV=2', '1.0,patch', -1],
    ['1.0,REV=10', '1.0,REV=9', 1],
    ['1.0,rev=10', '1.0,rev=9', -1],
    ['1.0,REV=', '1.0,REV=0', 0],
    // the first comma splits; later commas belong to the revision
    ['1.0,REV=1,x', '1.0,REV=1', 1], // REV fields "1,x" vs "1": "1,x" is not all digits, strcmp
    // numbers beyond a 32-bit long are not numbers (strtol fails): strcmp
    ['2147483647', '2147483646', 1],
    ['9', '2147483648', 1],
    ['10', '4294967296', -1],
    // the primary decides before the revision
    ['2.0,REV=1', '10.0,REV=9', -1],
  ])('%j vs %j → %d', (a, b, want) => {
    expect(compareVersions(a, b)).toBe(want);
    expect(compareVersions(b, a)).toBe(-want || 0);
  });

  it('is not transitive where numbers and text meet (the original has the same cycle)', () => {
    expect(compareVersions('2', '10')).toBe(-1);
    expect(compareVersions('10', '1a')).toBe(-1);
    expect(compareVersions('1a', '2')).toBe(-1);
  });
});

describe('compareFields', () => {
  it.each([
    ['2005.01.21.15.53', '2005.01.21.15.53', 0],
    ['2005.1.21', '2005.01.21', 0],
    ['10.0.3', '10.0.3.1', -1],
    ['x', 'y', -1],
    ['1.x.0', '1.x.1', 0],
  ])('%j vs %j → %d', (a, b, want) => {
    expect(compareFields(a, b)).toBe(want);
  });
});

describe('patch revisions', () => {
  it('compare as strings (zero-padded by convention)', () => {
    expect(comparePatchRevisions('01', '10')).toBe(-1);
    expect(comparePatchRevisions('10', '09')).toBe(1);
    expect(comparePatchRevisions('9', '10')).toBe(1); // the quirk: unpadded revisions compare wrongly
    expect(comparePatchRevisions('05', '05')).toBe(0);
  });

  it.each([
    ['123456', 123456],
    ['0123456', 123456],
    [' 12', 12],
    ['\t+5', 5],
    ['12abc', 12],
    ['abc', 0],
    ['', 0],
    ['-1', 4294967295],
    ['-0', 0],
    ['4294967295', 4294967295],
    ['99999999999', 4294967295],
  ])('strtoul32(%j) = %d', (s, want) => {
    expect(strtoul32(s)).toBe(want);
  });
});

const versionChars = fc.constantFrom('0', '1', '2', '9', '.', ',', 'R', 'E', 'V', '=', 'a', 'x', '-', ' ');
const versionish = fc.oneof(
  fc.string({ unit: versionChars, maxLength: 16 }),
  fc
    .tuple(fc.array(fc.nat({ max: 30 }), { minLength: 1, maxLength: 4 }), fc.option(fc.array(fc.nat({ max: 3000 }), { minLength: 1, maxLength: 5 })))
    .map(([p, r]) => `${p.join('.')}${r === null ? '' : `,REV=${r.join('.')}`}`),
  fc.string({ maxLength: 12 }),
);

describe('properties', () => {
  it('compareVersions is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(versionish, versionish, (a, b) => {
        expect(compareVersions(a, b)).toBe(-compareVersions(b, a) || 0);
        expect(compareVersions(a, a)).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('compareFields and patch revisions are antisymmetric', () => {
    fc.assert(
      fc.property(versionish, versionish, (a, b) => {
        expect(compareFields(a, b)).toBe(-compareFields(b, a) || 0);
        expect(comparePatchRevisions(a, b)).toBe(-comparePatchRevisions(b, a) || 0);
      }),
      { numRuns: 2000 },
    );
  });

  it('version equality is an equivalence (transitive)', () => {
    fc.assert(
      fc.property(versionish, versionish, versionish, (a, b, c) => {
        if (compareVersions(a, b) === 0 && compareVersions(b, c) === 0) expect(compareVersions(a, c)).toBe(0);
      }),
      { numRuns: 3000 },
    );
  });

  it('all-numeric dotted versions order like their number tuples', () => {
    const tuple = fc.array(fc.nat({ max: 100000 }), { minLength: 1, maxLength: 5 });
    fc.assert(
      fc.property(tuple, tuple, (x, y) => {
        let want = 0;
        for (let i = 0; i < Math.min(x.length, y.length) && want === 0; i++) want = Math.sign((x[i] as number) - (y[i] as number));
        if (want === 0) want = Math.sign(x.length - y.length);
        expect(compareVersions(x.join('.'), y.join('.'))).toBe(want);
      }),
    );
  });

  it('byteCompare is strcmp on latin1 bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 8 }), fc.uint8Array({ maxLength: 8 }), (a, b) => {
        const ba = Buffer.from(a);
        const bb = Buffer.from(b);
        expect(byteCompare(ba.toString('latin1'), bb.toString('latin1'))).toBe(Math.sign(Buffer.compare(ba, bb)));
      }),
    );
  });
});
