/**
 * Streams we recognise only to refuse them with a clear message instead of "unrecognised":
 * ZFS send streams (the Solaris installer accepts them; a native zone install cannot use one)
 * and pack(1) `.z` files (formats.md §1).
 */

import { formatError, type ZoneP2vError } from '../errors.js';

const ZFS_MAGIC_LE = Buffer.from([0xac, 0xcb, 0xba, 0xf5, 0x02, 0x00, 0x00, 0x00]);
const ZFS_MAGIC_BE = Buffer.from([0x00, 0x00, 0x00, 0x02, 0xf5, 0xba, 0xcb, 0xac]);

/** Returns the refusal for `head`, or null when it is none of these. */
export function refusalFor(head: Buffer): ZoneP2vError | null {
  if (head.length >= 16) {
    const magic = head.subarray(8, 16);
    // DRR_BEGIN record: drr_type 0 at offset 0, then the magic at 8 in the writer's byte order.
    if ((magic.equals(ZFS_MAGIC_LE) || magic.equals(ZFS_MAGIC_BE)) && head.readUInt32LE(0) === 0) {
      return formatError('DETECT_UNSUPPORTED', 'detect', 'this is a ZFS send stream, not a file archive', 0, 'a native zone is installed from a flar, cpio, pax/tar, ufsdump or zip image');
    }
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x1e) {
    return formatError('DETECT_UNSUPPORTED', 'detect', 'this is pack(1) output (.z), which is not supported', 0, 'unpack it with unpack(1) or pcat(1) first');
  }
  return null;
}
