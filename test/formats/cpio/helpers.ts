/**
 * Shared helpers of the cpio reader tests: run the reader over a buffer (in given chunks),
 * collect entries with their bodies, and render listings in the corpus MANIFEST notation.
 */
import { readBody, type Entry } from '../../../src/entry/entry.js';
import { ZoneP2vError } from '../../../src/errors.js';
import { ByteSource } from '../../../src/io/byte-source.js';
import { newStats, type FormatReadOptions, type ReaderStats } from '../../../src/formats/format.js';
import { cpioFormat } from '../../../src/formats/cpio/reader.js';
import { asAsync } from '../../support/chunking.js';
import { unescapeOctal } from '../../support/corpus.js';

export interface ReadEntry extends Omit<Entry, 'body'> {
  data: Buffer;
}

export interface ReadResult {
  entries: ReadEntry[];
  stats: ReaderStats;
  warnings: ZoneP2vError[];
}

/** Reads every entry and its whole body. */
export async function readCpio(
  chunks: Buffer[],
  opts: Partial<FormatReadOptions> & { skipBodies?: boolean } = {},
): Promise<ReadResult> {
  const src = new ByteSource(asAsync(chunks));
  const stats = newStats('unknown');
  const warnings: ZoneP2vError[] = [];
  const entries: ReadEntry[] = [];
  const options: FormatReadOptions = { onWarning: (w) => warnings.push(w), ...opts };
  for await (const e of cpioFormat.read(src, stats, options)) {
    const { body, ...rest } = e;
    const data = opts.skipBodies ? Buffer.alloc(0) : await readBody(e);
    void body;
    entries.push({ ...rest, data });
  }
  return { entries, stats, warnings };
}

/** Runs the reader and returns the error it ends with (or null when it ends cleanly). */
export async function readError(
  chunks: Buffer[],
  opts: Partial<FormatReadOptions> & { skipBodies?: boolean } = {},
): Promise<unknown> {
  try {
    await readCpio(chunks, opts);
    return null;
  } catch (e) {
    return e;
  }
}

/** One entry in MANIFEST notation, as latin1 bytes (names are raw bytes). */
export function manifestItem(e: Omit<Entry, 'body'>): string {
  const p = e.path.toString('latin1');
  switch (e.type) {
    case 'file':
      return `f:${p}:${e.size}`;
    case 'directory':
      return `d:${p}`;
    case 'symlink':
      return `l:${p}->${e.linkTarget!.toString('latin1')}`;
    case 'hardlink':
      return `h:${p}=>${e.linkTarget!.toString('latin1')}`;
    case 'fifo':
      return `p:${p}`;
    case 'char-device':
      return `c:${p}:${e.devMajor},${e.devMinor}`;
    case 'block-device':
      return `b:${p}:${e.devMajor},${e.devMinor}`;
    case 'socket':
      return `s:${p}`;
  }
}

/**
 * The expected_entries column as a list of latin1 strings comparable with manifestItem.
 * Parenthesised remarks ("(per test; ...)", "(none: ...)") are dropped.
 */
export function expectedItems(column: string): string[] {
  const text = column.replace(/\s*\(.*\)\s*$/, '').trim();
  if (text === '') return [];
  return text.split(' | ').map((item) => unescapeOctal(item).toString('latin1'));
}

/** Compares actual items with expected ones; an expected `f:path` without a size matches any size. */
export function sameListing(actual: string[], expected: string[]): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every((a, i) => {
    const x = expected[i]!;
    if (a === x) return true;
    return x.startsWith('f:') && !/:\d+$/.test(x) && a.startsWith(x + ':');
  });
}

export function isZ(e: unknown): e is ZoneP2vError {
  return e instanceof ZoneP2vError;
}
