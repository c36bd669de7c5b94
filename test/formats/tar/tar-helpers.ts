/**
 * Shared helpers of the tar reader tests: run the reader over a buffer under a chunking, collect
 * entries (optionally with bodies), warnings, stats and the error that ended the read, and turn
 * entries into MANIFEST listing tokens.
 */
import { createHash } from 'node:crypto';
import type { Entry } from '../../../src/entry/entry.js';
import type { ZoneP2vError } from '../../../src/errors.js';
import { newStats, type ReaderStats } from '../../../src/formats/format.js';
import { tarFormat } from '../../../src/formats/tar/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { asAsync, type Chunking } from '../../support/chunking.js';

export interface ReadEntry extends Entry {
  /** The body, when the read collected bodies. */
  data?: Buffer;
}

export interface ReadResult {
  entries: ReadEntry[];
  warnings: ZoneP2vError[];
  stats: ReaderStats;
  /** Whatever the reader threw, if it did. */
  error?: unknown;
}

export interface ReadOptions {
  chunking?: Chunking;
  /** Collect every body (default true). */
  bodies?: boolean;
  /** Stop collecting a body past this many bytes (the rest is skipped by the reader). */
  bodyCap?: number;
  maxMetaSize?: number;
}

/** Reads a whole tar buffer; never throws (the error is returned). */
export async function readTarBuffer(buf: Buffer, opts: ReadOptions = {}): Promise<ReadResult> {
  const chunks = opts.chunking ? opts.chunking.split(buf) : [buf];
  const src = new ByteSource(asAsync(chunks));
  const stats = newStats('');
  const warnings: ZoneP2vError[] = [];
  const entries: ReadEntry[] = [];
  const cap = opts.bodyCap ?? Number.POSITIVE_INFINITY;
  try {
    for await (const e of tarFormat.read(src, stats, {
      onWarning: (w) => warnings.push(w),
      maxMetaSize: opts.maxMetaSize,
    })) {
      const r: ReadEntry = e;
      if (opts.bodies !== false) {
        const parts: Buffer[] = [];
        let n = 0;
        for await (const c of e.body) {
          parts.push(Buffer.from(c));
          n += c.length;
          if (n >= cap) break;
        }
        r.data = Buffer.concat(parts);
      }
      entries.push(r);
    }
  } catch (error) {
    return { entries, warnings, stats, error };
  }
  return { entries, warnings, stats };
}


/** The MANIFEST token of an entry, and a MANIFEST cell as tokens: shared with the pipeline tests. */
export { tokenOf as token, expectedTokens } from '../../support/listing.js';

export function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

export function isError(e: unknown, code?: string): e is ZoneP2vError {
  return (
    typeof e === 'object' &&
    e !== null &&
    (e as ZoneP2vError).name === 'ZoneP2vError' &&
    (code === undefined || (e as ZoneP2vError).code === code)
  );
}
