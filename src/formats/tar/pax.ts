/**
 * pax extended header records (formats.md §4.4, §4.5; POSIX.1-2001 pax "Extended header").
 *
 * A pax body is a sequence of records `"<len> <keyword>=<value>\n"`, `<len>` being the decimal
 * length of the whole record. Values are kept as raw bytes: GNU tar writes non-UTF-8 `path=`
 * bytes without `hdrcharset`, bsdtar marks them `hdrcharset=BINARY`, and both must come out
 * byte-exact (formats.md §4.4, §8).
 *
 * State: `PaxGlobals` holds what `g` headers declared (persisting until the end of the archive,
 * an empty value deleting a keyword); the reader keeps the records of the last `x`/`X` header
 * until the entry they describe. `collectPaxFields` folds globals then locals (locals win) into
 * the handful of keywords the reader applies.
 */

import { formatError } from '../../errors.js';

export interface PaxRecord {
  key: string;
  /** Raw value bytes (a view into the private copy of the header body). */
  value: Buffer;
}

export interface PaxParseResult {
  records: PaxRecord[];
  /** Offset inside the body of the first malformed record, or -1 when all were well formed. */
  malformedAt: number;
}

const NL = 0x0a;
const SP = 0x20;
const EQ = 0x3d;

/** Where the record scanned last lies in the body (a scratch object, reused). */
interface RecordSpan {
  keyStart: number;
  keyEnd: number;
  end: number;
}

/**
 * Scans the record at `i`: true with `span` filled when it is well formed; false when it is
 * malformed (bad length, running past the body, missing `=` or trailing newline).
 */
function scanRecord(body: Buffer, i: number, span: RecordSpan): boolean {
  const n = body.length;
  let len = 0;
  let j = i;
  while (j < n) {
    const c = body[j]!;
    if (c < 0x30 || c > 0x39) break;
    len = len * 10 + (c - 0x30);
    if (len > n) return false;
    j++;
  }
  if (j === i || j >= n || body[j] !== SP) return false;
  const end = i + len;
  // The record must hold at least the space, "=" and the newline after the length digits.
  if (end > n || end < j + 3 || body[end - 1] !== NL) return false;
  let k = j + 1;
  while (k < end - 1 && body[k] !== EQ) k++;
  if (k >= end - 1) return false;
  span.keyStart = j + 1;
  span.keyEnd = k;
  span.end = end;
  return true;
}

const SPAN: RecordSpan = { keyStart: 0, keyEnd: 0, end: 0 };

/**
 * Splits a pax body into records. Parsing stops at the first malformed record (bad length,
 * record running past the body, missing `=` or trailing newline) and reports where; NUL bytes
 * where a record should start end the body quietly (some writers pad with NULs).
 */
export function parsePaxRecords(body: Buffer): PaxParseResult {
  const records: PaxRecord[] = [];
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break;
    if (!scanRecord(body, i, SPAN)) return { records, malformedAt: i };
    records.push({ key: paxKey(body, SPAN.keyStart, SPAN.keyEnd), value: body.subarray(SPAN.keyEnd + 1, SPAN.end - 1) });
    i = SPAN.end;
  }
  return { records, malformedAt: -1 };
}

/** Sets `out[key]`, a key named `__proto__` as an own property (not the object's prototype). */
function setRecord(out: Record<string, Buffer>, key: string, value: Buffer): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * Parses a pax body straight into `into` (keyword → raw value; a later record with the same
 * keyword wins, as when records are applied in order), with parsePaxRecords' rules. Returns
 * the offset of the first malformed record, or -1. Hot path: the one `x` header before most
 * members of a pax archive, with no record objects in between.
 */
export function parsePaxInto(body: Buffer, into: Record<string, Buffer>): number {
  let i = 0;
  while (i < body.length) {
    if (body[i] === 0) break;
    if (!scanRecord(body, i, SPAN)) return i;
    setRecord(into, paxKey(body, SPAN.keyStart, SPAN.keyEnd), body.subarray(SPAN.keyEnd + 1, SPAN.end - 1));
    i = SPAN.end;
  }
  return -1;
}

/**
 * Keywords on nearly every member of a pax archive (bsdtar, GNU tar, star), returned as these
 * constants: no UTF-8 decoding and no fresh string to hash when `extra.pax` is built. ASCII, so
 * byte-identical to what decoding would give. Hot path.
 */
const COMMON_KEYS = ['mtime', 'atime', 'ctime', 'path', 'linkpath', 'size', 'uid', 'gid', 'uname', 'gname', 'hdrcharset', 'SCHILY.dev', 'SCHILY.ino', 'SCHILY.nlink', 'LIBARCHIVE.creationtime'];
const COMMON_KEY_BYTES = COMMON_KEYS.map((k) => Buffer.from(k, 'latin1'));

function paxKey(body: Buffer, start: number, end: number): string {
  const len = end - start;
  for (let i = 0; i < COMMON_KEY_BYTES.length; i++) {
    const kb = COMMON_KEY_BYTES[i]!;
    if (kb.length !== len) continue;
    let j = 0;
    while (j < len && body[start + j] === kb[j]) j++;
    if (j === len) return COMMON_KEYS[i]!;
  }
  return body.toString('utf8', start, end);
}

/**
 * Parses a pax decimal integer (`size`, `uid`, `SUN.devmajor`...): an optional `-` and digits,
 * nothing else. NaN when malformed; ±Infinity beyond ±(2^53 − 1).
 */
export function parsePaxInteger(v: Uint8Array): number {
  let i = 0;
  let neg = false;
  if (v[0] === 0x2d) {
    neg = true;
    i = 1;
  }
  if (i >= v.length) return Number.NaN;
  let x = 0;
  for (; i < v.length; i++) {
    const c = v[i]!;
    if (c < 0x30 || c > 0x39) return Number.NaN;
    x = x * 10 + (c - 0x30);
    if (x > Number.MAX_SAFE_INTEGER) return neg ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  return neg ? -x : x;
}

export interface PaxTime {
  /** Whole seconds, floor of the value (so -1.5 is -2 s + 500000000 ns). */
  sec: number;
  /** Nanoseconds, 0 ≤ nsec < 1e9. */
  nsec: number;
}

/**
 * Parses a pax time (`mtime=1600000000.123456789`, `mtime=-2146608000`): optional sign,
 * decimal seconds, optional fraction (digits beyond nanoseconds are dropped). Null when
 * malformed or beyond 2^53 seconds.
 */
export function parsePaxTime(v: Uint8Array): PaxTime | null {
  let i = 0;
  let neg = false;
  if (v[0] === 0x2d) {
    neg = true;
    i = 1;
  }
  let sec = 0;
  let digits = 0;
  for (; i < v.length; i++) {
    const c = v[i]!;
    if (c < 0x30 || c > 0x39) break;
    sec = sec * 10 + (c - 0x30);
    digits++;
    if (sec > Number.MAX_SAFE_INTEGER) return null;
  }
  let nsec = 0;
  if (i < v.length) {
    if (v[i] !== 0x2e) return null; // '.'
    i++;
    let scale = 100_000_000;
    for (; i < v.length; i++) {
      const c = v[i]!;
      if (c < 0x30 || c > 0x39) return null;
      nsec += (c - 0x30) * scale;
      scale = Math.floor(scale / 10);
      digits++;
    }
  }
  if (digits === 0) return null;
  if (!neg) return { sec, nsec };
  if (nsec === 0) return { sec: sec === 0 ? 0 : -sec, nsec: 0 };
  return { sec: -sec - 1, nsec: 1_000_000_000 - nsec };
}

/**
 * The keywords of one entry that the reader applies (raw bytes; parsed by the reader so that
 * errors can name the entry's offset). Undefined = not given (or deleted by an empty value).
 */
export interface PaxFields {
  path: Buffer | undefined;
  linkpath: Buffer | undefined;
  size: Buffer | undefined;
  uid: Buffer | undefined;
  gid: Buffer | undefined;
  uname: Buffer | undefined;
  gname: Buffer | undefined;
  mtime: Buffer | undefined;
  devmajor: Buffer | undefined;
  devminor: Buffer | undefined;
  nlink: Buffer | undefined;
  ino: Buffer | undefined;
  /** `hdrcharset=BINARY`: uname/gname are raw bytes rather than UTF-8. */
  binary: boolean;
  /** Solaris `SUN.holesdata` (local only). */
  holesdata: Buffer | undefined;
  /** GNU sparse keywords (local only; formats.md §4.9). */
  sparseMajor: Buffer | undefined;
  sparseMinor: Buffer | undefined;
  sparseName: Buffer | undefined;
  sparseRealsize: Buffer | undefined;
  sparseSize: Buffer | undefined;
  sparseMap: Buffer | undefined;
  /** True when a GNU 0.0 `GNU.sparse.offset` record was seen (the map is the record sequence). */
  sparseOffsets: boolean;
}

const EMPTY_FIELDS: Readonly<PaxFields> = Object.freeze(emptyFields());

function emptyFields(): PaxFields {
  return {
    path: undefined,
    linkpath: undefined,
    size: undefined,
    uid: undefined,
    gid: undefined,
    uname: undefined,
    gname: undefined,
    mtime: undefined,
    devmajor: undefined,
    devminor: undefined,
    nlink: undefined,
    ino: undefined,
    binary: false,
    holesdata: undefined,
    sparseMajor: undefined,
    sparseMinor: undefined,
    sparseName: undefined,
    sparseRealsize: undefined,
    sparseSize: undefined,
    sparseMap: undefined,
    sparseOffsets: false,
  };
}

/**
 * Folds one record into `f`. `local` is false for `g` records: a global `path`, `linkpath`,
 * `size` or sparse/holes description would make every later entry the same file, so only the
 * attribute keywords (ids, names, times, devices, charset) are honoured globally.
 */
function applyRecord(f: PaxFields, key: string, value: Buffer, local: boolean): void {
  const v = value.length === 0 ? undefined : value;
  switch (key) {
    case 'uid':
      f.uid = v;
      return;
    case 'gid':
      f.gid = v;
      return;
    case 'uname':
      f.uname = v;
      return;
    case 'gname':
      f.gname = v;
      return;
    case 'mtime':
      f.mtime = v;
      return;
    case 'SUN.devmajor':
    case 'SCHILY.devmajor':
      f.devmajor = v;
      return;
    case 'SUN.devminor':
    case 'SCHILY.devminor':
      f.devminor = v;
      return;
    case 'SCHILY.nlink':
      f.nlink = v;
      return;
    case 'SCHILY.ino':
      f.ino = v;
      return;
    case 'hdrcharset':
      f.binary = v !== undefined && v.length === 6 && v.toString('latin1') === 'BINARY';
      return;
  }
  if (!local) return;
  switch (key) {
    case 'path':
      f.path = v;
      return;
    case 'linkpath':
      f.linkpath = v;
      return;
    case 'size':
      f.size = v;
      return;
    case 'SUN.holesdata':
      f.holesdata = v;
      return;
    case 'GNU.sparse.major':
      f.sparseMajor = v;
      return;
    case 'GNU.sparse.minor':
      f.sparseMinor = v;
      return;
    case 'GNU.sparse.name':
      f.sparseName = v;
      return;
    case 'GNU.sparse.realsize':
      f.sparseRealsize = v;
      return;
    case 'GNU.sparse.size':
      f.sparseSize = v;
      return;
    case 'GNU.sparse.map':
      f.sparseMap = v;
      return;
    case 'GNU.sparse.offset':
      f.sparseOffsets = true;
      return;
  }
}

/**
 * Folds the global records, then the entry's local ones (keyword → value, as parsePaxInto
 * builds them), into `f`, every field reset first. Hot path: `f` is one scratch object per
 * reader, not an allocation per entry.
 */
export function collectPaxFields(f: PaxFields, globals: PaxGlobals, local: Readonly<Record<string, Buffer>> | null): PaxFields {
  Object.assign(f, EMPTY_FIELDS);
  if (globals.size > 0) for (const [k, v] of globals.map) applyRecord(f, k, v, false);
  if (local !== null) for (const k of Object.keys(local)) applyRecord(f, k, local[k]!, true);
  return f;
}

/** A fresh fields object (every keyword absent), for collectPaxFields. */
export function newPaxFields(): PaxFields {
  return emptyFields();
}

/**
 * The records that applied to an entry, raw (globals first, locals overriding), for
 * `extra.pax`. Without globals the local object itself is handed out (it is the entry's own).
 */
export function paxExtra(globals: PaxGlobals, local: Record<string, Buffer> | null): Record<string, Buffer> {
  if (globals.size === 0 && local !== null) return local;
  const out: Record<string, Buffer> = {};
  for (const [k, v] of globals.map) setRecord(out, k, v);
  if (local !== null) for (const k of Object.keys(local)) setRecord(out, k, local[k]!);
  return out;
}

/**
 * Keywords declared by `g` headers, persisting for the rest of the archive. The total size of
 * keys and values is bounded by the meta-record limit, so a stream of `g` headers cannot grow
 * memory without bound.
 */
export class PaxGlobals {
  readonly map = new Map<string, Buffer>();
  #bytes = 0;

  get size(): number {
    return this.map.size;
  }

  /** Merges the records of one `g` header; throws LIMIT_META_SIZE past `limit` bytes in total. */
  merge(records: readonly PaxRecord[], limit: number, offset: number): void {
    for (const { key, value } of records) {
      const old = this.map.get(key);
      if (old !== undefined) this.#bytes -= key.length + old.length;
      if (value.length === 0) {
        this.map.delete(key);
        continue;
      }
      this.map.set(key, value);
      this.#bytes += key.length + value.length;
    }
    if (this.#bytes > limit) {
      throw formatError(
        'LIMIT_META_SIZE',
        'tar',
        `pax global headers hold ${this.#bytes} bytes of keywords, more than the meta record limit of ${limit}`,
        offset,
        'raise maxMetaSize if the archive is trusted',
      );
    }
  }
}
