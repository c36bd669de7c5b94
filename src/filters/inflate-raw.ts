/**
 * Inflates one raw deflate stream read from a ByteSource and stops exactly where it ends.
 *
 * Why not zlib.createGunzip: Node's Gunzip decodes member after member inside one write, and
 * when bytes after a member are not another member it errors and drops the output of that
 * whole write (test_compat_gzip_2.tgz loses everything). Knowing where the deflate stream ends
 * is also what a streaming zip reader needs. So we drive zlib.createInflateRaw ourselves: write
 * one input chunk, wait for it, and compare `bytesWritten` (bytes the engine consumed) with the
 * chunk length; bytes it did not consume belong to whatever follows and are put back into the
 * source with `unread`.
 *
 * State machine per call: feeding → (engine consumed less than written, or refused a chunk
 * outright) ended → leftover unread; EOF while feeding → FILTER_TRUNCATED; zlib error →
 * FILTER_CORRUPT. The engine runs on the libuv thread pool, so while it inflates chunk k+1 the
 * consumer is already processing the output of chunk k (hot path).
 */

import zlib from 'node:zlib';
import { formatError, ZoneP2vError } from '../errors.js';
import type { ByteSource } from '../io/byte-source.js';

const INPUT_CHUNK = 64 * 1024;
const OUTPUT_CHUNK = 64 * 1024;

interface Pending {
  written: Buffer;
  before: number;
  outputs: Buffer[];
  done: Promise<void>;
}

/**
 * Yields the inflated bytes of the deflate stream starting at `src`'s position; on return the
 * source is positioned at the first byte after the deflate stream. `layer` names the caller
 * (`gzip`, `zip`) in errors.
 */
export async function* inflateRawFrom(src: ByteSource, layer: string): AsyncGenerator<Buffer> {
  const inf = zlib.createInflateRaw({ chunkSize: OUTPUT_CHUNK });
  let sink: Buffer[] = [];
  let failure: Error | null = null;
  inf.on('data', (d: Buffer) => sink.push(d));
  inf.on('error', (e: Error) => {
    failure = e;
  });
  const startOffset = src.position;

  const write = (chunk: Buffer): Pending => {
    const outputs: Buffer[] = [];
    sink = outputs;
    const before = inf.bytesWritten;
    const done = new Promise<void>((resolve) => {
      const onError = () => resolve();
      inf.once('error', onError);
      inf.write(chunk, () => {
        inf.off('error', onError);
        resolve();
      });
    });
    return { written: chunk, before, outputs, done };
  };

  const corrupt = (e: unknown): ZoneP2vError =>
    formatError(
      'FILTER_CORRUPT',
      layer,
      `deflate data is corrupt (${(e as Error).message})`,
      src.position,
      'the compressed stream is damaged',
      { cause: e },
    );

  try {
    let pending: Pending | null = null;
    for (;;) {
      if (pending === null) {
        if (src.buffered === 0) await src.fill(1);
        if (src.buffered === 0) {
          // The input ended exactly where we stopped writing. zlib gives no end signal for a
          // deflate stream whose last byte was also the last byte written, so ask it: ending
          // the inflater succeeds only when the deflate stream is complete.
          const tail: Buffer[] = [];
          sink = tail;
          // 'finish' comes before zlib reports an incomplete stream, so wait for 'end' or 'error'.
          const ok = await new Promise<boolean>((resolve) => {
            inf.once('error', () => resolve(false));
            inf.once('end', () => resolve(true));
            inf.end();
          });
          if (ok && failure === null) {
            for (const o of tail) yield o;
            return;
          }
          failure = null;
          throw formatError(
            'FILTER_TRUNCATED',
            layer,
            `compressed stream ends inside deflate data begun at byte ${startOffset}`,
            src.position,
            'the input is truncated',
          );
        }
        pending = write(src.takeChunk(INPUT_CHUNK)!);
      }
      const current: Pending = pending;
      pending = null;
      await current.done;
      if (failure) throw corrupt(failure);
      const consumed = inf.bytesWritten - current.before;
      if (consumed < current.written.length) {
        // The deflate stream ended inside this chunk: wait until zlib has emitted every
        // output byte ('end'), then give the unconsumed tail back to the source.
        if (!inf.readableEnded) await new Promise<void>((resolve) => inf.once('end', resolve));
        src.unread(current.written.subarray(consumed));
        for (const o of current.outputs) yield o;
        return;
      }
      // Start inflating the next chunk before handing these outputs to the consumer.
      if (src.buffered > 0) pending = write(src.takeChunk(INPUT_CHUNK)!);
      for (const o of current.outputs) yield o;
    }
  } finally {
    inf.removeAllListeners('data');
    inf.on('error', () => {
      /* closing after an error reports nothing new */
    });
    inf.close();
  }
}
