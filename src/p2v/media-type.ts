/** The image kind as the original's transcript names it ("    Media Type: flash archive"). */

import type { Layer } from '../pipeline/open-archive.js';

/** The name the original's transcript gives the image ("flash archive", "gzipped cpio archive"...). */
export function mediaType(layers: readonly Layer[], isDirectory: boolean): string {
  if (isDirectory) return 'directory';
  if (layers.some((l) => l.kind === 'envelope' && l.name === 'flar')) return 'flash archive';
  const filters = layers.filter((l) => l.kind === 'filter').map((l) => l.name);
  const format = layers.find((l) => l.kind === 'format');
  const base = format?.name === 'tar' ? 'pax (xustar) archive' : format?.name === 'ufsdump' ? 'ufsdump archive' : `${format?.name ?? 'unknown'} archive`;
  const adjective: Record<string, string> = { gzip: 'gzipped', bzip2: 'bzipped', xz: 'xz-compressed', lzma: 'lzma-compressed', compress: 'compressed', zstd: 'zstd-compressed' };
  return [...filters.map((f) => adjective[f] ?? f), base].join(' ');
}
