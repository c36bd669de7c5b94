/** The sink's one resolver: examples from dependencies-research §7 and properties (fast-check). */
import { posix } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NAME_MAX, resolvePath, type ResolveLimits } from '../../src/sink/resolve-path.js';

const LIMITS: ResolveLimits = { maxDepth: 1024, maxBytes: 4000 };
const r = (s: string | Buffer, limits = LIMITS) => resolvePath(typeof s === 'string' ? Buffer.from(s, 'latin1') : s, limits);
const rel = (s: string | Buffer) => {
  const x = r(s);
  if (!x.ok) throw new Error(`refused: ${x.reason}`);
  return x.rel.toString('latin1');
};

describe('resolvePath', () => {
  it('keeps clean names as they are (no copy)', () => {
    const b = Buffer.from('usr/lib/libc.so.1');
    const x = r(b);
    expect(x.ok && x.rel).toBe(b);
    expect(x.ok && x.depth).toBe(3);
  });

  it.each([
    ['./etc/passwd', 'etc/passwd'],
    ['etc//passwd', 'etc/passwd'],
    ['etc/./passwd', 'etc/passwd'],
    ['etc/', 'etc'],
    ['././a/./b/', 'a/b'],
    ['a/b//', 'a/b'],
    ['...', '...'],
    ['..a/b..', '..a/b..'],
    ['.hidden/.x', '.hidden/.x'],
    ['C:\\x', 'C:\\x'],
    ['..\\x', '..\\x'],
  ])('%s → %s', (input, want) => {
    expect(rel(input)).toBe(want);
  });

  it.each([['/etc/x'], ['//etc/x'], ['///x'], ['/./x']])('re-roots %s', (input) => {
    const x = r(input);
    expect(x.ok && x.rerooted).toBe(true);
    expect(x.ok && x.rel.toString()).toBe(input.replace(/^[/.]+/, ''));
  });

  it.each([['.'], ['./'], ['/'], ['//'], ['./.'], ['/./']])('%s is the root', (input) => {
    const x = r(input);
    expect(x.ok && x.depth).toBe(0);
    expect(x.ok && x.rel.length).toBe(0);
  });

  it.each([['..'], ['../x'], ['a/../../x'], ['./../x'], ['a//..//..//x'], ['a/..'], ['a/../b'], ['/../x'], ['../']])("refuses '..' in %s", (input) => {
    expect(r(input)).toMatchObject({ ok: false, code: 'PATH_INVALID' });
  });

  it('refuses NUL bytes, empty names, long components, deep and long paths', () => {
    expect(r(Buffer.from('a\0/../../x'))).toMatchObject({ ok: false, code: 'PATH_INVALID' });
    expect(r(Buffer.alloc(0))).toMatchObject({ ok: false, code: 'PATH_INVALID', reason: 'empty name' });
    expect(r('x'.repeat(NAME_MAX)).ok).toBe(true);
    expect(r('x'.repeat(NAME_MAX + 1))).toMatchObject({ ok: false, code: 'PATH_INVALID' });
    expect(r('a/'.repeat(1024) + '/').ok).toBe(true);
    expect(r('a/'.repeat(1025))).toMatchObject({ ok: false, code: 'LIMIT_DEPTH' });
    expect(r('a/'.repeat(10_000) + 'f')).toMatchObject({ ok: false, code: 'LIMIT_DEPTH' });
    expect(r('ab/'.repeat(1500), { maxDepth: 2000, maxBytes: 4000 })).toMatchObject({ ok: false, code: 'PATH_INVALID' });
  });

  it('names are bytes: invalid UTF-8 passes unchanged', () => {
    const b = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2f, 0xff, 0xfe]);
    const x = r(b);
    expect(x.ok && x.rel.equals(b)).toBe(true);
    expect(x.ok && x.key).toBe(b.toString('latin1'));
  });

  const segment = fc.oneof(
    fc.constantFrom('', '.', '..', '...', 'a', 'b', 'lnk', '\\..', 'C:', '\xe9'),
    fc.string({ unit: fc.constantFrom('a', '.', '\\', '\xff', ' '), maxLength: 4 }),
  );
  const rawPath = fc.array(segment, { maxLength: 12 }).map((segs) => Buffer.from(segs.join('/'), 'latin1'));

  it('property: a resolved path is normal, relative, inside the root and stable', () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const x = resolvePath(raw, LIMITS);
        if (!x.ok) return;
        const s = x.rel.toString('latin1');
        const parts = s.length === 0 ? [] : s.split('/');
        expect(s.startsWith('/')).toBe(false);
        expect(s.endsWith('/')).toBe(false);
        for (const p of parts) expect(['', '.', '..']).not.toContain(p);
        expect(parts.length).toBe(x.depth);
        // Joined to a root, it stays below it.
        const joined = posix.resolve('/dest', s);
        expect(joined === '/dest' || joined.startsWith('/dest/')).toBe(true);
        // Resolving the result again changes nothing (the root aside: an empty name is refused).
        if (x.depth === 0) return;
        const again = resolvePath(x.rel, LIMITS);
        expect(again.ok && again.rel.equals(x.rel)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("property: a path is refused exactly when a component is '..' (or it is empty or holds NUL)", () => {
    fc.assert(
      fc.property(rawPath, (raw) => {
        const x = resolvePath(raw, LIMITS);
        const comps = raw.toString('latin1').split('/');
        const bad = raw.length === 0 || comps.includes('..');
        expect(x.ok).toBe(!bad);
      }),
      { numRuns: 2000 },
    );
  });
});
