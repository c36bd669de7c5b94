/**
 * Shared glue for xz and lzma-alone through lzma-native (liblzma on the libuv thread pool, so
 * decoding overlaps with parsing; see docs/dependencies.md for the measurement that chose it).
 * liblzma reports errors by number; we map them to our codes. LZMA_FORMAT_ERROR after some
 * output is bytes after the last complete xz stream that are not another stream: a warning.
 */

import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import { formatError, ZoneP2vError } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';
import type { FilterContext } from './filter.js';
import { throughTransform } from './node-transform.js';

const require = createRequire(import.meta.url);

interface LzmaNative {
  createStream(coder: string, options?: Record<string, unknown>): Duplex;
  LZMA_CONCATENATED: number;
}

let loaded: LzmaNative | null = null;
/** Loaded on first use: the native addon costs ~30 ms of start-up that `list` of a tar needn't pay. */
export function lzmaNative(): LzmaNative {
  loaded ??= require('lzma-native') as LzmaNative;
  return loaded;
}

// liblzma lzma_ret values (lzma/base.h).
const LZMA_MEM_ERROR = 5;
const LZMA_MEMLIMIT_ERROR = 6;
const LZMA_FORMAT_ERROR = 7;
const LZMA_OPTIONS_ERROR = 8;
const LZMA_DATA_ERROR = 9;
const LZMA_BUF_ERROR = 10;

/** Decoder memory cap: well above xz -9's 65 MiB dictionary, far below the machine. */
export const LZMA_MEMLIMIT = 1024 * 1024 * 1024;

export function decodeWithLiblzma(
  layer: 'xz' | 'lzma',
  coder: 'streamDecoder' | 'aloneDecoder',
  input: ChunkIterable,
  ctx: FilterContext,
): AsyncIterable<Buffer> {
  const options: Record<string, unknown> = { memlimit: LZMA_MEMLIMIT };
  if (coder === 'streamDecoder') options.flags = lzmaNative().LZMA_CONCATENATED;
  const stream = lzmaNative().createStream(coder, options);
  return throughTransform(input, stream, (e, run) => {
    const code = (e as Error & { code?: number }).code;
    if (code === LZMA_FORMAT_ERROR && run.produced > 0) {
      ctx.onWarning(
        new ZoneP2vError('FILTER_TRAILING_DATA', `${layer}: trailing garbage after the compressed stream ignored (after ${run.produced} bytes of output)`, {
          layer,
          severity: 'warning',
        }),
      );
      return null;
    }
    const after = `after ${run.produced} bytes of output`;
    switch (code) {
      case LZMA_BUF_ERROR:
        return formatError('FILTER_TRUNCATED', layer, `compressed stream ends early (${after})`, undefined, 'the input is truncated', { cause: e });
      case LZMA_MEM_ERROR:
      case LZMA_MEMLIMIT_ERROR:
        return formatError('LIMIT_MEMORY', layer, `the stream needs more than ${LZMA_MEMLIMIT >> 20} MiB of decoder memory`, undefined, undefined, { cause: e });
      case LZMA_OPTIONS_ERROR:
        return formatError('FILTER_UNSUPPORTED', layer, `unsupported compression options (${e.message})`, undefined, undefined, { cause: e });
      case LZMA_DATA_ERROR:
      case LZMA_FORMAT_ERROR:
      default:
        return formatError('FILTER_CORRUPT', layer, `compressed data is corrupt (${e.message}, ${after})`, undefined, undefined, { cause: e });
    }
  });
}
