/**
 * Linux dump's compressed tape records (`dump -z`/`-j`/`-y`; formats.md §7.10, verified with
 * corpus/generated/linuxdump-ext2-zlib.dump).
 *
 * When the volume header has DR_COMPRESSED, the first tape record (c_ntrec units, holding that
 * header) is stored plain; every later record is a 32-bit word in the dump's byte order —
 * bit 0 set when the record is compressed, bits 1-3 the method (0 zlib, 1 bzip2, 2 lzo), bits
 * 4-31 the stored length — followed by that many bytes, which inflate to one record of at most
 * c_ntrec units (a record that did not shrink is stored as is, bit 0 clear).
 *
 * `inflateRecords` turns such a stream back into the plain unit stream, records batched into
 * chunks of about 256 KiB (yielded early when the input has no whole record buffered, so a
 * slow pipe is not held back): memory is one batch plus one record (c_ntrec x 1024 bytes, at
 * most 1 MiB) plus the stored bytes. Errors name
 * the byte offset of the record word in the compressed stream. zlib is inflated synchronously
 * with `maxOutputLength` = one record, so a hostile record cannot inflate further.
 */

import { inflateSync } from 'node:zlib';
import { formatError } from '../../errors.js';
import type { ByteSource } from '../../io/byte-source.js';
import { TP_BSIZE, u32 } from './header.js';

const LAYER = 'ufsdump';
const METHODS = ['zlib', 'bzip2', 'lzo'];

/** Largest c_ntrec Linux dump writes (-b 1024 KiB). */
export const MAX_NTREC = 1024;

export async function* inflateRecords(src: ByteSource, le: boolean, ntrec: number): AsyncGenerator<Buffer> {
  const record = ntrec * TP_BSIZE;
  // The first record is plain (it holds the volume header that announced the compression).
  yield Buffer.from(await src.read(record, LAYER, 'first tape record'));
  // A stored record may be up to a record plus zlib's worst-case overhead.
  const maxStored = record + (record >>> 3) + 1024;
  // Hot path: records are batched into chunks of about BATCH bytes, so that the unit parser
  // takes long runs per chunk instead of one record's worth (10 KiB by default).
  let batch: Buffer[] = [];
  let batched = 0;
  for (;;) {
    if (batched >= BATCH || (batched > 0 && src.buffered < 4 + record)) {
      yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
      batch = [];
      batched = 0;
    }
    if (await src.atEnd()) break;
    const at = src.position;
    const word = u32(await src.read(4, LAYER, 'compressed record length'), 0, le);
    const compressed = (word & 1) !== 0;
    const method = (word >>> 1) & 7;
    const length = word >>> 4;
    if (length === 0 || length > maxStored) {
      throw formatError('FORMAT_CORRUPT', LAYER, `compressed record of ${length} bytes (records hold ${record})`, at, 'the dump is corrupt');
    }
    const stored = await src.read(length, LAYER, 'compressed record');
    let out: Buffer;
    if (!compressed) {
      out = Buffer.from(stored);
    } else if (method === 0) {
      try {
        out = inflateSync(stored, { maxOutputLength: record });
      } catch (e) {
        throw formatError('FORMAT_CORRUPT', LAYER, 'zlib record does not inflate to one tape record', at, 'the dump is corrupt', { cause: e });
      }
    } else {
      const name = METHODS[method] ?? `method ${method}`;
      throw formatError(
        'FORMAT_UNSUPPORTED',
        LAYER,
        `Linux dump record compressed with ${name} is not supported (only zlib, dump -z)`,
        at,
        `restore it with Linux restore, or re-run dump with -z`,
      );
    }
    if (out.length === 0 || out.length % TP_BSIZE !== 0 || out.length > record) {
      throw formatError('FORMAT_CORRUPT', LAYER, `compressed record holds ${out.length} bytes, not whole units of one record`, at, 'the dump is corrupt');
    }
    batch.push(out);
    batched += out.length;
  }
  if (batched > 0) yield batch.length === 1 ? batch[0]! : Buffer.concat(batch, batched);
}

/** Inflated bytes handed to the parser per chunk (at most this plus one record). */
const BATCH = 256 * 1024;
