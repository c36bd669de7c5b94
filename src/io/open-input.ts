/**
 * Opens the image: a file path, or `-` for standard input (the ssh-pipe use case). Large reads
 * (1 MiB) keep the per-chunk overhead of every layer above low.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { ZoneP2vError } from '../errors.js';

export const READ_CHUNK = 1024 * 1024;

export interface Input {
  /** Name for messages: the path, or `standard input`. */
  name: string;
  /** Size in bytes when known (a regular file), for progress totals. */
  size: number | undefined;
  stream: AsyncIterable<Buffer>;
}

/**
 * `lazy`: the file is opened only when `stream` is first iterated (callers that read a regular
 * file through random access instead never open it twice).
 */
export async function openInput(path: string, stdin: Readable = process.stdin, options: { lazy?: boolean } = {}): Promise<Input> {
  if (path === '-') return { name: 'standard input', size: undefined, stream: wrapReadErrors(stdin as AsyncIterable<Buffer>, 'standard input') };
  let size: number | undefined;
  try {
    const st = await stat(path);
    if (st.isDirectory()) {
      throw new ZoneP2vError('IO_READ', `${path}: is a directory, not an archive file`, { file: path });
    }
    size = st.isFile() ? st.size : undefined;
  } catch (e) {
    if (e instanceof ZoneP2vError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new ZoneP2vError(code === 'ENOENT' ? 'IO_NOT_FOUND' : 'IO_READ', `${path}: cannot open (${code === 'ENOENT' ? 'no such file' : (e as Error).message})`, { file: path, cause: e });
  }
  if (options.lazy) {
    const stream: AsyncIterable<Buffer> = {
      [Symbol.asyncIterator]: () => wrapReadErrors(createReadStream(path, { highWaterMark: READ_CHUNK }), path),
    };
    return { name: path, size, stream };
  }
  const stream = createReadStream(path, { highWaterMark: READ_CHUNK });
  return { name: path, size, stream: wrapReadErrors(stream, path) };
}

async function* wrapReadErrors(stream: AsyncIterable<Buffer>, path: string): AsyncGenerator<Buffer> {
  try {
    yield* stream;
  } catch (e) {
    throw new ZoneP2vError('IO_READ', `${path}: read error (${(e as Error).message})`, { file: path, cause: e });
  }
}
