import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteSource } from '../../src/io/byte-source.js';
import { openRandomAccess } from '../../src/io/random-access.js';
import { readLine } from '../../src/io/line-reader.js';
import { ZoneP2vError } from '../../src/errors.js';
import { asAsync, randomChunks } from '../support/chunking.js';

describe('ByteSource', () => {
  it('reads, peeks, skips and unreads consistently under any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 3000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.record({ op: fc.constantFrom('read', 'peek', 'skip', 'unread'), n: fc.integer({ min: 0, max: 300 }) }), { maxLength: 40 }),
        async (bytes, seed, ops) => {
          const data = Buffer.from(bytes);
          const src = new ByteSource(asAsync(randomChunks(data, seed, 64)));
          let pos = 0;
          for (const { op, n } of ops) {
            const m = Math.min(n, data.length - pos);
            if (op === 'peek') {
              await src.fill(n);
              expect(src.peek(n).equals(data.subarray(pos, pos + m))).toBe(true);
            } else if (op === 'read') {
              if (m < n) {
                await expect(src.read(n, 'test')).rejects.toBeInstanceOf(ZoneP2vError);
                return;
              }
              expect((await src.read(n, 'test')).equals(data.subarray(pos, pos + n))).toBe(true);
              pos += n;
            } else if (op === 'skip') {
              if (m < n) return;
              await src.skip(n, 'test');
              pos += n;
            } else {
              const k = Math.min(n, pos);
              src.unread(Buffer.from(data.subarray(pos - k, pos)));
              pos -= k;
            }
            expect(src.position).toBe(pos);
          }
          const rest: Buffer[] = [];
          for await (const c of src.rest()) rest.push(c);
          expect(Buffer.concat(rest).equals(data.subarray(pos))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('names the layer and offset when the stream ends early', async () => {
    const src = new ByteSource(asAsync([Buffer.from('abc')]));
    await src.read(2, 'cpio-newc');
    const err = await src.read(10, 'cpio-newc', 'header').catch((e) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err.code).toBe('FORMAT_TRUNCATED');
    expect(err.message).toMatch(/^cpio-newc: unexpected end of data in header .* at byte 2; the archive is truncated$/);
  });
});

describe('ByteSource over a file (seeking skips)', () => {
  it('reads and skips the same bytes as the streamed source, under any chunk size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'zonep2v-bs-'));
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 0, maxLength: 5000 }),
        fc.integer({ min: 1, max: 700 }),
        fc.array(fc.record({ skip: fc.boolean(), n: fc.integer({ min: 0, max: 900 }) }), { maxLength: 30 }),
        async (bytes, chunk, ops) => {
          const file = join(dir, 'f');
          writeFileSync(file, bytes);
          const ra = await openRandomAccess(file);
          const src = ByteSource.fromRandomAccess(ra, 'input', chunk);
          const data = Buffer.from(bytes);
          let pos = 0;
          try {
            for (const { skip, n } of ops) {
              if (pos + n > data.length) {
                const err = await (skip ? src.skip(n, 'test') : src.read(n, 'test')).catch((e) => e);
                expect(err).toBeInstanceOf(ZoneP2vError);
                expect(err.code).toBe('FORMAT_TRUNCATED');
                return;
              }
              if (skip) await src.skip(n, 'test');
              else expect((await src.read(n, 'test')).equals(data.subarray(pos, pos + n))).toBe(true);
              pos += n;
              expect(src.position).toBe(pos);
            }
            const rest: Buffer[] = [];
            for await (const c of src.rest()) rest.push(c);
            expect(Buffer.concat(rest).equals(data.subarray(pos))).toBe(true);
          } finally {
            await ra.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('readLine', () => {
  it('splits lines under any chunking and caps what it keeps', async () => {
    const text = Buffer.from('one\n\nthree is longer\nlast');
    for (const seed of [1, 2, 3]) {
      const src = new ByteSource(asAsync(randomChunks(text, seed, 4)));
      const lines = [];
      for (let l = await readLine(src, 5); l; l = await readLine(src, 5)) lines.push([l.bytes.toString(), l.truncated, l.unterminated]);
      expect(lines).toEqual([
        ['one', false, false],
        ['', false, false],
        ['three', true, false],
        ['last', false, true],
      ]);
    }
  });
});
