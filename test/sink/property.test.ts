/**
 * Property (fast-check): any sequence of files, directories, symlinks (to the victim, to
 * relative escapes, to each other) and hard links (inside and outside), under any spelling of
 * a small set of names, leaves the victim untouched, creates no hard link into it, and writes
 * nothing through a symlink: every object in the destination that is not a symlink sits in a
 * chain of real directories.
 */
import { lstat, readdir, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { EntryType } from '../../src/entry/entry.js';
import { entryStream, type EntrySpec } from './support/entries.js';
import { extractEntries, makeSandbox } from './support/sandbox.js';

const sb = await makeSandbox('zonep2v-prop-');
afterAll(() => sb.cleanup());
const V = sb.victim;

const component = fc.constantFrom('a', 'b', 'lnk', 'd', '.', '', '..');
const name = fc.array(component, { minLength: 1, maxLength: 4 }).map((cs) => cs.join('/'));
const prefix = fc.constantFrom('', '/', './', '//');
const path = fc.tuple(prefix, name).map(([p, n]) => p + n);
const target = fc.oneof(path, fc.constantFrom(V, `${V}/file`, '../victim', '../victim/file', '../../..', '.', '/'));
const entry: fc.Arbitrary<EntrySpec> = fc.oneof(
  fc.record({ path, type: fc.constant<EntryType>('file'), body: fc.constantFrom('x', 'pwned', '') }),
  fc.record({ path, type: fc.constant<EntryType>('directory'), mode: fc.constantFrom(0o755, 0o700, 0, 0o1777) }),
  fc.record({ path, type: fc.constant<EntryType>('symlink'), target }),
  fc.record({ path, type: fc.constant<EntryType>('hardlink'), target, body: fc.constantFrom('', 'data') }),
);

/** Every write path: the writer thread, the thread pool, streaming. */
const writePath = fc.constantFrom({}, { writerThreadAfter: 0 }, { writerThread: false }, { smallFileLimit: 0 });

async function walk(dest: string, rel: string, out: string[]): Promise<void> {
  for (const n of await readdir(join(dest, rel))) {
    const r = rel ? `${rel}/${n}` : n;
    const st = await lstat(join(dest, r));
    out.push(r);
    if (st.isDirectory()) await walk(dest, r, out);
  }
}

describe('property: hostile sequences stay inside the destination', () => {
  it('victim untouched, no link into it, nothing written through a symlink', async () => {
    const victimIno = (await lstat(join(V, 'file'))).ino;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 14 }), writePath, async (specs, options) => {
        const dest = await sb.newDest();
        const before = await sb.snapshot();
        const r = await extractEntries(entryStream(specs.map((s) => ({ ...s, size: s.type === 'hardlink' || s.type === 'file' ? Buffer.byteLength(s.body ?? '') : 0 }))), dest, options);
        expect(r.error, r.error?.message).toBeNull();
        expect(await sb.snapshot()).toBe(before);
        const seen: string[] = [];
        await walk(dest, '', seen);
        for (const p of seen) {
          const st = await lstat(join(dest, p));
          if (st.isFile()) expect(st.ino).not.toBe(victimIno);
        }
        // Everything written (symlinks aside) sits below real directories only: its parent
        // path resolves to itself, so no write went through a symlink, even one inside.
        const root = await realpath(dest);
        for (const ev of r.events) {
          if (ev.kind !== 'extracted' || ev.type === 'symlink') continue;
          const rel = ev.path.toString('latin1');
          const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
          expect(await realpath(join(dest, parent))).toBe(parent ? join(root, parent) : root);
        }
      }),
      { numRuns: 150 },
    );
  }, 60_000);
});
