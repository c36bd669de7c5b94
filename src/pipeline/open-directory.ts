/**
 * `-d DIR` as an ArchiveReader: the directory walk behind the same interface as an archive, so
 * list, inspect, extract and install treat a tree on disk like any other image.
 */

import { walkDirectory } from '../formats/directory/walk.js';
import { newStats } from '../formats/format.js';
import { isZoneP2vError, type WarningHandler } from '../errors.js';
import type { ArchiveReader } from './open-archive.js';

export interface OpenDirectoryOptions {
  onWarning?: WarningHandler;
  signal?: AbortSignal;
}

export async function openDirectory(root: string, options: OpenDirectoryOptions = {}): Promise<ArchiveReader> {
  const stats = newStats('directory');
  let started = false;
  const walkOptions = { ...(options.onWarning ? { onWarning: options.onWarning } : {}), ...(options.signal ? { signal: options.signal } : {}) };
  // Fail now (not at the first entry) when the root is missing or not a directory.
  const gen = walkDirectory(root, stats, walkOptions);
  const first = await gen.next();
  return {
    layers: [{ kind: 'format', name: 'directory' }],
    format: 'directory',
    variant: 'directory',
    flar: undefined,
    stats,
    async *entries() {
      if (started) throw new Error('entries() can be called only once');
      started = true;
      try {
        if (!first.done) yield first.value;
        yield* gen;
      } catch (e) {
        if (isZoneP2vError(e) && !e.file) e.file = root;
        throw e;
      }
    },
    close: async () => {
      await gen.return(undefined);
    },
  };
}
