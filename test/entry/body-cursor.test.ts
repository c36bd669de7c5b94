/**
 * BodyCursor's synchronous fast path (copyBuffered, waitForData, finishBuffered) against the
 * async iterator it shortcuts: same bytes under any chunking, onData fed exactly once, stale
 * and truncated bodies reported the same way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyCursor } from '../../src/entry/body-cursor.js';
import { ZoneP2vError } from '../../src/errors.js';
import { ByteSource } from '../../src/io/byte-source.js';
import { asAsync, randomChunks } from '../support/chunking.js';

/** Reads a whole body through copyBuffered/waitForData, as the sink does. */
async function copyAll(cursor: BodyCursor, size: number): Promise<Buffer> {
  const out = Buffer.alloc(size);
  let got = cursor.copyBuffered(out, 0);
  while (got < size) {
    await cursor.waitForData();
    const n = cursor.copyBuffered(out, got);
    if (n === 0 && cursor.remaining === 0) break;
    got += n;
  }
  return out.subarray(0, got);
}

describe('BodyCursor fast path', () => {
  it('copies the same bytes as the iterator, under any chunking, and leaves the source on the next byte', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 0, maxLength: 3000 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 1, max: 10_000 }), async (bytes, cut, seed) => {
        const data = Buffer.from(bytes);
        const size = Math.min(cut, data.length);
        const src = new ByteSource(asAsync(randomChunks(data, seed, 64)));
        const seen: Buffer[] = [];
        const cursor = new BodyCursor(src, size, 'test', (c) => seen.push(Buffer.from(c)));
        const got = await copyAll(cursor, size);
        expect(got.equals(data.subarray(0, size))).toBe(true);
        expect(Buffer.concat(seen).equals(data.subarray(0, size))).toBe(true);
        expect(cursor.remaining).toBe(0);
        expect(cursor.finishBuffered()).toBe(true);
        expect(src.position).toBe(size);
      }),
    );
  });

  it('finishBuffered skips a buffered rest synchronously (feeding onData), and declines an unbuffered one', async () => {
    const data = Buffer.from('0123456789abcdef');
    const src = new ByteSource([data.subarray(0, 10), data.subarray(10)]);
    await src.fill(1);
    let fed = 0;
    const a = new BodyCursor(src, 4, 'test', (c) => (fed += c.length));
    expect(a.copyBuffered(Buffer.alloc(2), 0)).toBe(2);
    expect(a.finishBuffered()).toBe(true);
    expect(fed).toBe(4);
    expect(src.position).toBe(4);
    const b = new BodyCursor(src, 10, 'test');
    expect(b.finishBuffered()).toBe(false); // 6 bytes buffered of 10
    await b.finish();
    expect(src.position).toBe(14);
  });

  it('a finished body is stale: copyBuffered throws ENTRY_BODY_STALE, like iterating it', async () => {
    const src = new ByteSource([Buffer.from('abcdef')]);
    await src.fill(1);
    const cursor = new BodyCursor(src, 3, 'test');
    expect(cursor.finishBuffered()).toBe(true);
    expect(() => cursor.copyBuffered(Buffer.alloc(3), 0)).toThrow(expect.objectContaining({ code: 'ENTRY_BODY_STALE' }));
    await expect(async () => {
      for await (const _ of cursor) void _;
    }).rejects.toMatchObject({ code: 'ENTRY_BODY_STALE' });
  });

  it('waitForData reports a truncated body', async () => {
    const src = new ByteSource(asAsync([Buffer.from('abc')]));
    const cursor = new BodyCursor(src, 10, 'tar');
    const out = Buffer.alloc(10);
    await cursor.waitForData();
    expect(cursor.copyBuffered(out, 0)).toBe(3);
    const err = await cursor.waitForData().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ZoneP2vError);
    expect(err).toMatchObject({ code: 'FORMAT_TRUNCATED' });
  });

  it('copies no more than the room left in the buffer', async () => {
    const src = new ByteSource([Buffer.from('abcdefgh')]);
    await src.fill(1);
    const cursor = new BodyCursor(src, 8, 'test');
    const out = Buffer.alloc(5);
    expect(cursor.copyBuffered(out, 2)).toBe(3);
    expect(out.toString('latin1', 2)).toBe('abc');
    expect(cursor.remaining).toBe(5);
  });
});
