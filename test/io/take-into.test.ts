/** ByteSource.takeInto and copyBytes: the copying read the sink's small-file path uses. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteSource, copyBytes } from '../../src/io/byte-source.js';
import { asAsync, randomChunks } from '../support/chunking.js';

describe('ByteSource.takeInto', () => {
  it('consumes exactly what it copies, across chunk seams, bounded by max, the buffered bytes and the room', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 2000 }),
        fc.integer({ min: 1, max: 10_000 }),
        fc.array(fc.record({ max: fc.integer({ min: 0, max: 400 }), room: fc.integer({ min: 0, max: 400 }), fill: fc.integer({ min: 0, max: 400 }) }), { maxLength: 30 }),
        async (bytes, seed, ops) => {
          const data = Buffer.from(bytes);
          const src = new ByteSource(asAsync(randomChunks(data, seed, 50)));
          let pos = 0;
          for (const { max, room, fill } of ops) {
            await src.fill(fill);
            const buffered = src.buffered;
            const out = Buffer.alloc(room + 3, 0xee);
            const n = src.takeInto(out, 3, max);
            expect(n).toBe(Math.min(max, buffered, room));
            expect(out.subarray(3, 3 + n).equals(data.subarray(pos, pos + n))).toBe(true);
            expect(out.subarray(0, 3).equals(Buffer.alloc(3, 0xee))).toBe(true);
            pos += n;
            expect(src.position).toBe(pos);
          }
        },
      ),
    );
  });

  it('copies into shared memory', async () => {
    const src = new ByteSource([Buffer.from('hello world')]);
    await src.fill(1);
    const out = Buffer.from(new SharedArrayBuffer(16));
    expect(src.takeInto(out, 4, 5)).toBe(5);
    expect(out.toString('latin1', 4, 9)).toBe('hello');
    expect(out[3]).toBe(0);
    expect(out[9]).toBe(0);
  });
});

describe('copyBytes', () => {
  it('copies exactly the source, at the offset, and accepts an empty source', () => {
    const out = Buffer.alloc(8, 0x2e);
    copyBytes(out, 2, new Uint8Array([1, 2, 3]));
    copyBytes(out, 7, new Uint8Array(0));
    expect([...out]).toEqual([0x2e, 0x2e, 1, 2, 3, 0x2e, 0x2e, 0x2e]);
  });
});
