/**
 * What streaming mode remembers of each local entry it delivered, to cross-check the central
 * directory when it arrives at the end of the stream: offset (ascending, since entries are
 * met in stream order), raw name, CRC-32, sizes and the type delivered.
 *
 * Memory is linear in the entries actually read (about 40 bytes plus the name each), and
 * recording stops after `MAX_RECORDED` entries or `MAX_NAME_BYTES` of names: the cross-check
 * is then skipped with a warning rather than let a stream of millions of tiny entries grow it
 * without end.
 */

import type { EntryType } from '../../entry/entry.js';
import { ByteArena, NumberColumn } from './growable.js';

export const MAX_RECORDED = 2_000_000;
export const MAX_NAME_BYTES = 128 * 1024 * 1024;

const TYPES: readonly EntryType[] = ['file', 'directory'];

export interface LocalFacts {
  offset: number;
  rawName: Uint8Array;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  type: EntryType;
}

export class LocalIndex {
  readonly #offsets = new NumberColumn();
  readonly #crc = new NumberColumn();
  readonly #compressed = new NumberColumn();
  readonly #uncompressed = new NumberColumn();
  readonly #type = new NumberColumn();
  readonly #names = new ByteArena();
  /** False once recording stopped at a limit. */
  complete = true;

  get count(): number {
    return this.#offsets.length;
  }

  add(f: LocalFacts): void {
    if (!this.complete) return;
    if (this.count >= MAX_RECORDED || this.#names.bytes + f.rawName.length > MAX_NAME_BYTES) {
      this.complete = false;
      return;
    }
    this.#offsets.push(f.offset);
    this.#crc.push(f.crc32 >>> 0);
    this.#compressed.push(f.compressedSize);
    this.#uncompressed.push(f.uncompressedSize);
    this.#type.push(Math.max(0, TYPES.indexOf(f.type)));
    this.#names.push(f.rawName);
  }

  /** Index of the entry whose local header is at `offset`, or -1 (binary search). */
  find(offset: number): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.#offsets.get(mid);
      if (v === offset) return mid;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  offset(i: number): number {
    return this.#offsets.get(i);
  }

  name(i: number): Buffer {
    return this.#names.get(i);
  }

  crc32(i: number): number {
    return this.#crc.get(i);
  }

  compressedSize(i: number): number {
    return this.#compressed.get(i);
  }

  uncompressedSize(i: number): number {
    return this.#uncompressed.get(i);
  }

  type(i: number): EntryType {
    return TYPES[this.#type.get(i)]!;
  }
}
