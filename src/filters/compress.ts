/**
 * Unix compress (.Z) filter: LZW (formats.md §2.1), decoded by our own streaming LzwDecoder
 * (no maintained npm package exists; dependencies-research.md §4.2).
 *
 * The input chunks go straight into the decoder (zero copy); output comes in chunks of up to
 * 64 KiB, produced only as fast as the consumer pulls them. The stream ends at EOF of the input:
 * .Z has no end marker, length or checksum, so truncation is detected only when the stream
 * stops inside the header or inside a code (see lzw-decoder.ts for the exact rule).
 */

import { ZoneP2vError } from '../errors.js';
import type { ChunkIterable } from '../io/byte-source.js';
import type { Filter, FilterContext } from './filter.js';
import {
  LZW_FLAG_MAXBITS,
  LZW_FLAG_RESERVED,
  LZW_HEADER,
  LZW_MAGIC0,
  LZW_MAGIC1,
  LZW_MAX_BITS,
  LZW_MIN_BITS,
  LzwDecoder,
} from './lzw-decoder.js';

const LAYER = 'compress';

/**
 * `1F 9D` (16 bits), reserved flag bits 5-6 clear (2) and maxbits in 9..16 (about 1): 19.
 * A 2-byte head that is just the magic bids 16, so that a truncated file still reaches
 * `open` and is reported as a truncated compress stream rather than as unknown data.
 */
function bid(head: Buffer): number {
  if (head.length < 2 || head[LZW_HEADER.MAGIC0] !== LZW_MAGIC0 || head[LZW_HEADER.MAGIC1] !== LZW_MAGIC1) return 0;
  if (head.length < LZW_HEADER.SIZE) return 16;
  const flags = head[LZW_HEADER.FLAGS]!;
  if (flags & LZW_FLAG_RESERVED) return 0;
  const maxBits = flags & LZW_FLAG_MAXBITS;
  if (maxBits < LZW_MIN_BITS || maxBits > LZW_MAX_BITS) return 0;
  return 19;
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new ZoneP2vError('ABORTED', `${LAYER}: aborted`, { layer: LAYER, cause: signal.reason });
  }
}

async function* decode(input: ChunkIterable, ctx: FilterContext): AsyncGenerator<Buffer> {
  const decoder = new LzwDecoder({ layer: LAYER });
  for await (const chunk of input) {
    throwIfAborted(ctx.signal);
    for (const out of decoder.push(chunk)) {
      yield out;
      throwIfAborted(ctx.signal);
    }
  }
  const last = decoder.finish();
  if (last) yield last;
}

export const compressFilter: Filter = {
  name: 'compress',
  bid,
  open: (input, ctx) => decode(input, ctx),
};
