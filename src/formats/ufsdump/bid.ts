/**
 * ufsdump / dump detection bid (formats.md §1, §7.3, §7.6): pure, over the peeked head.
 *
 * The first unit of a dump is its volume header: magic at offset 24 in either byte order, the
 * 84446 checksum over its 256 words, c_type TS_TAPE. All three verified bid 72 (32 magic bits,
 * 32 checksum bits, 8 for the type). The checksum is what tells a dump from a GNU `.mo` file or
 * any other binary with those four bytes at 24. Where the head is shorter than the header (a
 * truncated stream) or the header is not 1024 bytes (MTB_MAGIC) or uses the old layout
 * (OFS_MAGIC), only magic and type can be checked: 40.
 *
 * Variants: `<dialect>-<order>` with dialect `solaris` (Solaris ufsdump: icommon inode, old
 * directory entries) or `linux` (Linux dump and other 4.4BSD-format NFS_MAGIC dumps), guessed
 * here from offset 896 (Linux fills c_ntrec, 4.4BSD/FreeBSD a 64-bit date; Solaris leaves 0)
 * and confirmed by the reader from the first directory entry. `solaris-mtb-<order>` for
 * MTB_MAGIC; `ufs2-<order>` (FreeBSD UFS2) and `old-<order>` (OFS_MAGIC) are recognised so that
 * the reader can refuse them by name.
 */

import type { FormatBid } from '../format.js';
import {
  DR_COMPRESSED,
  MTB_MAGIC,
  NFS_MAGIC,
  OFS_MAGIC,
  SPCL,
  TS_TAPE,
  UFS2_MAGIC,
  checksumOk,
  i32,
  magicOrder,
} from './header.js';

export function bidUfsdump(head: Buffer): FormatBid | null {
  const m = magicOrder(head);
  if (m === null) return null;
  const le = m.order === 'le';
  if (i32(head, SPCL.type, le) !== TS_TAPE) return null;
  const full = head.length >= SPCL.size && (m.magic === NFS_MAGIC || m.magic === UFS2_MAGIC);
  if (full && !checksumOk(head, SPCL.size, le)) return null;
  const bits = full ? 72 : 40;
  if (m.magic === UFS2_MAGIC) return { bits, variant: `ufs2-${m.order}` };
  if (m.magic === OFS_MAGIC) return { bits, variant: `old-${m.order}` };
  if (m.magic === MTB_MAGIC) return { bits, variant: `solaris-mtb-${m.order}` };
  return { bits, variant: `${guessDialect(head, le)}-${m.order}` };
}

/** Dialect from the first header alone (formats.md §7.6 (a)): the reader confirms it later. */
export function guessDialect(head: Uint8Array, le: boolean): 'solaris' | 'linux' {
  if (head.length < SPCL.size) return 'solaris';
  if (i32(head, SPCL.tpbsizeOrNtrec, le) !== 0) return 'linux';
  if ((i32(head, SPCL.flags, le) & DR_COMPRESSED) !== 0) return 'linux';
  return 'solaris';
}
