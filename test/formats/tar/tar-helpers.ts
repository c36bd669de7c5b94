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
import { unescapeOctal } from '../../support/corpus.js';

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

const l1 = (b: Buffer): string => b.toString('latin1');

/** The MANIFEST token of an entry (paths shown latin1 so bytes compare exactly). */
export function token(e: Entry): string {
  switch (e.type) {
    case 'file':
      return `f:${l1(e.path)}:${e.size}`;
    case 'directory':
      return `d:${l1(e.path)}`;
    case 'symlink':
      return `l:${l1(e.path)}->${l1(e.linkTarget ?? Buffer.alloc(0))}`;
    case 'hardlink':
      return `h:${l1(e.path)}=>${l1(e.linkTarget ?? Buffer.alloc(0))}`;
    case 'fifo':
      return `p:${l1(e.path)}`;
    case 'char-device':
      return `c:${l1(e.path)}:${e.devMajor},${e.devMinor}`;
    case 'block-device':
      return `b:${l1(e.path)}:${e.devMajor},${e.devMinor}`;
    case 'socket':
      return `s:${l1(e.path)}`;
  }
}

/** A MANIFEST `expected_entries` cell as tokens (octal escapes turned into latin1 bytes). */
export function expectedTokens(cell: string): string[] {
  if (cell.trim() === '') return [];
  return cell.split(' | ').map((t) => l1(unescapeOctal(t.trim())));
}

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
