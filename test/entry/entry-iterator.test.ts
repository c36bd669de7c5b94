/** EntryIterator behaves like the async generator it replaces: ordered calls, done after the end, an error or return(); close once, end only at the end. */
import { describe, expect, it } from 'vitest';
import type { Entry } from '../../src/entry/entry.js';
import { EntryIterator, type EntrySource } from '../../src/entry/entry-iterator.js';

const entry = (n: number) => ({ path: Buffer.from(`e${n}`) }) as unknown as Entry;

/** A source of `count` entries, each arriving after a tick; optionally failing at `failAt`. */
function source(count: number, failAt = -1) {
  const log: string[] = [];
  let i = 0;
  let busy = false;
  const src: EntrySource = {
    async next() {
      if (busy) throw new Error('next() called concurrently');
      busy = true;
      await new Promise((r) => setImmediate(r));
      busy = false;
      if (i === failAt) throw new Error('corrupt');
      return i < count ? entry(i++) : null;
    },
    end: () => log.push('end'),
    close: () => log.push('close'),
  };
  return { src, log };
}

const names = (rs: IteratorResult<Entry, undefined>[]) => rs.map((r) => (r.done ? 'done' : r.value.path.toString()));

describe('EntryIterator', () => {
  it('yields the entries, then done; close then end, once', async () => {
    const { src, log } = source(3);
    const got: string[] = [];
    for await (const e of new EntryIterator(src)) got.push(e.path.toString());
    expect(got).toEqual(['e0', 'e1', 'e2']);
    expect(log).toEqual(['close', 'end']);
  });

  it('serves calls made while one is pending in order, never concurrently', async () => {
    const { src } = source(2);
    const it = new EntryIterator(src);
    expect(names(await Promise.all([it.next(), it.next(), it.next(), it.next()]))).toEqual(['e0', 'e1', 'done', 'done']);
  });

  it('return() waits for the pending next(), closes without end, and later calls are done', async () => {
    const { src, log } = source(5);
    const it = new EntryIterator(src);
    const first = it.next();
    const stopped = it.return();
    expect(names([await first, await stopped, await it.next()])).toEqual(['e0', 'done', 'done']);
    expect(log).toEqual(['close']);
  });

  it('an error rejects that next(), closes without end, and later calls are done', async () => {
    const { src, log } = source(5, 1);
    const it = new EntryIterator(src);
    expect(names([await it.next()])).toEqual(['e0']);
    await expect(it.next()).rejects.toThrow('corrupt');
    expect(names([await it.next()])).toEqual(['done']);
    expect(log).toEqual(['close']);
  });

  it('throw() rejects with its error and closes', async () => {
    const { src, log } = source(5);
    const it = new EntryIterator(src);
    await expect(it.throw(new Error('stop'))).rejects.toThrow('stop');
    expect(names([await it.next()])).toEqual(['done']);
    expect(log).toEqual(['close']);
  });
});
