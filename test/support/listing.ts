/**
 * Turns entries into the MANIFEST's listing tokens (`f:path:size`, `d:path`, `l:a->b`,
 * `h:a=>b`, `p:path`, `c:path:maj,min`, `b:path:maj,min`) so a reader's output can be compared
 * with the corpus expectations byte-exactly (paths stay bytes, shown latin1 for diffs).
 */
import type { Entry } from '../../src/entry/entry.js';
import { openArchive, type ArchiveReader, type OpenOptions } from '../../src/pipeline/open-archive.js';
import type { ZoneP2vError } from '../../src/errors.js';
import type { ByteSource } from '../../src/io/byte-source.js';
import { unescapeOctal } from './corpus.js';

const l1 = (b: Buffer) => b.toString('latin1');

export function tokenOf(e: Entry): string {
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

/** Expected tokens from a MANIFEST cell, with `\ooo` escapes turned into bytes (latin1 string). */
export function expectedTokens(cell: string): string[] {
  if (cell.trim() === '') return [];
  return cell.split(' | ').map((t) => l1(unescapeOctal(t.trim())));
}

/** A token without its size (`f:a` in rows that give no size). */
export function withoutSize(token: string): string {
  return token.startsWith('f:') ? token.replace(/:\d+$/, '') : token;
}

export interface Listing {
  archive: ArchiveReader;
  tokens: string[];
  entries: Entry[];
  warnings: ZoneP2vError[];
}

/** Opens and lists a stream completely (bodies skipped). */
export async function listStream(input: AsyncIterable<Buffer> | ByteSource, options: OpenOptions = {}): Promise<Listing> {
  const warnings: ZoneP2vError[] = [];
  const archive = await openArchive(input, { ...options, onWarning: (w) => warnings.push(w) });
  const entries: Entry[] = [];
  for await (const e of archive.entries()) entries.push(e);
  return { archive, tokens: entries.map(tokenOf), entries, warnings };
}
