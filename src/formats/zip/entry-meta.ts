/**
 * Entry type, permission bits and times from zip headers (formats.md §5).
 *
 * Type and mode come from the central directory's external attributes: their high 16 bits are
 * a Unix st_mode when the "version made by" host is Unix (3) or OS X (19), and also when a
 * Windows-side writer sets 0x8000 in the low word (p7zip's convention for "Unix mode in the
 * high word"). Otherwise only the MS-DOS directory bit (0x10) and a trailing `/` in the name
 * tell a directory from a file, and the mode is 0755 for directories, 0644 for files.
 * Local headers carry no attributes: in streaming mode every entry is a file or (by its
 * trailing `/`) a directory with the default mode.
 */

import { typeFromMode, type EntryType } from '../../entry/entry.js';
import { DOS_DIRECTORY, HOST_MSDOS, HOST_NTFS, HOST_OSX, HOST_UNIX, HOST_VFAT } from './header.js';

export const DEFAULT_FILE_MODE = 0o644;
export const DEFAULT_DIR_MODE = 0o755;

/** p7zip / 7-Zip: FILE_ATTRIBUTE_UNIX_EXTENSION, the high word holds a Unix mode. */
const UNIX_EXTENSION = 0x8000;

export interface TypeAndMode {
  type: EntryType;
  mode: number;
  /** The mode came from Unix attributes (not a default). */
  unix: boolean;
}

export function endsWithSlash(name: Uint8Array): boolean {
  return name.length > 0 && name[name.length - 1] === 0x2f;
}

/** Type and permission bits of a central directory entry. */
export function typeAndMode(name: Uint8Array, versionMadeBy: number, external: number): TypeAndMode {
  const host = versionMadeBy >> 8;
  const high = external >>> 16;
  const unixHost = host === HOST_UNIX || host === HOST_OSX;
  const unixExtension = (host === HOST_MSDOS || host === HOST_NTFS || host === HOST_VFAT) && (external & UNIX_EXTENSION) !== 0;
  const slash = endsWithSlash(name);
  if ((unixHost || unixExtension) && high !== 0) {
    const fromBits = (high & 0o170000) === 0 ? null : typeFromMode(high);
    let type: EntryType = fromBits ?? (slash || (external & DOS_DIRECTORY) !== 0 ? 'directory' : 'file');
    // Some writers mark directories `d/` as regular files (libarchive makes them directories too).
    if (type === 'file' && slash) type = 'directory';
    return { type, mode: high & 0o7777, unix: true };
  }
  const dir = slash || (external & DOS_DIRECTORY) !== 0;
  return dir
    ? { type: 'directory', mode: DEFAULT_DIR_MODE, unix: false }
    : { type: 'file', mode: DEFAULT_FILE_MODE, unix: false };
}

/** Type and mode of an entry known only from its local header (streaming mode). */
export function streamTypeAndMode(name: Uint8Array): TypeAndMode {
  return endsWithSlash(name)
    ? { type: 'directory', mode: DEFAULT_DIR_MODE, unix: false }
    : { type: 'file', mode: DEFAULT_FILE_MODE, unix: false };
}
