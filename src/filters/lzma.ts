/**
 * lzma-alone (.lzma, .tlz): no magic, so the bid is a heuristic kept below every real magic
 * (formats.md §2.5). Header: properties byte (lc + lp*9 + pb*45 < 225), u32 LE dictionary size,
 * u64 LE uncompressed size (all ones = unknown, then an end marker follows). We accept the
 * dictionary sizes libarchive accepts (a power of two 4 KiB..128 MiB, or whole MiB 3..63 MiB
 * as LZMA SDK -d writes) and require the first range-coder byte to be 0, which every LZMA1
 * encoder emits. Covers the three header shapes in the corpus (0x5D/8 MiB/unknown size,
 * 0x5E, LZMA SDK 4 KiB with a known size).
 *
 * Decoded by `xz --format=lzma -dc --single-stream` in a child process when xz is on PATH
 * (what follows the end marker or the declared size is ignored, as in process), else by
 * liblzma's alone decoder in process (lzma-native).
 */

import { decodeWithExternal } from './external-decoder.js';
import type { Filter } from './filter.js';
import { decodeWithLiblzma } from './lzma-native.js';
import { LZMA_PROGRAM } from './xz-cli.js';

function bid(head: Buffer): number {
  if (head.length < 14) return 0;
  const props = head[0]!;
  if (props >= 225) return 0;
  const dict = head.readUInt32LE(1);
  const pow2 = (dict & (dict - 1)) === 0 && dict >= 4096 && dict <= 128 * 1024 * 1024;
  const wholeMiB = dict % (1024 * 1024) === 0 && dict >= 3 * 1024 * 1024 && dict <= 63 * 1024 * 1024;
  if (!pow2 && !wholeMiB) return 0;
  const lo = head.readUInt32LE(5);
  const hi = head.readUInt32LE(9);
  const unknownSize = lo === 0xffffffff && hi === 0xffffffff;
  // A known size must be plausible (< 256 TiB).
  if (!unknownSize && hi >= 0x10000) return 0;
  if (head[13] !== 0) return 0;
  return 16;
}

export const lzmaFilter: Filter = {
  name: 'lzma',
  bid,
  open: (input, ctx) => decodeWithExternal(LZMA_PROGRAM, input, ctx, { inProcess: (i) => decodeWithLiblzma('lzma', 'aloneDecoder', i, ctx) }),
};
