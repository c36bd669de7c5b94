/**
 * Hostile patterns that live in one format's own structures (ustar prefix, GNU L/K, pax and
 * Solaris X records, cpio name sizes and inode groups, zip name pairs), resource exhaustion
 * (deep trees, oversized meta records, a gzip bomb), truncation, and runs into a destination
 * that already holds something (two archives one after the other: CVE-2025-45582).
 * After every run the victim beside the destination is byte-for-byte untouched.
 */
import { lstat, mkdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCpio, rawNewcHeader } from '../support/cpio-build.js';
import * as T from '../support/tar-build.js';
import { buildZip } from '../support/zip-build.js';
import { encode } from './support/encode.js';
import { extractBytes, makeSandbox, refusedPaths, VICTIM_FILE_CONTENT } from './support/sandbox.js';
import { openArchive } from '../../src/pipeline/open-archive.js';
import { asAsync } from '../support/chunking.js';

const sb = await makeSandbox();
afterAll(() => sb.cleanup());
const V = sb.victim;
const R = '../victim';

const ZIP_READY = await openArchive(asAsync([buildZip([{ name: 'a', data: 'x' }]).bytes]))
  .then(async (r) => {
    for await (const _ of r.entries());
    return true;
  })
  .catch(() => false);

/** Runs `bytes` into a fresh destination; asserts the victim is untouched; returns the result. */
async function run(bytes: Buffer, options = {}) {
  const dest = await sb.newDest();
  const before = await sb.snapshot();
  const r = await extractBytes(bytes, dest, options);
  expect(await sb.snapshot(), 'everything outside the destination is untouched').toBe(before);
  return { ...r, dest };
}

const rel = (dest: string, p: string) => Buffer.concat([Buffer.from(dest + '/'), Buffer.from(p, 'latin1')]);

describe('traversal hidden in format structures', () => {
  it('ustar prefix + name that join into a ../ path (prefix "a/..", name "../victim/file")', async () => {
    const r = await run(T.tar(T.member({ name: '../victim/file', prefix: 'a/..' }, 'pwned'), T.file('ok', 'ok'), T.eoa()));
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual(['a/../../victim/file']);
    expect(await readFile(rel(r.dest, 'ok'), 'utf8')).toBe('ok');
  });

  it('a GNU L long name and a K long link target with traversal', async () => {
    const long = 'a'.repeat(120) + '/../../victim/file';
    const r = await run(
      T.tar(
        T.gnuLong('L', long),
        T.member({ name: 'harmless', magic: 'gnu' }, 'pwned'),
        T.gnuLong('K', `${'b'.repeat(120)}/../../../victim/file`),
        T.member({ name: 'hl', typeflag: '1', magic: 'gnu', linkname: 'harmless' }),
        T.eoa(),
      ),
    );
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual([long, 'hl'].sort());
    await expect(lstat(rel(r.dest, 'harmless'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a pax path and linkpath, a global pax path, and a Solaris X header with traversal', async () => {
    const r = await run(
      T.tar(
        T.pax([['path', `${R}/file`]]),
        T.file('benign1', 'pwned'),
        T.pax([['linkpath', `${R}/file`]]),
        T.member({ name: 'hl', typeflag: '1', linkname: 'benign1' }),
        T.pax([['path', `${R}/passwd`]], 'X'),
        T.file('benign2', 'pwned'),
        T.file('ok', 'ok'),
        T.eoa(),
      ),
    );
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual([`${R}/file`, `${R}/passwd`, 'hl'].sort());
    expect(await readFile(rel(r.dest, 'ok'), 'utf8')).toBe('ok');
  });

  it('a Solaris ACL record naming a path outside is a meta record, never a file', async () => {
    const r = await run(T.tar(T.solarisAcl(`${R}/file`, 0o1000000 + 1, 'user::rw-'), T.file('f', 'x'), T.eoa()));
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual([]);
    expect(await readFile(rel(r.dest, 'f'), 'utf8')).toBe('x');
  });
});

describe('NUL bytes and empty names', () => {
  it('tar: a name with a NUL is cut at the NUL by the header field; a pax path with a NUL is refused', async () => {
    const r = await run(T.tar(T.file('a\0/../../victim/file', 'short'), T.pax([['path', 'b\0/../../victim/file']]), T.file('benign', 'pwned'), T.eoa()));
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual(['b\0/../../victim/file']);
    expect(await readFile(rel(r.dest, 'a'), 'utf8')).toBe('short');
  });

  it('cpio: a name with a NUL inside its name size ends at the NUL', async () => {
    const r = await run(buildCpio('newc', [{ name: Buffer.from('c\0/../../victim/file', 'latin1'), data: 'short' }]));
    expect(r.error).toBeNull();
    expect(await readFile(rel(r.dest, 'c'), 'utf8')).toBe('short');
  });

  it('empty names (tar, cpio) are refused or rejected, never written', async () => {
    const t = await run(T.tar(T.file('', 'pwned'), T.file('ok', 'ok'), T.eoa()));
    if (t.error === null) expect(refusedPaths(t)).toEqual(['']);
    const c = await run(buildCpio('newc', [{ name: '', data: 'pwned' }, { name: 'ok', data: 'ok' }]));
    if (c.error === null) expect(refusedPaths(c)).toEqual(['']);
    else expect(c.error.code).toMatch(/^(FORMAT_|PATH_)/);
  });

  it('cpio name sizes of 0 and 2^32-1 are typed reader errors', async () => {
    for (const namesize of ['00000000', 'FFFFFFFF']) {
      const h = rawNewcHeader({ mode: '000081A4', nlink: '00000001', namesize, filesize: '00000000' });
      const r = await run(Buffer.concat([h, Buffer.alloc(512)]));
      expect(r.error?.code).toMatch(/^(FORMAT_CORRUPT|LIMIT_META_SIZE|FORMAT_TRUNCATED)$/);
    }
  });
});

describe('cpio inode groups', () => {
  for (const variant of ['newc', 'crc'] as const) {
    it(`${variant}: the data member comes after a member whose name points outside`, async () => {
      const r = await run(
        buildCpio(variant, [
          { name: `${R}/file`, ino: 4242, nlink: 2, data: '' },
          { name: 'x', ino: 4242, nlink: 2, data: 'pwned' },
        ]),
      );
      expect(r.error).toBeNull();
      expect(refusedPaths(r)).toEqual([`${R}/file`, 'x'].sort());
      expect(r.report!.refused.find((x) => x.path.toString() === 'x')!.reason).toMatch(/outside this archive.*written as a separate file/);
      expect(await readFile(rel(r.dest, 'x'), 'utf8')).toBe('pwned');
      expect((await lstat(rel(r.dest, 'x'))).nlink).toBe(1);
    });

    it(`${variant}: a group whose first member is absolute is re-rooted whole`, async () => {
      const r = await run(
        buildCpio(variant, [
          { name: `${V}/file`, ino: 4243, nlink: 2, data: '' },
          { name: 'x', ino: 4243, nlink: 2, data: 'group' },
        ]),
      );
      expect(r.error).toBeNull();
      expect(refusedPaths(r)).toEqual([]);
      const a = await lstat(rel(r.dest, `${V.slice(1)}/file`));
      const b = await lstat(rel(r.dest, 'x'));
      expect(a.ino).toBe(b.ino);
      expect(await readFile(rel(r.dest, 'x'), 'utf8')).toBe('group');
    });
  }

  it('odc: data repeated on every member; a member replaced later by a symlink is not written through', async () => {
    const r = await run(
      buildCpio('odc', [
        { name: 't', ino: 77, nlink: 2, data: 'v1' },
        { name: 't', mode: 0o120777, data: `${V}/file` },
        { name: 'l', ino: 77, nlink: 2, data: 'v2' },
      ]),
    );
    expect(r.error).toBeNull();
    // 'l' links to 't', which is now a (pending) symlink: the link is refused, its data kept as a file.
    expect(refusedPaths(r)).toEqual(['l']);
    expect(await readlink(rel(r.dest, 't'), 'utf8')).toBe(`${V}/file`);
    expect(await readFile(rel(r.dest, 'l'), 'utf8')).toBe('v2');
  });
});

describe('resource limits', () => {
  it('a 1,100-deep directory chain: 1,024 levels written, the rest refused with LIMIT_DEPTH', async () => {
    const entries = [];
    let p = '';
    for (let i = 0; i < 1100; i++) {
      p += 'd/';
      entries.push({ path: p, type: 'dir' as const });
    }
    const r = await run(encode('cpio-newc', entries));
    expect(r.error).toBeNull();
    expect(r.report!.written.directory).toBe(1024);
    expect(r.report!.refusedCount).toBe(76);
    expect(new Set(r.report!.refused.map((x) => x.code))).toEqual(new Set(['LIMIT_DEPTH']));
  });

  it('oversized meta records (2 MiB pax path, GNU L, cpio name) are typed errors', async () => {
    const big = 'x/'.repeat(1024 * 1024);
    const cases = [
      T.tar(T.pax([['path', big]]), T.file('f', 'x'), T.eoa()),
      T.tar(T.gnuLong('L', big), T.file('f', 'x', { magic: 'gnu' }), T.eoa()),
      buildCpio('newc', [{ name: big, data: 'x' }]),
    ];
    for (const bytes of cases) {
      const r = await run(bytes);
      expect(r.error?.code).toBe('LIMIT_META_SIZE');
    }
  });

  describe('a gzip bomb', () => {
    let bomb: Buffer;
    beforeAll(async () => {
      // A tar whose (refused) member holds 400 MiB of zeros, gzip -9: about 1:1030.
      const size = 400 * 1024 * 1024;
      const gz = createGzip({ level: 9 });
      const parts: Buffer[] = [];
      gz.on('data', (c: Buffer) => parts.push(c));
      const done = new Promise((resolve) => gz.on('end', resolve));
      gz.write(T.header({ name: '../bomb', size }));
      const zero = Buffer.alloc(1024 * 1024);
      for (let i = 0; i < size / zero.length; i++) if (!gz.write(zero)) await new Promise((res) => gz.once('drain', res));
      gz.end(T.eoa());
      await done;
      bomb = Buffer.concat(parts);
    }, 60_000);

    it('stops with LIMIT_RATIO, nothing written', async () => {
      const r = await run(bomb);
      expect(r.error?.code).toBe('LIMIT_RATIO');
    }, 60_000);
  });
});

describe('truncation', () => {
  it('a stream cut in the middle of a body stops with a typed error naming the entry', async () => {
    const full = T.tar(T.file('first', 'one'), T.file('big', Buffer.alloc(100_000, 0x61)), T.file('after', 'x'), T.eoa());
    const r = await run(full.subarray(0, 512 * 3 + 50_000));
    expect(r.error?.code).toBe('FORMAT_TRUNCATED');
    expect(r.error!.message).toContain("'big'");
    expect(await readFile(rel(r.dest, 'first'), 'utf8')).toBe('one');
    await expect(lstat(rel(r.dest, 'after'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('a destination that already holds something', () => {
  it('without allowNonEmpty: SINK_EXISTS before anything is written', async () => {
    const dest = await sb.newDest();
    await writeFile(join(dest, 'keep'), 'mine');
    const r = await extractBytes(T.tar(T.file('new', 'x'), T.eoa()), dest);
    expect(r.error?.code).toBe('SINK_EXISTS');
    await expect(lstat(join(dest, 'new'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a destination that is a file: SINK_EXISTS', async () => {
    const dest = await sb.newDest();
    await writeFile(join(dest, 'f'), '');
    const r = await extractBytes(T.tar(T.file('new', 'x'), T.eoa()), join(dest, 'f'));
    expect(r.error?.code).toBe('SINK_EXISTS');
  });

  it('two archives, one after the other: a symlink planted by the first is never written through by the second (CVE-2025-45582)', async () => {
    const dest = await sb.newDest();
    const before = await sb.snapshot();
    const first = await extractBytes(T.tar(T.member({ name: 'x', typeflag: '2', linkname: R }), T.member({ name: 'y', typeflag: '2', linkname: V }), T.eoa()), dest);
    expect(first.error).toBeNull();
    const second = await extractBytes(
      T.tar(T.file('x/file', 'pwned'), T.member({ name: 'y/dir/', typeflag: '5' }), T.file('y/passwd', 'pwned'), T.file('x', 'replace the link?'), T.file('fresh/ok', 'ok'), T.eoa()),
      dest,
      { allowNonEmpty: true },
    );
    expect(second.error).toBeNull();
    expect(refusedPaths(second)).toEqual(['x', 'x/file', 'y/dir/', 'y/passwd'].sort());
    expect(await readlink(join(dest, 'x'), 'utf8')).toBe(R);
    expect(await readFile(join(dest, 'fresh', 'ok'), 'utf8')).toBe('ok');
    expect(await sb.snapshot()).toBe(before);
  });

  it('existing files, directories, symlinks and FIFOs are never replaced; hard links to them are refused', async () => {
    const dest = await sb.newDest();
    await writeFile(join(dest, 'keep'), 'mine');
    await mkdir(join(dest, 'dir'));
    await writeFile(join(dest, 'dir', 'old'), 'old');
    await symlink(join(V, 'file'), join(dest, 'sl'));
    const before = await sb.snapshot();
    const r = await extractBytes(
      T.tar(
        T.file('keep', 'pwned'),
        T.member({ name: 'keep', typeflag: '2', linkname: `${V}/file` }),
        T.member({ name: 'h', typeflag: '1', linkname: 'keep' }),
        T.file('h', 'fine'),
        T.member({ name: 'dir/', typeflag: '5', mode: 0o700 }),
        T.file('dir/new', 'new'),
        T.file('dir/old', 'pwned'),
        T.file('sl', 'pwned'),
        T.member({ name: 'sl', typeflag: '6' }),
        T.file('big-over-keep', Buffer.alloc(2 * 1024 * 1024)),
        T.eoa(),
      ),
      dest,
      { allowNonEmpty: true, smallFileLimit: 1024 * 1024 },
    );
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual(['keep', 'keep', 'h', 'dir/old', 'sl', 'sl'].sort());
    expect(await readFile(join(dest, 'keep'), 'utf8')).toBe('mine');
    expect(await readFile(join(dest, 'h'), 'utf8')).toBe('fine');
    expect(await readFile(join(dest, 'dir', 'old'), 'utf8')).toBe('old');
    expect(await readFile(join(dest, 'dir', 'new'), 'utf8')).toBe('new');
    expect(await readlink(join(dest, 'sl'), 'utf8')).toBe(join(V, 'file'));
    expect((await lstat(join(dest, 'dir'))).mode & 0o777).toBe(0o755); // an existing directory is not modified
    expect(await readFile(join(V, 'file'), 'utf8')).toBe(VICTIM_FILE_CONTENT);
    expect(await sb.snapshot()).toBe(before);
  });
});

describe.runIf(ZIP_READY)('zip name pairs', () => {
  it("'..' only in the local name, or only in the central name: nothing escapes", async () => {
    for (const [localName, name] of [
      [`${R}/file`, 'benign'],
      ['benign', `${R}/file`],
    ]) {
      const r = await run(buildZip([{ name: name!, localName: localName!, data: 'pwned' }, { name: 'ok', data: 'ok' }]).bytes);
      if (r.error === null) expect(await readFile(rel(r.dest, 'ok'), 'utf8')).toBe('ok');
    }
  });

  it('a symlink entry pointing outside, then a file through it', async () => {
    const r = await run(buildZip([{ name: 'lnk', data: V, mode: 0o120777 }, { name: 'lnk/file', data: 'pwned' }]).bytes);
    expect(r.error).toBeNull();
    expect(refusedPaths(r)).toEqual(['lnk/file']);
  });
});
