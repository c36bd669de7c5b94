/**
 * The format-neutral Entry every reader produces (libarchive's archive_entry, Go's tar.Header).
 *
 * Paths and link targets are raw bytes exactly as the archive stores them (after the format's
 * own assembly: ustar prefix + name, GNU long names, pax `path`), never decoded: Solaris images
 * carry Latin-1 and EUC names. Meta records (pax x/g, GNU L/K, Solaris A/E/X, cpio trailer,
 * Solaris cpio xattr/ACL records) never appear as entries; readers count them in their stats.
 *
 * Hard links: `type: 'hardlink'` with `linkTarget` = path of an earlier entry of the same
 * archive. Its `size` is the number of body bytes that follow; when non-zero, those bytes are
 * the content of the whole link group (cpio newc stores the data on the last link only, odc
 * repeats it on every link).
 */

export type EntryType =
  | 'file'
  | 'directory'
  | 'symlink'
  | 'hardlink'
  | 'fifo'
  | 'char-device'
  | 'block-device'
  | 'socket';

export interface Entry {
  /** Raw path bytes as stored (a leading `./` or `/` is kept; the sink normalises). */
  path: Buffer;
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Owner names when the format carries them (tar); informational only, never used to map ids. */
  uname?: string;
  gname?: string;
  /** Bytes the body delivers (for sparse files: the expanded size). */
  size: number;
  /** Modification time, whole seconds since the epoch (may be negative). */
  mtime: number;
  /** Sub-second part of mtime in nanoseconds, when the format carries it (pax). */
  mtimeNsec?: number;
  /** Symlink target or hard-link target path, raw bytes; null for other types. */
  linkTarget: Buffer | null;
  /** Device numbers for char/block devices (0 otherwise). */
  devMajor: number;
  devMinor: number;
  /** Link count and inode as the archive records them, when it does (cpio, dump). */
  nlink?: number;
  ino?: number;
  /** Offset of this entry's first header byte in the format layer's stream. */
  offset: number;
  /** Format leftovers: pax records, ACL text, sparse map, ... */
  extra: EntryExtra;
  /** The entry's data: exactly `size` bytes. Valid only until the next entry is requested. */
  body: AsyncIterable<Buffer>;
}

export interface EntryExtra {
  /** pax extended header records that applied to this entry (x, g and Solaris X), raw values. */
  pax?: Record<string, Buffer>;
  /** Solaris ACL text from a tar `A` record or cpio SECMODE record preceding the entry. */
  acl?: string;
  /** Sparse layout as [offset, length] data runs, when the archive described holes. */
  sparseMap?: Array<[number, number]>;
  /** The writer's name for the sub-format (e.g. `newc`, `pax`, `gnu`). */
  variant?: string;
  [key: string]: unknown;
}

export const ENTRY_TYPES: readonly EntryType[] = [
  'file',
  'directory',
  'symlink',
  'hardlink',
  'fifo',
  'char-device',
  'block-device',
  'socket',
];

/** Maps the Unix file-type bits (mode & 0o170000) to an entry type; null for unknown kinds. */
export function typeFromMode(mode: number): EntryType | null {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'symlink';
    case 0o010000:
      return 'fifo';
    case 0o020000:
      return 'char-device';
    case 0o060000:
      return 'block-device';
    case 0o140000:
      return 'socket';
    default:
      return null;
  }
}

/** Reads a whole body into one buffer (tests, small configuration files). */
export async function readBody(entry: Entry, limit = 64 * 1024 * 1024): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of entry.body) {
    n += c.length;
    if (n > limit) throw new RangeError(`entry body larger than ${limit} bytes`);
    parts.push(c);
  }
  return Buffer.concat(parts, n);
}
