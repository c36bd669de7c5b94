/**
 * bzip2 through unbzip2-stream (pure JS, multi-stream, CRC-checked; see docs/dependencies.md
 * for why and for its speed). Its errors are untyped strings or TypeErrors; we classify them:
 * "No magic number found" after at least one complete stream is trailing garbage (a warning,
 * as bzip2(1) says "trailing garbage after EOF ignored"); anything else is corruption or
 * truncation of the compressed data.
 */

import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { formatError, ZoneP2vError } from '../errors.js';
import type { Filter } from './filter.js';
import { throughTransform } from './node-transform.js';

const require = createRequire(import.meta.url);
/** Loaded on first use (start-up time of commands that never meet bzip2). */
const unbzip2 = (): Duplex => (require('unbzip2-stream') as () => Duplex)();

const LAYER = 'bzip2';

function bid(head: Buffer): number {
  if (head.length < 4) return 0;
  // "BZh" + block size '1'..'9'
  if (head[0] !== 0x42 || head[1] !== 0x5a || head[2] !== 0x68) return 0;
  if (head[3]! < 0x31 || head[3]! > 0x39) return 0;
  let bits = 30;
  // Then a block magic (pi) or the end-of-stream magic (sqrt pi) for an empty stream.
  if (head.length >= 10) {
    const m = head.subarray(4, 10).toString('hex');
    if (m === '314159265359' || m === '177245385090') bits += 48;
    else return 0;
  }
  return bits;
}

export const bzip2Filter: Filter = {
  name: 'bzip2',
  bid,
  open(input, ctx) {
    return throughTransform(input, unbzip2(), (e, run) => {
      const msg = e.message ?? String(e);
      if (/No magic number found/i.test(msg) && run.produced > 0) {
        ctx.onWarning(
          new ZoneP2vError('FILTER_TRAILING_DATA', `${LAYER}: trailing garbage after the compressed stream ignored (after ${run.produced} bytes of output)`, {
            layer: LAYER,
            severity: 'warning',
          }),
        );
        return null;
      }
      const truncated = e instanceof TypeError || /unexpected end|premature/i.test(msg);
      return formatError(
        truncated ? 'FILTER_TRUNCATED' : 'FILTER_CORRUPT',
        LAYER,
        truncated
          ? `compressed stream is truncated or corrupt after ${run.produced} bytes of output`
          : `compressed data is corrupt after ${run.produced} bytes of output (${/gave up/.test(msg) ? 'bad block data' : msg})`,
        undefined,
        undefined,
        { cause: e },
      );
    });
  },
};
