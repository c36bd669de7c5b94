/**
 * Path helpers shared by the fixup engine and its rules. Paths are raw bytes (names may be
 * Latin-1 or EUC, never decoded); rules compare them with Buffers made from latin1 literals,
 * which is byte-exact (one char per byte).
 *
 * Hot path: `normalizePath` runs once per entry. An already-normal path (the usual case for tar
 * and cpio members) costs a few byte checks and two native indexOf calls, and is returned as the
 * same Buffer (no copy).
 */

const SLASH = 0x2f;
const DOT = 0x2e;

/** Latin1 Buffer from a literal (byte-exact for code points < 256). */
export function lit(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

/** The path of the zone root itself, as rules see and emit it. */
export const ROOT_PATH = lit('.');

export interface NormalizedPath {
  path: Buffer;
  /** A leading `/` was removed (DECISIONS §5: re-rooted inside the zone root and reported). */
  rerooted: boolean;
}

/**
 * True when `normalizePath` would return the name unchanged. An empty name counts as normal
 * (the sink refuses it). Hot path: one byte loop (cheaper than native searches for names of a
 * few dozen bytes).
 */
export function isNormal(p: Buffer): boolean {
  const n = p.length;
  if (n === 0) return true;
  if (p[0] === SLASH || p[n - 1] === SLASH) return false;
  if (n === 1) return true;
  // A component `.` or `` anywhere: `./x`, `x/./y`, `x//y`, `x/.`.
  let start = true; // at the start of a component
  for (let i = 0; i < n; i++) {
    const c = p[i]!;
    if (start) {
      if (c === SLASH) return false;
      if (c === DOT && (i + 1 === n || p[i + 1] === SLASH)) return false;
      start = false;
    } else if (c === SLASH) start = true;
  }
  return true;
}

/**
 * Normalizes a member name for the rules: drops leading `/` (reported as re-rooted), `.`
 * components (`./etc`, `etc/./x`), empty components (`a//b`) and a trailing `/`; keeps `..`
 * components as they are (the sink refuses them). Nothing left means the root: `.`.
 * Returns the same Buffer when nothing changes.
 */
export function normalizePath(p: Buffer): NormalizedPath {
  if (isNormal(p)) return { path: p, rerooted: false };
  const n = p.length;
  // Hot path: tar and cpio writers run from `cd / && find .` put `./` before every name; a view
  // past it is the normal name (no copy).
  let s = 0;
  while (s + 1 < n && p[s] === DOT && p[s + 1] === SLASH) s += 2;
  if (s > 0 && s < n && isNormal(p.subarray(s))) return { path: p.subarray(s), rerooted: false };
  const rerooted = p[0] === SLASH;
  const parts: Buffer[] = [];
  let i = 0;
  while (i <= n) {
    let j = p.indexOf(SLASH, i);
    if (j === -1) j = n;
    const len = j - i;
    if (!(len === 0 || (len === 1 && p[i] === DOT))) parts.push(p.subarray(i, j));
    i = j + 1;
  }
  if (parts.length === 0) return { path: n === 1 && p[0] === DOT ? p : ROOT_PATH, rerooted };
  const joined = Buffer.alloc(parts.reduce((s, b) => s + b.length, 0) + parts.length - 1);
  let o = 0;
  for (const [k, b] of parts.entries()) {
    if (k > 0) joined[o++] = SLASH;
    b.copy(joined, o);
    o += b.length;
  }
  return { path: joined.equals(p) ? p : joined, rerooted };
}

/** `p` is strictly below directory `dir` (`dir/...`). `dir` has no trailing slash. */
export function isUnder(p: Buffer, dir: Buffer): boolean {
  return p.length > dir.length && p[dir.length] === SLASH && dir.compare(p, 0, dir.length) === 0;
}

/** `p` is `dir` itself or below it. */
export function isAtOrUnder(p: Buffer, dir: Buffer): boolean {
  return p.length === dir.length ? p.equals(dir) : isUnder(p, dir);
}

/** `p` begins with the bytes of `prefix`. */
export function hasPrefix(p: Buffer, prefix: Buffer): boolean {
  return p.length >= prefix.length && prefix.compare(p, 0, prefix.length) === 0;
}

/** The latin1 string of a path: byte-exact, usable as a Map key. */
export function keyOf(p: Buffer): string {
  return p.toString('latin1');
}

/** Number of `/`-separated components. */
export function depthOf(p: Buffer): number {
  let d = 1;
  let i = p.indexOf(SLASH);
  while (i !== -1) {
    d++;
    i = p.indexOf(SLASH, i + 1);
  }
  return d;
}

/** The first component (the whole path when it has no `/`). */
export function topOf(p: Buffer): Buffer {
  const i = p.indexOf(SLASH);
  return i === -1 ? p : p.subarray(0, i);
}

/** The last component. */
export function baseOf(p: Buffer): Buffer {
  const i = p.lastIndexOf(SLASH);
  return i === -1 ? p : p.subarray(i + 1);
}

/** The parent path, or null for a single component. */
export function parentOf(p: Buffer): Buffer | null {
  const i = p.lastIndexOf(SLASH);
  return i === -1 ? null : p.subarray(0, i);
}

/** `p` is a direct child of `dir` (`dir/name`, no further `/`). */
export function isChildOf(p: Buffer, dir: Buffer): boolean {
  return isUnder(p, dir) && p.indexOf(SLASH, dir.length + 1) === -1;
}

/** True when the path has a `..` component (the sink refuses it; rules never emit one). */
export function hasDotDot(p: Buffer): boolean {
  const n = p.length;
  let i = 0;
  while (i <= n) {
    let j = p.indexOf(SLASH, i);
    if (j === -1) j = n;
    if (j - i === 2 && p[i] === DOT && p[i + 1] === DOT) return true;
    i = j + 1;
  }
  return false;
}
