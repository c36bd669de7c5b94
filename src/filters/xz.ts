/** xz (.xz): multi-stream with stream padding, every check type; decoded by liblzma. */

import zlib from 'node:zlib';
import type { Filter } from './filter.js';
import { decodeWithLiblzma } from './lzma-native.js';

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
  open: (input, ctx) => decodeWithLiblzma('xz', 'streamDecoder', input, ctx),
};
