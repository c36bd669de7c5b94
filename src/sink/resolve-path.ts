/**
 * The one resolver of the sink: turns an entry path (raw bytes, as the archive stores it) into
 * the normalized relative path that is used both for every check (the path table) and for every
 * syscall (joined to the destination). node-tar's CVE-2021-32803/37701/37712 and
 * CVE-2026-24842 came from checking one spelling and writing another; here there is only one.
 *
 * Rules (DECISIONS §5, dependencies-research §6–7):
 *   - a NUL byte anywhere                      → refused (PATH_INVALID)
 *   - an empty name                            → refused (PATH_INVALID)
 *   - leading `/` (any number)                 → stripped, `rerooted` (counted and reported)
 *   - empty components (`//`) and `.`          → dropped (`./a`, `a/./b`, `a//b`, `a/` → `a`, `a/b`)
 *   - any `..` component                       → refused (PATH_INVALID), wherever it is
 *   - a component longer than NAME_MAX (255)   → refused (PATH_INVALID)
 *   - more than `maxDepth` components          → refused (LIMIT_DEPTH; CVE-2024-28863)
 *   - longer than `maxBytes` once normalized   → refused (PATH_INVALID; the caller sets it so
 *                                                that dest + `/` + path fits PATH_MAX)
 *   - nothing left (`.`, `./`, `/`, `//.`)     → the root itself (`rel` empty, depth 0)
 *
 * Backslashes, drive letters (`C:`), NFC/NFD spellings and case are plain bytes on the Unix file
 * systems this writes to: `..\x` is one component named `..\x`. They are written byte-exact.
 *
 * Hot path: one native indexOf for NUL and one conversion to a latin1 string, then string
 * indexOf over the slashes; no copy when the path is normal apart from a leading `./` or `/`
 * and a trailing `/` (the usual case for tar and cpio members).
 */

export const NAME_MAX = 255;

export interface ResolveLimits {
  /** Most components a path may have (default 1024, node-tar's). */
  maxDepth: number;
  /** Most bytes the normalized relative path may have. */
  maxBytes: number;
}

export interface ResolvedPath {
  ok: true;
  /** Normalized relative path, no leading or trailing `/`; empty for the root. */
  rel: Buffer;
  /** Table key: `rel` as latin1 (one char per byte, so distinct byte strings stay distinct). */
  key: string;
  /** Number of components (0 for the root). */
  depth: number;
  /** A leading `/` was stripped. */
  rerooted: boolean;
}

export interface RefusedPath {
  ok: false;
  code: 'PATH_INVALID' | 'LIMIT_DEPTH';
  reason: string;
}

export type Resolution = ResolvedPath | RefusedPath;

const SLASH = 0x2f;
const DOT = 0x2e;

function refuse(code: RefusedPath['code'], reason: string): RefusedPath {
  return { ok: false, code, reason };
}

export function resolvePath(raw: Buffer, limits: ResolveLimits): Resolution {
  const n = raw.length;
  if (n === 0) return refuse('PATH_INVALID', 'empty name');
  if (raw.indexOf(0) !== -1) return refuse('PATH_INVALID', 'name contains a NUL byte');
  // One native call; the rest is string work, whose offsets are byte offsets (latin1: one
  // char per byte). The table key is a slice of this string.
  const s = raw.toString('latin1');
  const rerooted = s.charCodeAt(0) === SLASH;
  let depth = 0;
  let first = 0; // start of the first kept component
  let end = 0; // end of the last kept component
  let gaps = false; // a dropped component (`//`, `/./`) between two kept ones
  let i = 0;
  while (i <= n) {
    let j = s.indexOf('/', i);
    if (j === -1) j = n;
    const len = j - i;
    if (len === 0 || (len === 1 && s.charCodeAt(i) === DOT)) {
      // `//`, a leading or trailing `/`, or `.`: dropped
    } else if (len === 2 && s.charCodeAt(i) === DOT && s.charCodeAt(i + 1) === DOT) {
      return refuse('PATH_INVALID', "name contains a '..' component");
    } else {
      if (len > NAME_MAX) return refuse('PATH_INVALID', `a name component is longer than ${NAME_MAX} bytes`);
      if (depth >= limits.maxDepth) return refuse('LIMIT_DEPTH', `more than ${limits.maxDepth} path components`);
      if (depth === 0) first = i;
      else if (i !== end + 1) gaps = true;
      end = j;
      depth++;
    }
    i = j + 1;
  }
  let rel: Buffer;
  let key: string;
  if (depth === 0) {
    rel = EMPTY;
    key = '';
  } else if (!gaps) {
    // The usual case (`./usr/bin/ls`, `usr/bin/`): one view, no copy; the name itself when clean.
    rel = first === 0 && end === n ? raw : raw.subarray(first, end);
    key = first === 0 && end === n ? s : s.slice(first, end);
  } else {
    key = s
      .slice(first, end)
      .split('/')
      .filter((c) => c.length > 0 && c !== '.')
      .join('/');
    rel = Buffer.from(key, 'latin1');
  }
  if (rel.length > limits.maxBytes) {
    return refuse('PATH_INVALID', `name longer than ${limits.maxBytes} bytes (PATH_MAX once joined to the destination)`);
  }
  return { ok: true, rel, key, depth, rerooted };
}

const EMPTY = Buffer.alloc(0);
