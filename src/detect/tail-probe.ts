/**
 * Detection from the end of a file: a zip's End of Central Directory record sits in the last
 * 22 + 65,535 bytes. Used only when the head bid found nothing and the input is a plain file
 * (random access): self-extracting zips have a stub longer than the 1 KiB head in front of
 * their first local header (libarchive's test_read_format_zip_sfx).
 */

import type { RandomAccess } from '../io/random-access.js';

const EOCD = 0x06054b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/** True when the file ends with a consistent zip End of Central Directory record. */
export async function hasZipTail(ra: RandomAccess): Promise<boolean> {
  if (ra.size < EOCD_SIZE) return false;
  const len = Math.min(ra.size, EOCD_SIZE + MAX_COMMENT);
  const tail = await ra.read(ra.size - len, len);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (tail.readUInt32LE(i) !== EOCD) continue;
    // The comment must run exactly to the end of the file, and the directory must fit before it.
    const comment = tail.readUInt16LE(i + 20);
    if (i + EOCD_SIZE + comment !== tail.length) continue;
    const cdSize = tail.readUInt32LE(i + 12);
    const cdOffset = tail.readUInt32LE(i + 16);
    const at = ra.size - len + i;
    if (cdSize === 0xffffffff || cdOffset === 0xffffffff) return true; // zip64: the reader checks
    if (cdSize <= at) return true;
  }
  return false;
}
