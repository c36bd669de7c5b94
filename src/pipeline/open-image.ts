/**
 * Opens what the user named as the image: `-a FILE`, `-a -` (standard input) or `-d DIR`.
 * A regular file also gets random access (zip reads its central directory with it).
 */

import type { WarningHandler } from '../errors.js';
import { ByteSource } from '../io/byte-source.js';
import { openInput } from '../io/open-input.js';
import { openRandomAccess, type RandomAccess } from '../io/random-access.js';
import { openArchive, type ArchiveReader } from './open-archive.js';
import { openDirectory } from './open-directory.js';

export type ImageSpec = { archive: string } | { directory: string };

export interface OpenedImage {
  reader: ArchiveReader;
  /** Name for messages: the path, or `standard input`. */
  name: string;
  /** Input size in bytes when known (a regular file). */
  size: number | undefined;
  close(): Promise<void>;
}

export interface OpenImageOptions {
  /** Receives warnings (default: none kept). */
  onWarning?: WarningHandler;
  /** Aborts reading (default: none). */
  signal?: AbortSignal;
  /** External decoder programs (OpenOptions.externalDecoders); default true. */
  externalDecoders?: boolean;
}

export async function openImage(spec: ImageSpec, options: OpenImageOptions = {}): Promise<OpenedImage> {
  if ('directory' in spec) {
    const reader = await openDirectory(spec.directory, options);
    return { reader, name: spec.directory, size: undefined, close: () => reader.close() };
  }
  const input = await openInput(spec.archive, undefined, { lazy: true });
  let randomAccess: RandomAccess | undefined;
  // A regular file is read with pread and skipped by seeking; pipes and stdin are streamed.
  if (input.size !== undefined && spec.archive !== '-') randomAccess = await openRandomAccess(spec.archive);
  try {
    const source = randomAccess ? ByteSource.fromRandomAccess(randomAccess) : input.stream;
    const reader = await openArchive(source, {
      name: input.name,
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(randomAccess ? { randomAccess } : {}),
      ...(options.externalDecoders !== undefined ? { externalDecoders: options.externalDecoders } : {}),
    });
    return {
      reader,
      name: input.name,
      size: input.size,
      close: async () => {
        await reader.close();
        await randomAccess?.close();
      },
    };
  } catch (e) {
    await randomAccess?.close();
    throw e;
  }
}
