import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hasDotDot, isAtOrUnder, isUnder, normalizePath } from '../../src/fixup/paths.js';

const n = (s: string) => normalizePath(Buffer.from(s, 'latin1'));

describe('normalizePath', () => {
  it('strips ./ and /, collapses // and /./, drops a trailing /', () => {
    expect(n('./etc/vfstab').path.toString()).toBe('etc/vfstab');
    expect(n('/etc/vfstab')).toEqual({ path: Buffer.from('etc/vfstab'), rerooted: true });
    expect(n('//etc//./x/').path.toString()).toBe('etc/x');
    expect(n('a/.').path.toString()).toBe('a');
    expect(n('.').path.toString()).toBe('.');
    expect(n('./').path.toString()).toBe('.');
    expect(n('/').path.toString()).toBe('.');
    expect(n('').path.toString()).toBe('');
    expect(n('a/../b').path.toString()).toBe('a/../b');
    expect(n('.hidden/..x').path.toString()).toBe('.hidden/..x');
  });

  it('returns the same Buffer for a normal name', () => {
    const p = Buffer.from('usr/lib/libc.so.1');
    expect(normalizePath(p).path).toBe(p);
    const q = Buffer.from('.profile');
    expect(normalizePath(q).path).toBe(q);
  });

  it('a `./` prefix before a normal name gives a view of the same bytes (no copy)', () => {
    const p = Buffer.from('././usr/lib/libc.so.1');
    const got = normalizePath(p).path;
    expect(got.toString()).toBe('usr/lib/libc.so.1');
    expect(got.buffer).toBe(p.buffer);
    expect(got.byteOffset).toBe(p.byteOffset + 4);
    expect(n('.//a').path.toString()).toBe('a');
    expect(n('./a/./b').path.toString()).toBe('a/b');
    expect(n('./a/').path.toString()).toBe('a');
  });

  it('is idempotent, never leaves empty or . components, keeps other bytes (property)', () => {
    const comp = fc.oneof(fc.constantFrom('', '.', '..', 'etc', 'a b', '\xe9t\xe9'), fc.string({ minLength: 1, maxLength: 4 }).filter((s) => !s.includes('/')));
    fc.assert(
      fc.property(fc.array(comp, { minLength: 1, maxLength: 6 }), fc.boolean(), (parts, lead) => {
        const raw = Buffer.from((lead ? '/' : '') + parts.join('/'), 'latin1');
        if (raw.length === 0) return;
        const once = normalizePath(raw).path;
        expect(normalizePath(once).path.equals(once)).toBe(true);
        const kept = parts.filter((c) => c !== '' && c !== '.');
        expect(once.toString('latin1')).toBe(kept.length === 0 ? '.' : kept.join('/'));
      }),
    );
  });
});

describe('path predicates', () => {
  const b = (s: string) => Buffer.from(s);
  it('isUnder / isAtOrUnder / hasDotDot', () => {
    expect(isUnder(b('dev/x'), b('dev'))).toBe(true);
    expect(isUnder(b('dev'), b('dev'))).toBe(false);
    expect(isUnder(b('devices/x'), b('dev'))).toBe(false);
    expect(isAtOrUnder(b('dev'), b('dev'))).toBe(true);
    expect(hasDotDot(b('a/../b'))).toBe(true);
    expect(hasDotDot(b('a/..b'))).toBe(false);
  });
});
