/**
 * The zip format reader (formats.md §5): `bid` over the head, then one of two modes.
 *
 *   random access (options.randomAccess: the input is a plain file and zip the outermost
 *   layer): the end of central directory record is found from the end of the file, the
 *   central directory is the table of contents (read-random.ts). The format stream `src` is
 *   not read at all. Self-extractors and prepended data work here. A file with no end record
 *   at all (a zip cut short, or one still being written) falls back to streaming mode with a
 *   warning.
 *   streaming (anything else): local headers in order, the central directory cross-checked at
 *   the end (read-stream.ts).
 *
 * Variants (bid and stats.variant): `zip`; `zip64` once zip64 records or extras are seen;
 * `sfx` when data precedes the first local header (self-extractor stub or other prefix).
 */

import type { Entry } from '../../entry/entry.js';
import type { ByteSource } from '../../io/byte-source.js';
import type { FormatReadOptions, FormatReader, ReaderStats } from '../format.js';
import { bidZip } from './bid.js';
import { locateCentralDirectory } from './central-directory.js';
import { readRandomAccess } from './read-random.js';
import { ReadWindow } from './read-window.js';
import { readStreaming } from './read-stream.js';
import { zipWarning } from './zip-error.js';

async function* readZip(src: ByteSource, stats: ReaderStats, options: FormatReadOptions): AsyncGenerator<Entry> {
  const ra = options.randomAccess;
  if (ra !== undefined) {
    const info = await locateCentralDirectory(new ReadWindow(ra), options.onWarning);
    if (info !== null) {
      yield* readRandomAccess(ra, info, stats, options);
      return;
    }
    options.onWarning(
      zipWarning(
        'FORMAT_WARNING',
        'no end of central directory record in the last 64 KiB of the file; reading the local headers in order instead',
        ra.size,
        'the archive is probably truncated',
      ),
    );
  }
  yield* readStreaming(src, stats, options);
}

/** The zip format reader (bid + read). */
export const zipFormat: FormatReader = {
  name: 'zip',
  bid: bidZip,
  read: readZip,
};
