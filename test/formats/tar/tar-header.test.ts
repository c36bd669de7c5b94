/**
 * Unit tests of the header, pax and sparse-map primitives (numeric fields, checksum, records).
 */
import { describe, expect, it } from 'vitest';
import {
  Checksum,
  Magic,
  headerPath,
  magicOf,
  parseNumeric,
  verifyChecksum,
} from '../../../src/formats/tar/header.js';
import { parsePaxInteger, parsePaxRecords, parsePaxTime } from '../../../src/formats/tar/pax.js';
import { parseHolesdata, parseSparseMap01 } from '../../../src/formats/tar/sparse.js';
import { base256, header, paxBody } from '../../support/tar-build.js';

const field = (s: string | Buffer): Buffer => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
const num = (s: string | Buffer, strict = true): number => {
  const f = field(s);
  return parseNumeric(f, 0, f.length, strict);
};

describe('numeric fields', () => {
  it('reads octal with leading zeros or spaces, NUL or space terminated', () => {
    expect(num('0000644\0')).toBe(0o644);
    expect(num('   644 \0')).toBe(0o644);
    expect(num('000644 \0')).toBe(0o644);
    expect(num('        501 ')).toBe(0o501);
    expect(num('          5\0')).toBe(5);
  });
  it('reads a full-width field without terminator', () => {
    expect(num('00017500')).toBe(0o17500);
    expect(num('777777777777')).toBe(0o777777777777);
  });
  it('treats all-space, all-NUL and empty fields as 0', () => {
    expect(num('       \0')).toBe(0);
    expect(num(Buffer.alloc(8))).toBe(0);
    expect(num('        ')).toBe(0);
  });
  it('rejects garbage when strict, stops at it when lenient', () => {
    expect(num('12x4\0')).toBeNaN();
    expect(num('12x4\0', false)).toBe(0o12);
    expect(num('9\0')).toBeNaN();
  });
  it('reads base-256, positive and negative', () => {
    expect(num(base256(2097152, 8))).toBe(2097152);
    expect(num(base256(8 * 1024 ** 3 + 1, 12))).toBe(8 * 1024 ** 3 + 1);
    expect(num(base256(-1, 12))).toBe(-1);
    expect(num(base256(-2146608000, 12))).toBe(-2146608000);
    expect(num(Buffer.from([0x80, 0, 0, 0, 0, 0x20, 0, 0]))).toBe(0x200000);
  });
  it('returns ±Infinity beyond 2^53', () => {
    expect(num(Buffer.from([0x80, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(Infinity);
    expect(num(Buffer.from([0x80, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))).toBe(2 ** 53 - 1);
    expect(num(Buffer.from([0x80, 0x20, 0, 0, 0, 0, 0, 0]))).toBe(Infinity);
    expect(num(Buffer.from([0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe(-Infinity);
  });
});

describe('checksum', () => {
  it('accepts the unsigned and the signed sum, and recognises zero blocks', () => {
    const name = Buffer.from('caf\xe9-\xff\xfe', 'latin1');
    expect(verifyChecksum(header({ name }))).toBe(Checksum.Unsigned);
    expect(verifyChecksum(header({ name, checksum: 'signed' }))).toBe(Checksum.Signed);
    expect(verifyChecksum(header({ name, checksum: 'bad' }))).toBe(Checksum.Bad);
    expect(verifyChecksum(Buffer.alloc(512))).toBe(Checksum.Zero);
  });
  it('accepts a checksum written with leading space and 7-digit variants', () => {
    const h = header({ name: 'x' });
    const sum = parseInt(h.toString('latin1', 148, 154), 8);
    Buffer.from(' ' + sum.toString(8).padStart(5, '0') + '  ', 'latin1').copy(h, 148);
    expect(verifyChecksum(h)).toBe(Checksum.Unsigned);
    Buffer.from(sum.toString(8).padStart(7, '0') + '\0', 'latin1').copy(h, 148);
    expect(verifyChecksum(h)).toBe(Checksum.Unsigned);
  });
});

describe('magic and path', () => {
  it('classifies magics', () => {
    expect(magicOf(header({ magic: 'ustar' }))).toBe(Magic.Ustar);
    expect(magicOf(header({ magic: 'ustar-noversion' }))).toBe(Magic.Ustar);
    expect(magicOf(header({ magic: 'gnu' }))).toBe(Magic.Gnu);
    expect(magicOf(header({ magic: 'v7' }))).toBe(Magic.V7);
  });
  it('joins the ustar prefix, but not for GNU headers', () => {
    const h = header({ name: 'name', prefix: 'some/prefix' });
    expect(headerPath(h, Magic.Ustar).toString()).toBe('some/prefix/name');
    expect(headerPath(h, Magic.Gnu).toString()).toBe('name');
  });
  it('reads a 100-byte name without terminator', () => {
    const name = 'n'.repeat(100);
    expect(headerPath(header({ name, magic: 'v7' }), Magic.V7).toString()).toBe(name);
  });
  it('copies the path (no view into the header)', () => {
    const h = header({ name: 'abc' });
    const p = headerPath(h, Magic.Ustar);
    h[0] = 0x7a;
    expect(p.toString()).toBe('abc');
  });
});

describe('pax records', () => {
  it('parses records, keeps raw value bytes, handles lengths across digit boundaries', () => {
    const v = Buffer.from('caf\xe9', 'latin1');
    const body = paxBody([
      ['path', v],
      ['mtime', '1.5'],
      ['k', 'x'.repeat(93)],
      ['empty', ''],
    ]);
    const r = parsePaxRecords(body);
    expect(r.malformedAt).toBe(-1);
    expect(r.records.map((x) => x.key)).toEqual(['path', 'mtime', 'k', 'empty']);
    expect(r.records[0]!.value.equals(v)).toBe(true);
    expect(r.records[2]!.value.length).toBe(93);
    expect(r.records[3]!.value.length).toBe(0);
  });
  it('stops at a record without newline, a bad length or a missing "="', () => {
    expect(parsePaxRecords(Buffer.from('11 path=ab\n12 path=abc!')).malformedAt).toBe(11);
    expect(parsePaxRecords(Buffer.from('99 path=ab\n')).malformedAt).toBe(0);
    expect(parsePaxRecords(Buffer.from('x path=ab\n')).malformedAt).toBe(0);
    expect(parsePaxRecords(Buffer.from('10 pathab\n')).malformedAt).toBe(0);
    expect(parsePaxRecords(Buffer.from('3 \n')).malformedAt).toBe(0);
  });
  it('treats NUL padding as the end', () => {
    const r = parsePaxRecords(Buffer.concat([Buffer.from('11 path=ab\n'), Buffer.alloc(20)]));
    expect(r.malformedAt).toBe(-1);
    expect(r.records.length).toBe(1);
  });
  it('parses integers and times', () => {
    expect(parsePaxInteger(Buffer.from('123'))).toBe(123);
    expect(parsePaxInteger(Buffer.from('-5'))).toBe(-5);
    expect(parsePaxInteger(Buffer.from('1e3'))).toBeNaN();
    expect(parsePaxInteger(Buffer.from(''))).toBeNaN();
    expect(parsePaxInteger(Buffer.from('99999999999999999999'))).toBe(Infinity);
    expect(parsePaxTime(Buffer.from('1600000000.123456789'))).toEqual({ sec: 1600000000, nsec: 123456789 });
    expect(parsePaxTime(Buffer.from('1.5'))).toEqual({ sec: 1, nsec: 500000000 });
    expect(parsePaxTime(Buffer.from('-1.5'))).toEqual({ sec: -2, nsec: 500000000 });
    expect(parsePaxTime(Buffer.from('-2146608000'))).toEqual({ sec: -2146608000, nsec: 0 });
    expect(parsePaxTime(Buffer.from('1.1234567899'))).toEqual({ sec: 1, nsec: 123456789 });
    expect(parsePaxTime(Buffer.from('abc'))).toBeNull();
    expect(parsePaxTime(Buffer.from('1.2.3'))).toBeNull();
  });
});

describe('sparse maps', () => {
  it('parses SUN.holesdata exactly up to its last digit', () => {
    expect(parseHolesdata(Buffer.from(' 0 512 1024 1536'), 1536)).toEqual([
      [0, 512],
      [1024, 512],
    ]);
    expect(parseHolesdata(Buffer.from(' 0 0 393216 524288 786432 819231'), 819231)).toEqual([
      [393216, 131072],
      [786432, 32799],
    ]);
    expect(parseHolesdata(Buffer.from(' 0 512 1024'), 2000)).toEqual([
      [0, 512],
      [1024, 976],
    ]);
    expect(parseHolesdata(Buffer.from(' 512 0'), 1536)).toBeNull();
    expect(parseHolesdata(Buffer.from(' 0 4096'), 1536)).toBeNull();
    expect(parseHolesdata(Buffer.from(' 0 x'), 1536)).toBeNull();
  });
  it('parses GNU.sparse.map', () => {
    expect(parseSparseMap01(Buffer.from('0,10,100,5'), 0)).toEqual([0, 10, 100, 5]);
    expect(() => parseSparseMap01(Buffer.from('0,10,100'), 0)).toThrow(/odd/);
    expect(() => parseSparseMap01(Buffer.from('0,,1'), 0)).toThrow(/malformed/);
  });
});
