/**
 * extract() as a library: what is written (bytes, modes, owners, times, names as bytes), the
 * in-flight machinery (small files written asynchronously, large ones streamed, per-path
 * ordering, hard links waiting for their target), the report and events, and how a run stops
 * (abort, reader failure, a body that lies about its size).
 */
import { chmod, lstat, mkdir, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ZoneP2vError } from '../../src/errors.js';
import { checkDestination, extract } from '../../src/sink/extract.js';
import { entryStream, makeEntry, type EntrySpec } from './support/entries.js';
import { extractEntries, makeSandbox } from './support/sandbox.js';

const sb = await makeSandbox();
afterAll(() => sb.cleanup());
const asRoot = process.getuid?.() === 0;

async function run(specs: EntrySpec[], options = {}) {
  const dest = await sb.newDest();
  const before = await sb.snapshot();
  const r = await extractEntries(entryStream(specs), dest, options);
  expect(await sb.snapshot()).toBe(before);
  return { ...r, dest };
}

describe('what is written', () => {
  it.each([
    ['the writer thread', { writerThreadAfter: 0 }],
    ['the thread pool', { writerThread: false }],
  ])('bytes, modes, owners and times of files, directories, symlinks, hard links and FIFOs (%s)', async (_label, options) => {
    const r = await run(
      [
      { path: './', type: 'directory', mode: 0o711, mtime: 1000 },
      { path: 'etc/', type: 'directory', mode: 0o755, uid: 0, gid: 3, mtime: 1500000000 },
      { path: 'etc/passwd', body: 'root:x:0:0\n', mode: 0o444, uid: 0, gid: 3, mtime: 1500000001, mtimeNsec: 123456789 },
      { path: 'etc/shadow', body: 'root::\n', mode: 0o400, uid: 0, gid: 3, mtime: -86400 },
      { path: 'usr/bin/su', body: 'ELF', mode: 0o4555, uid: 0, gid: 2 },
      { path: 'usr/bin/passwd', type: 'hardlink', target: 'usr/bin/su' },
      { path: 'usr/lib/libc.so', type: 'symlink', target: '/usr/lib/libc.so.1', uid: 2, gid: 2, mtime: 1234567890 },
      { path: 'etc/initpipe', type: 'fifo', mode: 0o600, uid: 5, gid: 6, mtime: 1400000000 },
      { path: 'home/user/', type: 'directory', mode: 0o700, uid: 1000, gid: 1000, mtime: 1300000000 },
      ],
      options,
    );
    expect(r.error).toBeNull();
    const d = r.dest;
    const st = await stat(join(d, 'etc/passwd'), { bigint: true });
    expect(await readFile(join(d, 'etc/passwd'), 'utf8')).toBe('root:x:0:0\n');
    expect(Number(st.mode & 0o7777n)).toBe(0o444);
    expect(st.mtimeNs / 1000n).toBe(1500000001123456n); // microsecond precision (Node passes seconds as a double)
    expect((await stat(join(d, 'etc/shadow'))).mtimeMs).toBe(-86400 * 1000);
    expect((await stat(join(d, 'usr/bin/su'))).mode & 0o7777).toBe(0o4555);
    expect((await stat(join(d, 'usr/bin/su'))).ino).toBe((await stat(join(d, 'usr/bin/passwd'))).ino);
    expect(await readlink(join(d, 'usr/lib/libc.so'), 'utf8')).toBe('/usr/lib/libc.so.1');
    expect((await lstat(join(d, 'usr/lib/libc.so'))).mtimeMs).toBe(1234567890 * 1000);
    const fifo = await lstat(join(d, 'etc/initpipe'));
    expect(fifo.isFIFO()).toBe(true);
    expect(fifo.mode & 0o7777).toBe(0o600);
    expect(fifo.mtimeMs).toBe(1400000000 * 1000);
    const etc = await stat(join(d, 'etc'));
    expect(etc.mtimeMs).toBe(1500000000 * 1000); // children did not bump it: applied last
    expect((await stat(join(d, 'home/user'))).mode & 0o7777).toBe(0o700);
    const root = await stat(d);
    expect(root.mode & 0o7777).toBe(0o711);
    expect(root.mtimeMs).toBe(1000 * 1000);
    if (asRoot) {
      expect(st.uid).toBe(0n);
      expect(st.gid).toBe(3n);
      expect((await stat(join(d, 'home/user'))).uid).toBe(1000);
      expect((await lstat(join(d, 'usr/lib/libc.so'))).gid).toBe(2);
      expect(fifo.uid).toBe(5);
      expect((await stat(join(d, 'usr/bin/su'))).gid).toBe(2);
    }
    expect(r.report!.written).toEqual({ file: 3, directory: 2, symlink: 1, hardlink: 1, fifo: 1 });
    expect(r.report!.implicitDirectories).toBe(4); // usr, usr/bin, usr/lib, home
    expect(r.report!.bytes).toBe(11 + 7 + 3);
    expect(r.report!.ownersPreserved).toBe(asRoot);
    expect(r.report!.refusedCount).toBe(0);
    // The FIFO staging directory is gone.
    expect((await readdir(d)).sort()).toEqual(['etc', 'home', 'usr']);
  });

  it('names are bytes: non-UTF-8 names and targets are written byte-exact', async () => {
    const name = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x74, 0x78, 0x74]); // café.txt in latin1
    const dir = Buffer.from([0xb0, 0xa1, 0xff]);
    const r = await run([
      { path: Buffer.concat([dir, Buffer.from('/')]), type: 'directory' },
      { path: Buffer.concat([dir, Buffer.from('/'), name]), body: 'latin1' },
      { path: 'ln', type: 'symlink', target: Buffer.concat([dir, Buffer.from('/'), name]) },
      { path: Buffer.concat([dir, Buffer.from('/p')]), type: 'fifo' },
    ]);
    expect(r.error).toBeNull();
    const names = (await readdir(Buffer.from(r.dest), { encoding: 'buffer' })) as Buffer[];
    expect(names.map((n) => n.toString('hex')).sort()).toEqual([dir.toString('hex'), Buffer.from('ln').toString('hex')].sort());
    const inner = Buffer.concat([Buffer.from(r.dest + '/'), dir, Buffer.from('/'), name]);
    expect((await readFile(inner)).toString()).toBe('latin1');
    expect((await readlink(join(r.dest, 'ln'), { encoding: 'buffer' })).equals(Buffer.concat([dir, Buffer.from('/'), name]))).toBe(true);
    expect((await lstat(Buffer.concat([Buffer.from(r.dest + '/'), dir, Buffer.from('/p')]))).isFIFO()).toBe(true);
  });

  it('a missing destination is created with its parents', async () => {
    const base = await sb.newDest();
    const dest = join(base, 'a', 'b');
    const report = await extract(entryStream([{ path: 'f', body: 'x' }]), { dest });
    expect(await readFile(join(dest, 'f'), 'utf8')).toBe('x');
    expect(report.dest).toBe(dest);
  });

  it("owners: 'skip' never changes them; the default as root preserves them", async () => {
    const skip = await run([{ path: 'f', body: 'x', uid: 4321, gid: 8765 }], { owners: 'skip' });
    expect((await stat(join(skip.dest, 'f'))).uid).toBe(process.getuid?.());
    expect(skip.report!.ownersPreserved).toBe(false);
    expect(skip.warnings).toEqual([]);
  });

  it('a setgid destination does not hand its group to what is written (owners and modes set explicitly)', async () => {
    if (!asRoot) return;
    const dest = await sb.newDest();
    const { chown } = await import('node:fs/promises');
    await chown(dest, 0, 4444);
    await chmod(dest, 0o2775);
    await extract(entryStream([{ path: 'd/', type: 'directory', mode: 0o755 }, { path: 'd/f', body: 'x', gid: 0 }, { path: 'g', body: 'y' }]), { dest });
    expect((await stat(join(dest, 'd/f'))).gid).toBe(0);
    expect((await stat(join(dest, 'g'))).gid).toBe(0);
    expect((await stat(join(dest, 'd'))).mode & 0o7777).toBe(0o755);
  });
});

describe('in-flight writes', () => {
  for (const [label, options] of [
    ['defaults', {}],
    ['the writer thread from the first file', { writerThreadAfter: 0 }],
    ['every file streamed (smallFileLimit 0)', { smallFileLimit: 0 }],
    ['the writer thread, nothing buffered ahead', { writerThreadAfter: 0, maxBufferedBytes: 1 }],
    ['the thread pool', { writerThread: false }],
    ['the thread pool, one write at a time, nothing buffered ahead', { writerThread: false, concurrency: 1, maxBufferedBytes: 1 }],
  ] as const) {
    it(`the same path many times, links to files still being written, large bodies in small chunks: ${label}`, async () => {
      const specs: EntrySpec[] = [];
      for (let i = 0; i < 50; i++) specs.push({ path: 'same', body: `version ${i}`, delay: i % 7 === 0 ? 1 : 0 });
      for (let i = 0; i < 50; i++) {
        specs.push({ path: `t${i}`, body: Buffer.alloc(3000 + i, i) });
        specs.push({ path: `l${i}`, type: 'hardlink', target: `t${i}` });
      }
      const big = Buffer.alloc(3 * 1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
      specs.push({ path: 'big', body: big, chunk: 65536 + 3 });
      specs.push({ path: 'big-link', type: 'hardlink', target: 'big' });
      specs.push({ path: 'same', body: 'final' });
      const r = await run(specs, options);
      expect(r.error).toBeNull();
      expect(await readFile(join(r.dest, 'same'), 'utf8')).toBe('final');
      expect(r.report!.replaced).toBe(50);
      for (let i = 0; i < 50; i++) {
        const l = await readFile(join(r.dest, `l${i}`));
        expect(l.equals(Buffer.alloc(3000 + i, i))).toBe(true);
        expect((await stat(join(r.dest, `l${i}`))).nlink).toBe(2);
      }
      expect((await readFile(join(r.dest, 'big-link'))).equals(big)).toBe(true);
    });
  }

  it('events: one extracted per entry written, in a stream the caller can follow', async () => {
    const r = await run([{ path: 'a/' , type: 'directory' }, { path: 'a/f', body: 'x' }, { path: 'l', type: 'symlink', target: 'a/f' }, { path: '../x', body: 'no' }]);
    const kinds = r.events.map((e) => `${e.kind}:${e.path.toString()}`);
    expect(kinds.sort()).toEqual(['extracted:a', 'extracted:a/f', 'extracted:l', 'refused:../x'].sort());
  });

  it('the refusal list is capped, the count is not', async () => {
    const specs: EntrySpec[] = [];
    for (let i = 0; i < 30; i++) specs.push({ path: `../x${i}`, body: 'no' });
    const r = await run(specs, { maxRefusalsListed: 5 });
    expect(r.report!.refused.length).toBe(5);
    expect(r.report!.refusedCount).toBe(30);
  });
});

describe('how a run stops', () => {
  it('a body shorter than announced is ENTRY_INVALID naming the entry', async () => {
    for (const smallFileLimit of [1 << 20, 0]) {
      const r = await run([{ path: 'ok', body: 'ok' }, { path: 'liar', body: 'short', size: 100 }, { path: 'after', body: 'x' }], { smallFileLimit });
      expect(r.error?.code).toBe('ENTRY_INVALID');
      expect(r.error!.message).toContain("'liar'");
      expect(await readFile(join(r.dest, 'ok'), 'utf8')).toBe('ok');
      await expect(lstat(join(r.dest, 'after'))).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('a reader that fails mid-stream: the error comes through, what was written stays, in-flight writes finish', async () => {
    const dest = await sb.newDest();
    const specs: EntrySpec[] = [];
    for (let i = 0; i < 40; i++) specs.push({ path: `f${i}`, body: Buffer.alloc(1000, i) });
    specs.push({ path: 'd/', type: 'directory', mode: 0o500 });
    const boom = new ZoneP2vError('FORMAT_TRUNCATED', 'tar: truncated in the middle of the archive at byte 12345');
    const r = await extractEntries(entryStream(specs, { count: 41, error: boom }), dest);
    expect(r.error).toBe(boom);
    for (let i = 0; i < 40; i++) expect((await readFile(join(dest, `f${i}`))).equals(Buffer.alloc(1000, i))).toBe(true);
    // Final attributes are not applied after a failure (the directory keeps its owner-writable mode).
    expect((await stat(join(dest, 'd'))).mode & 0o700).toBe(0o700);
  });

  it('an abort between entries, and one while a slow body is being read, stop with ABORTED', async () => {
    for (const where of ['between', 'in-body'] as const) {
      const dest = await sb.newDest();
      const controller = new AbortController();
      async function* slow() {
        yield makeEntry({ path: 'first', body: 'x' });
        if (where === 'between') {
          controller.abort();
          yield makeEntry({ path: 'second', body: 'y' });
        } else {
          setTimeout(() => controller.abort(), 30);
          yield makeEntry({ path: 'slow', body: Buffer.alloc(4 << 20), chunk: 1 << 16, delay: 20 });
        }
      }
      const r = await extractEntries(slow(), dest, { signal: controller.signal });
      expect(r.error?.code).toBe('ABORTED');
      expect(await readFile(join(dest, 'first'), 'utf8')).toBe('x');
      await expect(lstat(join(dest, 'second'))).rejects.toMatchObject({ code: 'ENOENT' });
    }
  });

  it('an abort while the reader is stalled (a pipe that sends nothing) returns at once', async () => {
    const dest = await sb.newDest();
    const controller = new AbortController();
    async function* stalled() {
      yield makeEntry({ path: 'first', body: 'x' });
      await new Promise(() => {}); // never
    }
    setTimeout(() => controller.abort(), 50);
    const t = Date.now();
    const r = await extractEntries(stalled(), dest, { signal: controller.signal });
    expect(r.error?.code).toBe('ABORTED');
    expect(Date.now() - t).toBeLessThan(2000);
  });

  it('checkDestination: missing is fine, empty is fine, non-empty needs allowNonEmpty', async () => {
    const d = await sb.newDest();
    expect(await checkDestination(join(d, 'missing'))).toMatchObject({ exists: false });
    expect(await checkDestination(d)).toMatchObject({ exists: true, empty: true });
    await mkdir(join(d, 'x'));
    await expect(checkDestination(d)).rejects.toMatchObject({ code: 'SINK_EXISTS' });
    expect(await checkDestination(d, { allowNonEmpty: true })).toMatchObject({ empty: false });
  });
});
