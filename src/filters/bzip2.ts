/**
 * bzip2: `bzip2 -dc` in a child process when it is on PATH (external-decoder.ts), else
 * unbzip2-stream (pure JS, multi-stream, CRC-checked; see docs/dependencies.md for why and for
 * the speed of each).
 *
 * bzip2(1) decodes concatenated streams and, after the last one, exits 0 saying "trailing
 * garbage after EOF ignored" (only when not run with -q): that notice becomes the same
 * FILTER_TRAILING_DATA warning the in-process path gives. "Compressed file ends unexpectedly"
 * is FILTER_TRUNCATED; everything else it refuses is FILTER_CORRUPT with its message.
 *
 * unbzip2-stream's errors are untyped strings or TypeErrors; we classify them: "No magic
 * number found" after at least one complete stream is trailing garbage (the warning); anything
 * else is corruption or truncation of the compressed data. One difference remains: one or two
 * bytes after the last stream are FILTER_TRUNCATED in process (unbzip2-stream cannot tell them
 * from a cut stream header) and trailing garbage for bzip2(1).
 */

import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { formatError, ZoneP2vError } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';
import { decodeWithExternal, formatProgramFailure, type DecoderProgram } from './external-decoder.js';
import type { Filter, FilterContext } from './filter.js';
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

function trailingWarning(produced: number): ZoneP2vError {
  return new ZoneP2vError('FILTER_TRAILING_DATA', `${LAYER}: trailing garbage after the compressed stream ignored (after ${produced} bytes of output)`, {
    layer: LAYER,
    severity: 'warning',
  });
}

/** bzip2(1), run without -q so that it reports trailing garbage (on stderr, exit status 0). */
export const BZIP2_PROGRAM: DecoderProgram = {
  layer: LAYER,
  command: 'bzip2',
  args: ['-d', '-c'],
  display: 'bzip2 -dc',
  identify: /bzip2, a block-sorting file compressor/,
  notice: (stderr, produced) => (/trailing garbage after EOF ignored/i.test(stderr) ? trailingWarning(produced) : null),
  classify({ message, produced, stderr }) {
    const after = `after ${produced} bytes of output`;
    if (/ends unexpectedly/i.test(stderr)) {
      return formatProgramFailure('FILTER_TRUNCATED', LAYER, `compressed stream ends early ${after}`, 'bzip2 -dc', message, 'the input is truncated');
    }
    if (/allocate enough memory|out of memory/i.test(stderr)) {
      return formatProgramFailure('LIMIT_MEMORY', LAYER, `bzip2(1) ran out of memory ${after}`, 'bzip2 -dc', message);
    }
    return formatProgramFailure('FILTER_CORRUPT', LAYER, `compressed data is corrupt ${after}`, 'bzip2 -dc', message);
  },
};

/** unbzip2-stream, with its errors classified. */
function decodeInProcess(input: ChunkIterable, ctx: FilterContext): AsyncIterable<Buffer> {
  return throughTransform(input, unbzip2(), (e, run) => {
    const msg = e.message ?? String(e);
    if (/No magic number found/i.test(msg) && run.produced > 0) {
      ctx.onWarning(trailingWarning(run.produced));
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
}

export const bzip2Filter: Filter = {
  name: 'bzip2',
  bid,
  open: (input, ctx) => decodeWithExternal(BZIP2_PROGRAM, input, ctx, { inProcess: (i) => decodeInProcess(i, ctx) }),
};
