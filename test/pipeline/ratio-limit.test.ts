/**
 * Decompression bombs: a filter whose output runs past 1000× its input (after the first
 * 256 MiB) stops with LIMIT_RATIO, whatever the compression; the limit can be raised or
 * disabled for a trusted image.
 */
import { execFileSync } from 'node:child_process';
import { createGzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { openArchive, RATIO_FLOOR } from '../../src/pipeline/open-archive.js';
import { ZoneP2vError } from '../../src/errors.js';

const SIZE = RATIO_FLOOR + 64 * 1024 * 1024;

function tarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0);
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('14136552000\0', 136);
  h.write('0', 156);
  h.write('ustar\x0000', 257);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function* zeroTar(): Generator<Buffer> {
  yield tarHeader('bomb', SIZE);
  const z = Buffer.alloc(1 << 20);
  for (let left = SIZE; left > 0; left -= z.length) yield z.subarray(0, Math.min(z.length, left));
  yield Buffer.alloc(1024);
}

async function drain(input: AsyncIterable<Buffer>, maxRatio?: number) {
  const archive = await openArchive(input, maxRatio === undefined ? {} : { maxRatio });
  let n = 0;
  for await (const e of archive.entries()) for await (const c of e.body) n += c.length;
  return n;
}

describe('decompression ratio limit', () => {
  it('stops a gzip bomb with LIMIT_RATIO naming the filter', async () => {
    const gz = Readable.from(zeroTar()).pipe(createGzip({ level: 9 }));
    const err = await drain(gz).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('LIMIT_RATIO');
    expect(err.message).toMatch(/^gzip: \d+ bytes decompressed from \d+ \(more than 1000 times the input\); this looks like a decompression bomb/);
  });

  it('stops a zstd bomb the same way, and lets it through with the limit disabled', async () => {
    const tar = Buffer.concat([...zeroTar()]);
    const zst = execFileSync('zstd', ['-q', '-3', '-c'], { input: tar, maxBuffer: 1 << 30 });
    const err = await drain(Readable.from([zst])).catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('LIMIT_RATIO');
    expect(await drain(Readable.from([zst]), 0)).toBe(SIZE);
  });
});
