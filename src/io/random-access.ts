/**
 * Random access to the input, when it is a plain file: the zip reader uses it to read the
 * central directory at the end instead of trusting local headers. The pipeline hands it to a
 * format only when no filter or envelope was peeled (the format stream is then the file
 * itself, from offset 0). Standard input and decoded streams never have it.
 */

import { open, type FileHandle } from 'node:fs/promises';
import { ZoneP2vError } from '../errors.js';

export interface RandomAccess {
  /** Total size in bytes. */
  readonly size: number;
  /** Reads exactly `length` bytes at `position` (short only at EOF). */
  read(position: number, length: number): Promise<Buffer>;
  /** Streams `length` bytes from `position` in chunks of at most `chunk` bytes. */
  stream(position: number, length: number, chunk?: number): AsyncIterable<Buffer>;
  close(): Promise<void>;
}

export async function openRandomAccess(path: string): Promise<RandomAccess> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (e) {
    throw new ZoneP2vError('IO_READ', `${path}: cannot open (${(e as Error).message})`, { file: path, cause: e });
  }
  const { size } = await fh.stat();
  const read = async (position: number, length: number): Promise<Buffer> => {
    const n = Math.max(0, Math.min(length, size - position));
    const buf = Buffer.allocUnsafe(n);
    let got = 0;
    while (got < n) {
      const { bytesRead } = await fh.read(buf, got, n - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return got === n ? buf : buf.subarray(0, got);
  };
  return {
    size,
    read,
    async *stream(position: number, length: number, chunk = 1024 * 1024) {
      let left = length;
      let pos = position;
      while (left > 0) {
        const b = await read(pos, Math.min(chunk, left));
        if (b.length === 0) return;
        yield b;
        pos += b.length;
        left -= b.length;
      }
    },
    close: () => fh.close(),
  };
}
