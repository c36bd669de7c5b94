/** parsePaxInto (the reader's hot path) agrees with parsePaxRecords applied in order; `__proto__` is a keyword like any other. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PaxGlobals, collectPaxFields, newPaxFields, parsePaxInto, parsePaxRecords, paxExtra } from '../../../src/formats/tar/pax.js';

const record = (key: string, value: string): string => {
  const body = ` ${key}=${value}\n`;
  let len = body.length + 1;
  while (String(len).length + body.length !== len) len++;
  return `${len}${body}`;
};

describe('parsePaxInto', () => {
  it('gives what parsePaxRecords gives, a later record winning, and the same malformed offset', () => {
    const key = fc.constantFrom('path', 'mtime', 'atime', 'uid', 'size', 'SCHILY.xattr.user.x', 'LIBARCHIVE.creationtime', 'é');
    fc.assert(
      fc.property(fc.array(fc.tuple(key, fc.string({ maxLength: 20 }))), fc.option(fc.string({ maxLength: 8 })), (recs, junk) => {
        const body = Buffer.from(recs.map(([k, v]) => record(k, v)).join('') + (junk ?? ''), 'utf8');
        const parsed = parsePaxRecords(body);
        const want: Record<string, Buffer> = {};
        for (const r of parsed.records) want[r.key] = r.value;
        const got: Record<string, Buffer> = {};
        expect(parsePaxInto(body, got)).toBe(parsed.malformedAt);
        expect(Object.keys(got)).toEqual(Object.keys(want));
        for (const k of Object.keys(want)) expect(got[k]!.equals(want[k]!)).toBe(true);
      }),
    );
  });

  it('keeps a `__proto__` record as an own keyword, in extra.pax and with globals', () => {
    const local: Record<string, Buffer> = {};
    parsePaxInto(Buffer.from(record('__proto__', 'x') + record('path', 'a')), local);
    expect(Object.getPrototypeOf(local)).toBe(Object.prototype);
    expect(Object.keys(local)).toEqual(['__proto__', 'path']);
    const globals = new PaxGlobals();
    globals.merge(parsePaxRecords(Buffer.from(record('uname', 'u'))).records, 1 << 20, 0);
    const merged = paxExtra(globals, local);
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(Object.keys(merged)).toEqual(['uname', '__proto__', 'path']);
    const f = collectPaxFields(newPaxFields(), globals, local);
    expect(f.path?.toString()).toBe('a');
    expect(f.uname?.toString()).toBe('u');
  });

  it('refills the fields object: nothing of the previous entry survives', () => {
    const f = newPaxFields();
    const globals = new PaxGlobals();
    const a: Record<string, Buffer> = {};
    parsePaxInto(Buffer.from(record('path', 'a') + record('GNU.sparse.offset', '0')), a);
    expect(collectPaxFields(f, globals, a)).toMatchObject({ sparseOffsets: true });
    const b: Record<string, Buffer> = {};
    parsePaxInto(Buffer.from(record('mtime', '1')), b);
    const g = collectPaxFields(f, globals, b);
    expect(g.path).toBeUndefined();
    expect(g.sparseOffsets).toBe(false);
    expect(g.mtime?.toString()).toBe('1');
  });
});
