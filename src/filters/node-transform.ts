/**
 * Runs a Node transform stream (a decompressor from a library) over a chunk iterable and
 * yields its output, with library errors turned into ZoneP2vErrors by the filter's `classify`.
 *
 * Not stream.pipeline: on error it destroys every stage and drops output already decoded but
 * not yet read, and a decoder that finishes a stream and then rejects trailing bytes in the same
 * write would lose the tail of good data. Here a writer task feeds the transform (respecting
 * its backpressure) while the generator drains a queue of outputs; the queue pauses the
 * transform above HIGH_WATER bytes. Only when every output before the error has been yielded is
 * the error classified: a classifier may return null to declare it benign trailing data after
 * a complete stream (the output so far stands).
 */

import type { Duplex } from 'node:stream';
import type { ZoneP2vError } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';

const HIGH_WATER = 4 * 1024 * 1024;

export interface TransformRun {
  /** Bytes of output yielded so far (for error messages). */
  produced: number;
}

export async function* throughTransform(
  input: ChunkIterable,
  transform: Duplex,
  classify: (error: Error, run: TransformRun) => ZoneP2vError | null,
): AsyncGenerator<Buffer> {
  const run: TransformRun = { produced: 0 };
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let failure: Error | null = null;
  let stopped = false;
  let paused = false; // tracked here: old-style `through` streams have no isPaused()
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };

  transform.on('data', (d: Buffer | Uint8Array) => {
    const b = Buffer.isBuffer(d) ? d : Buffer.from(d);
    queue.push(b);
    queued += b.length;
    if (queued > HIGH_WATER && !paused) {
      paused = true;
      transform.pause();
    }
    notify();
  });
  transform.on('end', () => {
    ended = true;
    notify();
  });
  transform.on('error', (e: Error) => {
    failure ??= e;
    notify();
  });

  const writer = (async () => {
    for await (const chunk of input as AsyncIterable<Uint8Array>) {
      if (failure || stopped) return;
      if (!transform.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            transform.off('drain', done);
            transform.off('error', done);
            transform.off('close', done);
            resolve();
          };
          transform.on('drain', done);
          transform.on('error', done);
          transform.on('close', done);
        });
      }
    }
    if (!failure && !stopped) transform.end();
  })().catch((e: Error) => {
    failure ??= e;
    notify();
  });

  try {
    for (;;) {
      if (queue.length > 0) {
        const b = queue.shift()!;
        queued -= b.length;
        if (paused && queued <= HIGH_WATER / 2) {
          paused = false;
          transform.resume();
        }
        run.produced += b.length;
        yield b;
        continue;
      }
      if (failure) {
        const mapped = classify(failure, run);
        if (mapped) throw mapped;
        return;
      }
      if (ended) return;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    stopped = true;
    transform.removeAllListeners('data');
    transform.on('error', () => {
      /* errors after we stopped listening change nothing */
    });
    transform.destroy();
    await writer;
  }
}
