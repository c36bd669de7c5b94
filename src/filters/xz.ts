/**
 * xz (.xz): multi-stream with stream padding, every check type. Decoded by `xz -dc` in a child
 * process when it is on PATH (fed whole streams by xz-cli.ts, so trailing data is judged as in
 * process), else by liblzma in process (lzma-native).
 */

import zlib from 'node:zlib';
import { decodeWithExternal } from './external-decoder.js';
import type { Filter } from './filter.js';
import { decodeWithLiblzma } from './lzma-native.js';
import { wholeXzStreams, XZ_PROGRAM } from './xz-cli.js';

const MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Stream header: magic(6) flags(2) CRC32-of-flags(4). */
function bid(head: Buffer): number {
  if (head.length < 6 || !head.subarray(0, 6).equals(MAGIC)) return 0;
  if (head.length < 12) return 48;
  const flags = head.subarray(6, 8);
  if (flags[0] !== 0 || (flags[1]! & 0xf0) !== 0) return 0;
  if (zlib.crc32(flags) >>> 0 !== head.readUInt32LE(8)) return 0;
  return 48 + 16 + 32;
}

export const xzFilter: Filter = {
  name: 'xz',
  bid,
  open: (input, ctx) =>
    decodeWithExternal(XZ_PROGRAM, input, ctx, {
      inProcess: (i) => decodeWithLiblzma('xz', 'streamDecoder', i, ctx),
      feed: wholeXzStreams,
    }),
};
