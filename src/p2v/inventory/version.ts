/**
 * Version comparison of update on attach (reference §4.3; sw_support's pkg_vers_cmp / fld_cmp),
 * reproduced exactly, quirks included, plus the two patch-revision comparisons it uses.
 *
 * All strings here are "byte strings": one UTF-16 code unit per byte (Buffer `latin1`), so
 * JavaScript's `<` on them is C's strcmp on unsigned bytes.
 *
 * Field algorithm (`compareFields`): both strings are cut at their first `.`; if both fields are
 * all digits (the empty field counts, as 0) and fit a 32-bit `long` (sw_support is a 32-bit
 * program; larger numbers make strtol fail), they compare as integers; otherwise the result is
 * the strcmp of THOSE TWO FIELDS ONLY and the rest of both strings is ignored (`a.1` equals
 * `a.2`). When the fields are equal, the string that still has fields left is greater
 * (`1.2` < `1.2.1`, and `1.` > `1`: a trailing `.` leaves an empty, non-missing field).
 *
 * Properties: every comparison here is antisymmetric in sign (cmp(a,b) = -cmp(b,a)) and
 * reflexive, and version equality is an equivalence; but the ORDER IS NOT TRANSITIVE when
 * numeric and non-numeric fields meet: `2` < `10` (numbers), `10` < `1a` (strcmp), `1a` < `2`
 * (strcmp). The original has the same cycle; nothing here sorts by it.
 */

/** Largest value sw_support's fld2num accepts (strtol into a 32-bit long). */
const LONG_MAX_32 = 2147483647;
/** ULONG_MAX of the 32-bit strtoul used for patch numbers and revisions. */
const ULONG_MAX_32 = 0xffffffff;

/** strcmp on byte strings, as -1, 0 or 1. */
export function byteCompare(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** fld2num: the field's value when it is all digits (empty → 0) and ≤ LONG_MAX; else -1. */
function fieldNumber(field: string): number {
  let value = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    value = value * 10 + (c - 0x30);
    if (value > LONG_MAX_32) return -1;
  }
  return value;
}

/**
 * fld_cmp: compares two `.`-separated field lists (a primary version, or the part of a
 * revision after `REV=`). Returns -1, 0 or 1.
 */
export function compareFields(v1: string, v2: string): -1 | 0 | 1 {
  let a = v1;
  let b = v2;
  for (;;) {
    const da = a.indexOf('.');
    const db = b.indexOf('.');
    const fa = da < 0 ? a : a.slice(0, da);
    const fb = db < 0 ? b : b.slice(0, db);
    const na = fieldNumber(fa);
    const nb = fieldNumber(fb);
    if (na < 0 || nb < 0) return byteCompare(fa, fb);
    if (na !== nb) return na > nb ? 1 : -1;
    if (da < 0 && db < 0) return 0;
    if (da < 0) return -1;
    if (db < 0) return 1;
    a = a.slice(da + 1);
    b = b.slice(db + 1);
  }
}

/**
 * pkg_vers_cmp: compares two package VERSION values such as `11.10.0,REV=2005.01.21.15.53`.
 * Returns -1 when `a` is older, 0 when equal, 1 when `a` is newer.
 *
 * Each is split at its first `,`; the primaries compare with `compareFields`. When they are
 * equal: no revision on either → equal; only one has a revision → that one is greater; if
 * either revision does not start with `REV=`, the whole revision strings compare with strcmp;
 * otherwise the parts after `REV=` compare with `compareFields`.
 */
export function compareVersions(a: string, b: string): -1 | 0 | 1 {
  const ca = a.indexOf(',');
  const cb = b.indexOf(',');
  const primary = compareFields(ca < 0 ? a : a.slice(0, ca), cb < 0 ? b : b.slice(0, cb));
  if (primary !== 0) return primary;
  if (ca < 0 && cb < 0) return 0;
  if (ca < 0) return -1;
  if (cb < 0) return 1;
  const ra = a.slice(ca + 1);
  const rb = b.slice(cb + 1);
  if (!ra.startsWith('REV=') || !rb.startsWith('REV=')) return byteCompare(ra, rb);
  return compareFields(ra.slice(4), rb.slice(4));
}

/**
 * The revision comparison of the downgrade rules (sw_up_to_date): plain strcmp, on the
 * assumption that revisions are zero-padded to the same length (`01` < `10`; but `9` > `10`).
 */
export function comparePatchRevisions(a: string, b: string): -1 | 0 | 1 {
  return byteCompare(a, b);
}

const isCSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * 32-bit strtoul(s, NULL, 10): leading white space, an optional sign, then digits; no digits →
 * 0; overflow → ULONG_MAX; a `-` negates modulo 2^32. The inventory uses it (as the original
 * did) to key patches by number and to pick the highest revision of a patch, so `0123456` and
 * `123456` are the same patch and revision `1` equals `01`.
 */
export function strtoul32(s: string): number {
  let i = 0;
  while (i < s.length && isCSpace(s.charCodeAt(i))) i++;
  let negative = false;
  if (s[i] === '+' || s[i] === '-') {
    negative = s[i] === '-';
    i++;
  }
  let value = 0;
  let digits = 0;
  let overflow = false;
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    digits++;
    if (!overflow) {
      value = value * 10 + (c - 0x30);
      if (value > ULONG_MAX_32) overflow = true;
    }
  }
  if (digits === 0) return 0;
  if (overflow) return ULONG_MAX_32;
  return negative && value !== 0 ? 0x100000000 - value : value;
}

/** The key under which the inventory files a patch number (strtoul, see above). */
export const patchNumberKey = strtoul32;

/** The numeric value used to keep the highest revision of a patch (strtoul, see above). */
export const patchRevisionValue = strtoul32;
