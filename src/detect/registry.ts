/**
 * Everything that bids on a stream: compression filters, envelopes and archive formats.
 * Adding a format means adding it here; nothing else in the pipeline knows the list.
 */

import { flarEnvelope } from '../envelopes/flar.js';
import type { Envelope } from '../envelopes/envelope.js';
import { bzip2Filter } from '../filters/bzip2.js';
import { compressFilter } from '../filters/compress.js';
import type { Filter } from '../filters/filter.js';
import { gzipFilter } from '../filters/gzip.js';
import { lzmaFilter } from '../filters/lzma.js';
import { xzFilter } from '../filters/xz.js';
import { zstdFilter } from '../filters/zstd.js';
import { cpioFormat } from '../formats/cpio/reader.js';
import type { FormatReader } from '../formats/format.js';
import { tarFormat } from '../formats/tar/reader.js';
import { ufsdumpFormat } from '../formats/ufsdump/reader.js';
import { zipFormat } from '../formats/zip/reader.js';

export const FILTERS: readonly Filter[] = [gzipFilter, bzip2Filter, xzFilter, compressFilter, zstdFilter, lzmaFilter];
export const ENVELOPES: readonly Envelope[] = [flarEnvelope as Envelope];
export const FORMATS: readonly FormatReader[] = [tarFormat, cpioFormat, ufsdumpFormat, zipFormat];
