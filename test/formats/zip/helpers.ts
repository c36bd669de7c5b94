/**
 * Shared helpers of the zip reader tests: run the reader in random-access mode (over an
 * in-memory RandomAccess, or the real file) or in streaming mode (in given chunks), collect
 * entries with their bodies and the warnings.
 */
import { readBody, type Entry } from '../../../src/entry/entry.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { newStats, type FormatReadOptions, type ReaderStats } from '../../../src/formats/format.js';
import { zipFormat } from '../../../src/formats/zip/reader.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import type { RandomAccess } from '../../../src/io/random-access.js';
import { asAsync } from '../../support/chunking.js';

export interface ReadEntry extends Omit<Entry, 'body'> {
  data: Buffer;
}

export interface ReadResult {
  entries: ReadEntry[];
  stats: ReaderStats;
  warnings: ZoneP2vError[];
}

/** RandomAccess over a buffer; counts reads so tests can see what was touched. */
export function memoryRandomAccess(buf: Buffer, chunk = 4096): RandomAccess & { reads: number } {
  const ra = {
    size: buf.length,
    reads: 0,
    async read(position: number, length: number) {
      ra.reads++;
      const s = Math.max(0, Math.min(position, buf.length));
      return buf.subarray(s, Math.min(buf.length, s + length));
    },
    async *stream(position: number, length: number, size = chunk) {
      let p = position;
      const end = Math.min(buf.length, position + length);
      while (p < end) {
        ra.reads++;
        const n = Math.min(size, end - p);
        yield buf.subarray(p, p + n);
        p += n;
      }
    },
    async close() {},
  };
  return ra;
}

export type Mode = 'random' | 'stream';

export interface ReadOptions extends Partial<FormatReadOptions> {
  mode?: Mode;
  /** Streaming mode: how to cut the input (default one chunk). */
  chunks?: (b: Buffer) => Buffer[];
  /** Do not read bodies (list only). */
  skipBodies?: boolean;
}

/** Reads every entry (and its whole body unless skipBodies). */
export async function readZip(bytes: Buffer, opts: ReadOptions = {}): Promise<ReadResult> {
  const { mode = 'random', chunks, skipBodies, ...rest } = opts;
  const warnings: ZoneP2vError[] = [];
  const stats = newStats('zip');
  const options: FormatReadOptions = { onWarning: (w) => warnings.push(w), ...rest };
  if (mode === 'random') options.randomAccess ??= memoryRandomAccess(bytes);
  // The format stream holds the same bytes in both modes (random access may fall back to it).
  const src = new ByteSource(asAsync((chunks ?? ((b) => [b]))(bytes)));
  const entries: ReadEntry[] = [];
  for await (const e of zipFormat.read(src, stats, options)) {
    const { body, ...fields } = e;
    void body;
    const data = skipBodies ? Buffer.alloc(0) : await readBody(e);
    entries.push({ ...fields, data });
  }
  return { entries, stats, warnings };
}

/** Runs the reader and returns the error it ends with (or null), with what it read before. */
export async function readZipError(bytes: Buffer, opts: ReadOptions = {}): Promise<ZoneP2vError | null> {
  try {
    await readZip(bytes, opts);
    return null;
  } catch (e) {
    if (e instanceof ZoneP2vError) return e;
    throw e;
  }
}

/** Lists entries (bodies never opened) and collects the error, if any, after the entries. */
export async function listZip(bytes: Buffer, opts: ReadOptions = {}): Promise<{ names: string[]; error: ZoneP2vError | null; warnings: ZoneP2vError[] }> {
  const names: string[] = [];
  const warnings: ZoneP2vError[] = [];
  const { mode = 'random', chunks, skipBodies: _s, ...rest } = opts;
  const options: FormatReadOptions = { onWarning: (w) => warnings.push(w), ...rest };
  if (mode === 'random') options.randomAccess ??= memoryRandomAccess(bytes);
  const src = new ByteSource(asAsync((chunks ?? ((b) => [b]))(bytes)));
  try {
    for await (const e of zipFormat.read(src, newStats('zip'), options)) names.push(e.path.toString('latin1'));
    return { names, error: null, warnings };
  } catch (e) {
    if (e instanceof ZoneP2vError) return { names, error: e, warnings };
    throw e;
  }
}

export const l1 = (b: Buffer) => b.toString('latin1');
