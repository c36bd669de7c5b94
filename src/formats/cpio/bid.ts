/**
 * cpio detection bid (formats.md §1): pure, over the peeked head of the stream.
 *
 * ASCII variants: the 6-byte magic (48 bits) plus one bit per header byte verified to be a digit
 * of the right radix (or an afio marker), as far as the head reaches; any other byte in a
 * numeric field means "not cpio". Old binary: the 16-bit magic is also the start of many binary
 * files, so it needs a sane name size and the NUL that ends the name (when the head holds it),
 * and bids a moderate 32.
 */

import type { FormatBid } from '../format.js';
import { AFIO, BIN, NEWC, ODC, countDigits, variantOfMagic, type FieldSpec } from './header.js';

/** Largest name an old binary header plausibly carries (Solaris: 256; GNU cpio: PATH_MAX). */
const BIN_MAX_NAMESIZE = 4096;

type Run = readonly [FieldSpec, 8 | 16];

const ODC_RUNS: readonly Run[] = [[{ offset: 6, length: ODC.size - 6 }, 8]];
const NEWC_RUNS: readonly Run[] = [[{ offset: 6, length: NEWC.size - 6 }, 16]];
const AFIO_RUNS: readonly Run[] = [
  [{ offset: AFIO.dev.offset, length: AFIO.inoMark.offset - AFIO.dev.offset }, 16],
  [AFIO.mode, 8],
  [{ offset: AFIO.uid.offset, length: AFIO.mtimeMark.offset - AFIO.uid.offset }, 16],
  [{ offset: AFIO.namesize.offset, length: AFIO.xsizeMark.offset - AFIO.namesize.offset }, 16],
  [AFIO.filesize, 16],
];
const AFIO_MARKS: readonly (readonly [number, number])[] = [
  [AFIO.inoMark.offset, 0x6d], // m
  [AFIO.mtimeMark.offset, 0x6e], // n
  [AFIO.xsizeMark.offset, 0x73], // s
  [AFIO.filesizeMark.offset, 0x3a], // :
];

export function bidCpio(head: Buffer): FormatBid | null {
  const variant = variantOfMagic(head);
  if (variant === null) return null;

  if (variant === 'bin-le' || variant === 'bin-be') {
    if (head.length < BIN.size) return null;
    const o = BIN.namesize.offset;
    const namesize = variant === 'bin-le' ? head[o]! | (head[o + 1]! << 8) : (head[o]! << 8) | head[o + 1]!;
    if (namesize < 1 || namesize > BIN_MAX_NAMESIZE) return null;
    const nul = BIN.size + namesize - 1;
    if (nul < head.length && head[nul] !== 0) return null;
    return { bits: 32, variant };
  }

  const runs = variant === 'odc' ? ODC_RUNS : variant === 'afio' ? AFIO_RUNS : NEWC_RUNS;
  let bits = 48;
  for (const [f, radix] of runs) {
    const n = countDigits(head, f.offset, f.length, radix);
    if (n < 0) return null;
    bits += n;
  }
  if (variant === 'afio') {
    for (const [at, ch] of AFIO_MARKS) {
      if (at >= head.length) break;
      if (head[at] !== ch) return null;
      bits++;
    }
  }
  return { bits, variant };
}
