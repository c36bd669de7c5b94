/**
 * The tar header block: layout, checksum, numeric fields and names (formats.md §4.1–4.3, §4.11).
 *
 * Everything here reads straight from the 512-byte view the ByteSource hands out, without
 * copying or allocating, except the functions that build an Entry's path or link target (which
 * must outlive the source chunk and so are copied once). No regular expressions: these run once
 * per header, and an OS image has ~100,000 of them (hot path).
 */

// ---------------------------------------------------------------------------------------------
// Layout of the 512-byte header block. Offsets and lengths in bytes.
//
//   field          offset  length  notes
export const NAME_OFF = 0; //         100  NUL-terminated unless exactly 100 bytes
export const NAME_LEN = 100;
export const MODE_OFF = 100; //        8  octal (v7 writers include the file-type bits)
export const MODE_LEN = 8;
export const UID_OFF = 108; //         8  octal or base-256
export const UID_LEN = 8;
export const GID_OFF = 116; //         8  octal or base-256
export const GID_LEN = 8;
export const SIZE_OFF = 124; //       12  octal or base-256
export const SIZE_LEN = 12;
export const MTIME_OFF = 136; //      12  octal or base-256 (may be negative)
export const MTIME_LEN = 12;
export const CHKSUM_OFF = 148; //      8  octal; counted as eight spaces when summing
export const CHKSUM_LEN = 8;
export const TYPEFLAG_OFF = 156; //    1
export const LINKNAME_OFF = 157; //  100
export const LINKNAME_LEN = 100;
export const MAGIC_OFF = 257; //       6  "ustar\0" (POSIX) / "ustar " (GNU) / absent (v7)
export const MAGIC_LEN = 6;
export const VERSION_OFF = 263; //     2  "00" (POSIX) / " \0" (GNU)
export const VERSION_LEN = 2;
export const UNAME_OFF = 265; //      32
export const UNAME_LEN = 32;
export const GNAME_OFF = 297; //      32
export const GNAME_LEN = 32;
export const DEVMAJOR_OFF = 329; //    8
export const DEVMAJOR_LEN = 8;
export const DEVMINOR_OFF = 337; //    8
export const DEVMINOR_LEN = 8;
export const PREFIX_OFF = 345; //    155  POSIX ustar only: path = prefix + "/" + name
export const PREFIX_LEN = 155;
export const STAR_PREFIX_LEN = 131; //    star "xstar": prefix is 131 bytes, then atime/ctime
export const STAR_XMAGIC_OFF = 508; // 4  star "xstar": "tar\0"
//
// GNU (magic "ustar  \0") reuses 345..499 instead of the prefix:
export const GNU_ATIME_OFF = 345; //  12
export const GNU_CTIME_OFF = 357; //  12
export const GNU_OFFSET_OFF = 369; // 12  multivolume offset
export const GNU_SPARSE_OFF = 386; // 96  four (offset[12], numbytes[12]) pairs, old sparse 'S'
export const GNU_SPARSE_COUNT = 4;
export const GNU_ISEXTENDED_OFF = 482; // 1  non-zero: a sparse extension block follows
export const GNU_REALSIZE_OFF = 483; //   12  real size of an old sparse file
export const GNU_REALSIZE_LEN = 12;
//
// GNU old-sparse extension block (follows an 'S' header while isextended is set):
export const GNU_EXT_SPARSE_COUNT = 21; //  21 pairs at offset 0
export const GNU_EXT_ISEXTENDED_OFF = 504;
export const GNU_SPARSE_ENTRY_LEN = 24; //  offset[12] + numbytes[12]
export const GNU_SPARSE_NUM_LEN = 12;
// ---------------------------------------------------------------------------------------------

export const BLOCK_SIZE = 512;

/** Bytes of padding after `size` body bytes (bodies are padded to the 512-byte block). */
export function paddingOf(size: number): number {
  const r = size % BLOCK_SIZE;
  return r === 0 ? 0 : BLOCK_SIZE - r;
}

/**
 * Header magic classes (what offset 257 says): V7 = no recognised magic (v7, pre-POSIX Solaris
 * or BSD tar); Ustar = POSIX "ustar\0" (version "00", or whatever else some writers put there);
 * Gnu = GNU / old GNU "ustar  \0".
 */
export const Magic = { V7: 0, Ustar: 1, Gnu: 2 } as const;
export type Magic = (typeof Magic)[keyof typeof Magic];

/** Reads the magic at 257..264. */
export function magicOf(h: Uint8Array): Magic {
  if (
    h[MAGIC_OFF] !== 0x75 || // u
    h[MAGIC_OFF + 1] !== 0x73 || // s
    h[MAGIC_OFF + 2] !== 0x74 || // t
    h[MAGIC_OFF + 3] !== 0x61 || // a
    h[MAGIC_OFF + 4] !== 0x72 // r
  ) {
    return Magic.V7;
  }
  const m5 = h[MAGIC_OFF + 5];
  if (m5 === 0) return Magic.Ustar;
  if (m5 === 0x20 && h[VERSION_OFF] === 0x20 && h[VERSION_OFF + 1] === 0) return Magic.Gnu;
  return Magic.V7;
}

/** True when the version field is exactly "00" (strict POSIX ustar). */
export function hasPosixVersion(h: Uint8Array): boolean {
  return h[VERSION_OFF] === 0x30 && h[VERSION_OFF + 1] === 0x30;
}

/**
 * Result of checking a header block's checksum: Zero = every byte is zero (an end-of-archive
 * block, not a header); Unsigned = matches the POSIX unsigned byte sum; Signed = matches the
 * signed-char sum (old Sun, BSD and HP tars); Bad = neither matches, or the stored value is
 * unreadable.
 */
export const Checksum = { Zero: 0, Unsigned: 1, Signed: 2, Bad: 3 } as const;
export type Checksum = (typeof Checksum)[keyof typeof Checksum];

/**
 * Verifies the header checksum (formats.md §4.2): the sum of all 512 bytes with the checksum
 * field counted as spaces, accepting the unsigned or the signed-char sum. Hot path: the
 * unsigned sum is a 4-way unrolled loop; the signed sum is computed only on a mismatch.
 */
export function verifyChecksum(h: Uint8Array): Checksum {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < BLOCK_SIZE; i += 4) {
    s0 += h[i]!;
    s1 += h[i + 1]!;
    s2 += h[i + 2]!;
    s3 += h[i + 3]!;
  }
  let sum = s0 + s1 + s2 + s3;
  if (sum === 0) return Checksum.Zero;
  for (let i = CHKSUM_OFF; i < CHKSUM_OFF + CHKSUM_LEN; i++) sum -= h[i]!;
  sum += 8 * 0x20;
  const stored = storedChecksum(h);
  if (stored === sum) return Checksum.Unsigned;
  // Signed sum: every byte >= 0x80 outside the checksum field counts 256 less.
  let high = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    if (i === CHKSUM_OFF) i += CHKSUM_LEN;
    high += h[i]! >>> 7;
  }
  if (stored === sum - 256 * high) return Checksum.Signed;
  return Checksum.Bad;
}

/** The stored checksum: octal, optional leading spaces, ended by NUL or space. -1 if unreadable. */
function storedChecksum(h: Uint8Array): number {
  let i = CHKSUM_OFF;
  const end = CHKSUM_OFF + CHKSUM_LEN;
  while (i < end && h[i] === 0x20) i++;
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = h[i]!;
    if (c < 0x30 || c > 0x37) break;
    v = v * 8 + (c - 0x30);
    digits++;
  }
  if (digits === 0) return -1;
  if (i < end && h[i] !== 0 && h[i] !== 0x20) return -1;
  return v;
}

/** True when all `len` bytes at `off` are zero. */
export function isZero(h: Uint8Array, off: number, len: number): boolean {
  for (let i = off; i < off + len; i++) if (h[i] !== 0) return false;
  return true;
}

/** Numeric-field parse failure: not a number (garbage). */
export const NUM_INVALID = Number.NaN;
/** Numeric-field parse failure: the value does not fit in 2^53 (returned with its sign). */
export const NUM_TOO_BIG = Number.POSITIVE_INFINITY;

/**
 * Parses a numeric header field (formats.md §4.1): octal with optional leading spaces (or an
 * empty / all-space / all-NUL field, which is 0), terminated by NUL or space or the end of the
 * field; or GNU/star base-256 when the first byte has bit 7 set (0x80 positive, 0xFF negative,
 * two's complement big-endian).
 *
 * `strict`: a character other than an octal digit, NUL or space where the digits are returns
 * NaN. Not strict: parsing stops at the first such character (libarchive's leniency, used for
 * mode/uid/gid/mtime/devices, where a wrong value does not desynchronise the stream).
 * Values beyond ±(2^53 − 1) return ±Infinity. Hot path: no allocation.
 */
export function parseNumeric(h: Uint8Array, off: number, len: number, strict: boolean): number {
  const first = h[off]!;
  if (first & 0x80) return parseBase256(h, off, len);
  const end = off + len;
  let i = off;
  while (i < end && h[i] === 0x20) i++;
  let v = 0;
  for (; i < end; i++) {
    const c = h[i]!;
    if (c < 0x30 || c > 0x37) {
      if (c === 0 || c === 0x20 || !strict) return v;
      return NUM_INVALID;
    }
    v = v * 8 + (c - 0x30);
  }
  return v > Number.MAX_SAFE_INTEGER ? NUM_TOO_BIG : v;
}

function parseBase256(h: Uint8Array, off: number, len: number): number {
  const first = h[off]!;
  const end = off + len;
  if (first & 0x40) {
    // Negative: value = -(~bits + 1) over the sign-extended field.
    let m = ~first & 0x3f;
    for (let i = off + 1; i < end; i++) {
      m = m * 256 + (~h[i]! & 0xff);
      if (m >= Number.MAX_SAFE_INTEGER) return -NUM_TOO_BIG;
    }
    return -(m + 1);
  }
  let v = first & 0x3f;
  for (let i = off + 1; i < end; i++) {
    v = v * 256 + h[i]!;
    if (v > Number.MAX_SAFE_INTEGER) return NUM_TOO_BIG;
  }
  return v;
}

/**
 * True when the field is a well-formed octal number (digits with optional leading spaces, then
 * NUL/space padding only) or base-256. Used by `bid` to judge a magic-less (v7) header.
 */
export function isPlausibleNumeric(h: Uint8Array, off: number, len: number): boolean {
  if (h[off]! & 0x80) return h[off] === 0x80 || h[off] === 0xff;
  const end = off + len;
  let i = off;
  while (i < end && h[i] === 0x20) i++;
  while (i < end && h[i]! >= 0x30 && h[i]! <= 0x37) i++;
  while (i < end && (h[i] === 0 || h[i] === 0x20)) i++;
  return i === end;
}

/** Length of a NUL-terminated field (the whole field when it has no NUL). */
export function fieldLength(h: Uint8Array, off: number, len: number): number {
  for (let i = 0; i < len; i++) if (h[off + i] === 0) return i;
  return len;
}

/** Copies a NUL-terminated field into its own buffer (one small pooled allocation). */
export function copyField(h: Buffer, off: number, len: number): Buffer {
  const n = fieldLength(h, off, len);
  const out = Buffer.allocUnsafe(n);
  h.copy(out, 0, off, off + n);
  return out;
}

/**
 * The entry path stored in the header itself: ustar `prefix + "/" + name` when the POSIX prefix
 * is used, else just the name (GNU and v7 headers have no prefix). Copied, never a view: the
 * Entry outlives the source chunk, and a view would pin the whole chunk in memory.
 */
export function headerPath(h: Buffer, magic: Magic): Buffer {
  const nameLen = fieldLength(h, NAME_OFF, NAME_LEN);
  let prefixLen = 0;
  if (magic === Magic.Ustar && h[PREFIX_OFF] !== 0) {
    // star's xstar layout keeps atime/ctime after a 131-byte prefix (xmagic "tar\0" at 508).
    const isXstar =
      h[STAR_XMAGIC_OFF] === 0x74 &&
      h[STAR_XMAGIC_OFF + 1] === 0x61 &&
      h[STAR_XMAGIC_OFF + 2] === 0x72 &&
      h[STAR_XMAGIC_OFF + 3] === 0;
    prefixLen = fieldLength(h, PREFIX_OFF, isXstar ? STAR_PREFIX_LEN : PREFIX_LEN);
  }
  if (prefixLen === 0) {
    const out = Buffer.allocUnsafe(nameLen);
    h.copy(out, 0, NAME_OFF, NAME_OFF + nameLen);
    return out;
  }
  const out = Buffer.allocUnsafe(prefixLen + 1 + nameLen);
  h.copy(out, 0, PREFIX_OFF, PREFIX_OFF + prefixLen);
  out[prefixLen] = 0x2f; // '/'
  h.copy(out, prefixLen + 1, NAME_OFF, NAME_OFF + nameLen);
  return out;
}

/**
 * Decodes the owner-name fields with a one-slot cache per field: an OS image names the same
 * few owners 100,000 times, so reusing the previous string avoids a string per entry.
 * Decoded as Latin-1 so that the bytes can always be recovered (`Buffer.from(s, 'latin1')`).
 */
export class NameFieldCache {
  readonly #bytes = Buffer.alloc(64);
  #len = -1;
  #str = '';

  get(h: Buffer, off: number, len: number): string {
    const n = fieldLength(h, off, len);
    if (n === this.#len) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (this.#bytes[i] !== h[off + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#str;
    }
    h.copy(this.#bytes, 0, off, off + n);
    this.#len = n;
    this.#str = h.toString('latin1', off, off + n);
    return this.#str;
  }
}

/** A printable rendering of a typeflag byte for messages (`'Q'`, or `0x8f`). */
export function typeflagName(c: number): string {
  return c >= 0x21 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, '0')}`;
}
