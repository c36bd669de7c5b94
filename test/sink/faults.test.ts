/**
 * Faults on real resources: a full file system (a 1 MiB tmpfs mounted by the test, as root),
 * an input that breaks mid-stream, and Ctrl-C (SIGINT) to the command line while an archive is
 * piped slowly into `-a -`. Each: a clear message, the documented code, nothing outside the
 * destination touched.
 */
import { execFileSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '../support/tar-build.js';
import { extractBytes, makeSandbox } from './support/sandbox.js';
import { ensureBuilt, finished, runCli, spawnCli } from './support/cli.js';
import { openArchive } from '../../src/pipeline/open-archive.js';
import { extract } from '../../src/sink/extract.js';
import { ZoneP2vError } from '../../src/errors.js';

const sb = await makeSandbox('zonep2v-faults-');
const mounts: string[] = [];
const asRoot = process.getuid?.() === 0;

beforeAll(() => ensureBuilt(), 120_000);
afterAll(async () => {
  for (const m of mounts) {
    try {
      execFileSync('umount', [m]);
    } catch {
      execFileSync('umount', ['-l', m]);
    }
  }
  await sb.cleanup();
});

/** A fresh destination on a 1 MiB tmpfs. */
async function smallFs(): Promise<string> {
  const dest = await sb.newDest();
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'none', dest]);
  mounts.push(dest);
  return dest;
}

function files(n: number, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < n; i++) parts.push(T.file(`f${i}`, Buffer.alloc(size, i)));
  return T.tar(...parts, T.eoa());
}

describe.runIf(asRoot)('a full file system (ENOSPC)', () => {
  it.each([
    ['the writer thread', { writerThreadAfter: 0 }],
    ['the thread pool', { writerThread: false }],
  ])('small files written in flight (%s): SINK_WRITE naming a file and ENOSPC', async (_label, options) => {
    const dest = await smallFs();
    const before = await sb.snapshot();
    const r = await extractBytes(files(40, 64 * 1024), dest, options);
    expect(r.error?.code).toBe('SINK_WRITE');
    expect(r.error!.message).toMatch(/^sink: cannot write 'f\d+' \(ENOSPC: no space left on device\); extraction stopped/);
    expect(await sb.snapshot()).toBe(before);
  });

  it('a large file streamed: SINK_WRITE with ENOSPC', async () => {
    const dest = await smallFs();
    const before = await sb.snapshot();
    const r = await extractBytes(files(1, 3 * 1024 * 1024), dest);
    expect(r.error?.code).toBe('SINK_WRITE');
    expect(r.error!.message).toContain('ENOSPC');
    expect(await sb.snapshot()).toBe(before);
  });

  it('the command line: exit 254, one line naming the archive and the cause', async () => {
    const dest = await smallFs();
    const before = await sb.snapshot();
    const r = runCli(['extract', '-a', '-', '-C', dest], gzipSync(files(40, 64 * 1024)));
    expect(r.code).toBe(254);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^zonep2v: standard input: sink: cannot write 'f\d+' \(ENOSPC: no space left on device\)/);
    expect(await sb.snapshot()).toBe(before);
  });
});

describe('an input that breaks mid-stream', () => {
  it('a gzip stream cut short: a typed filter/format error, what came before is written', async () => {
    const gz = gzipSync(files(50, 4000));
    const dest = await sb.newDest();
    const before = await sb.snapshot();
    const r = await extractBytes(gz.subarray(0, Math.floor(gz.length / 2)), dest);
    expect(r.error?.code).toMatch(/^(FILTER_TRUNCATED|FORMAT_TRUNCATED)$/);
    expect((await readdir(dest)).length).toBeGreaterThan(0);
    expect(await sb.snapshot()).toBe(before);
  });

  it('a source that fails with an I/O error (a broken pipe): IO_READ', async () => {
    const bytes = files(50, 4000);
    async function* broken() {
      yield bytes.subarray(0, 100_000);
      throw Object.assign(new Error('read EIO'), { code: 'EIO', syscall: 'read' });
    }
    const dest = await sb.newDest();
    const before = await sb.snapshot();
    let error: unknown = null;
    try {
      const reader = await openArchive(broken());
      await extract(reader.entries(), { dest });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ZoneP2vError);
    expect((error as ZoneP2vError).code).toBe('IO_READ');
    expect((error as ZoneP2vError).message).toContain('EIO');
    expect(await sb.snapshot()).toBe(before);
  });
});

describe('Ctrl-C', () => {
  it('SIGINT while an archive is piped slowly into -a -: exit 254, "aborted", nothing outside the destination', async () => {
    const dest = await sb.newDest();
    const before = await sb.snapshot();
    const bytes = files(3000, 2000); // ~7.5 MiB
    const child = spawnCli(['extract', '-a', '-', '-C', dest]);
    const done = finished(child);
    child.stdin!.on('error', () => {}); // EPIPE once the child stops reading
    let sent = 0;
    let stop = false;
    const feeder = (async () => {
      while (sent < bytes.length && !stop) {
        const piece = bytes.subarray(sent, sent + 64 * 1024);
        sent += piece.length;
        // A full pipe drains only while the child reads: stop waiting once it has exited.
        if (!child.stdin!.write(piece)) await Promise.race([new Promise((r) => child.stdin!.once('drain', r)), done]);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    // Wait until the run has started writing, then interrupt it.
    for (let i = 0; i < 500 && (await readdir(dest)).length < 20; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await readdir(dest)).length).toBeGreaterThanOrEqual(20);
    const t = Date.now();
    child.kill('SIGINT');
    const r = await Promise.race([done, new Promise<null>((res) => setTimeout(() => res(null), 15_000))]);
    stop = true;
    if (r === null) child.kill('SIGKILL');
    expect(r, 'the command exits after SIGINT').not.toBeNull();
    await feeder;
    expect(Date.now() - t).toBeLessThan(5000);
    expect(r!.code).toBe(254);
    expect(r!.stderr.trimEnd().split('\n').at(-1)).toMatch(/^zonep2v: standard input: sink: extraction aborted/);
    expect(sent).toBeLessThan(bytes.length);
    expect(await sb.snapshot()).toBe(before);
  }, 30_000);
});
