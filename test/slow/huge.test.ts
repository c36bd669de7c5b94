/**
 * Slow and huge cases (npm run test:slow; CI runs them): archives far larger than memory
 * budgets, generated on the fly so nothing is stored — memory must stay flat, sizes past 4 and
 * 8 GiB must be exact, and hundreds of thousands of entries must stream.
 */
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openArchive } from '../../src/pipeline/open-archive.js';

const ZERO = Buffer.alloc(1 << 20);

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function tarHeader(name: string, size: number, typeflag = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write(octal(0o644, 8), 100);
  h.write(octal(0, 8), 108);
  h.write(octal(0, 8), 116);
  if (size < 0o77777777777) h.write(octal(size, 12), 124);
  else {
    // base-256: 0x80 then the big-endian value in the remaining 11 bytes
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  h.write(octal(1600000000, 12), 136);
  h.write(typeflag, 156);
  h.write('ustar\0' + '00', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148);
  return h;
}

function newcHeader(name: string, size: number, ino: number): Buffer {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  const nameBuf = Buffer.from(name + '\0');
  const fields = ['070701', hex(ino), hex(0o100644), hex(0), hex(0), hex(1), hex(1600000000), hex(size), hex(0), hex(0), hex(0), hex(0), hex(nameBuf.length), hex(0)];
  const head = Buffer.concat([Buffer.from(fields.join('')), nameBuf]);
  const pad = (4 - (head.length % 4)) % 4;
  return Buffer.concat([head, Buffer.alloc(pad)]);
}

async function* zeros(n: number): AsyncGenerator<Buffer> {
  while (n > 0) {
    const k = Math.min(n, ZERO.length);
    yield ZERO.subarray(0, k);
    n -= k;
  }
}

async function listAll(input: AsyncIterable<Buffer>) {
  const archive = await openArchive(input);
  const out: Array<{ path: string; size: number }> = [];
  let peak = 0;
  let n = 0;
  for await (const e of archive.entries()) {
    if (out.length < 10 || e.size > 1e9) out.push({ path: e.path.toString(), size: e.size });
    if (++n % 10000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  return { archive, out, n, peak: Math.max(peak, process.memoryUsage().rss) };
}

describe('huge archives stream in flat memory', () => {
  it('lists 300,000 cpio newc entries', async () => {
    const N = 300_000;
    async function* gen() {
      const batch: Buffer[] = [];
      for (let i = 0; i < N; i++) {
        batch.push(newcHeader(`usr/share/d${i % 977}/file-${i}.txt`, 5, i + 1), Buffer.from('data\n\0\0\0'));
        if (batch.length >= 2000) yield Buffer.concat(batch.splice(0));
      }
      batch.push(newcHeader('TRAILER!!!', 0, 0));
      yield Buffer.concat(batch);
    }
    const before = process.memoryUsage().rss;
    const { n, peak } = await listAll(gen());
    expect(n).toBe(N);
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('tar: a 9 GiB member (base-256 size) is skipped exactly and the next member read', async () => {
    const big = 9 * 1024 * 1024 * 1024 + 7;
    async function* gen() {
      yield tarHeader('big.img', big);
      yield* zeros(big);
      yield Buffer.alloc(512 - (big % 512));
      yield tarHeader('after.txt', 3);
      yield Buffer.concat([Buffer.from('abc'), Buffer.alloc(509), Buffer.alloc(1024)]);
    }
    const before = process.memoryUsage().rss;
    const { out, peak } = await listAll(gen());
    expect(out).toEqual([
      { path: 'big.img', size: big },
      { path: 'after.txt', size: 3 },
    ]);
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });

  it('gzip: 3 GiB of tar through the inflater keeps memory flat', async () => {
    const size = 3 * 1024 * 1024 * 1024;
    async function* tar() {
      yield tarHeader('disk.raw', size);
      yield* zeros(size);
      yield tarHeader('end.txt', 0);
      yield Buffer.alloc(1024);
    }
    const gz = Readable.from(tar()).pipe(createGzip({ level: 1 }));
    const before = process.memoryUsage().rss;
    const { out, peak, archive } = await listAll(gz);
    expect(archive.layers.map((l) => l.name)).toEqual(['gzip', 'tar']);
    expect(out).toEqual([
      { path: 'disk.raw', size },
      { path: 'end.txt', size: 0 },
    ]);
    expect(peak - before).toBeLessThan(200 * 1024 * 1024);
  });
});
