/**
 * Opens an archive stream: detects and peels compression filters and envelopes in a loop, then
 * hands the innermost stream to the winning format reader.
 *
 *   loop (at most MAX_LAYERS times):
 *     fill HEAD_SIZE bytes → refusals (ZFS, pack) → bids →
 *       filter   → new ByteSource over the decoded stream, bid again
 *       envelope → parse its header from the same source, bid again on the payload
 *       format   → done: entries() reads it
 *       nothing  → DETECT_NO_ARCHIVE (inside a filter) or DETECT_UNKNOWN
 *
 * Nothing is read past the head until the caller iterates entries(), so `inspect` can report
 * the chain cheaply. Decoders run as they are pulled: filters on the thread pool overlap with
 * parsing on the main thread.
 */

import type { Entry } from '../entry/entry.js';
import type { FlarInfo } from '../envelopes/flar.js';
import { isZoneP2vError, ZoneP2vError, type WarningHandler } from '../errors.js';
import type { FilterContext, FilterName } from '../filters/filter.js';
import { newStats, type FormatName, type FormatReadOptions, type FormatReader, type ReaderStats } from '../formats/format.js';
import { ByteSource, type ChunkIterable } from '../io/byte-source.js';
import type { RandomAccess } from '../io/random-access.js';
import { detect, HEAD_SIZE } from '../detect/detect.js';
import { refusalFor } from '../detect/refusals.js';
import { FORMATS } from '../detect/registry.js';
import { hasZipTail } from '../detect/tail-probe.js';

const MAX_LAYERS = 8;

export interface Layer {
  kind: 'filter' | 'envelope' | 'format';
  /** `gzip`, `flar`, `cpio`, ... */
  name: string;
  /** Format sub-variant from the bid (`newc`, `bin-be`, `ustar`, ...). */
  variant?: string;
}

export interface OpenOptions {
  /** Name of the input for messages (a path, or `standard input`). */
  name?: string;
  onWarning?: WarningHandler;
  signal?: AbortSignal;
  /** Largest meta record a format reader accepts (default 1 MiB). */
  maxMetaSize?: number;
  /** Random access to the input file, if it is one; used only when no layer was peeled. */
  randomAccess?: RandomAccess;
  /**
   * Decompression-bomb guard: a filter whose output exceeds this many times its input (counted
   * over the whole stream, once at least RATIO_FLOOR bytes were produced) stops the run with
   * LIMIT_RATIO. Default 1000 (node-tar's); 0 disables. Applies whatever decodes (an external
   * program's output is counted as it is read).
   */
  maxRatio?: number;
  /**
   * Decode zstd, bzip2, xz and lzma-alone with the reference program (`zstd -dc`, `bzip2 -dc`,
   * `xz -dc`) in a child process when it is on PATH, falling back to the in-process decoders
   * when it is not (src/filters/external-decoder.ts). Default true. false, or the environment
   * variable ZONEP2V_EXTERNAL_DECODERS=0 (which wins over this option), decodes in process only.
   */
  externalDecoders?: boolean;
}

/** Output a filter may produce before the ratio is judged (small archives of sparse zeros pass). */
export const RATIO_FLOOR = 256 * 1024 * 1024;
export const DEFAULT_MAX_RATIO = 1000;

/** Counts the compressed bytes handed to a filter. */
async function* counted(input: AsyncIterable<Buffer>, counter: { n: number }): AsyncGenerator<Buffer> {
  for await (const c of input) {
    counter.n += c.length;
    yield c;
  }
}

/** Passes a filter's output through, stopping it when the output/input ratio exceeds the limit. */
async function* ratioGuard(output: AsyncIterable<Buffer>, consumed: { n: number }, name: string, maxRatio: number): AsyncGenerator<Buffer> {
  let produced = 0;
  for await (const c of output) {
    produced += c.length;
    if (maxRatio > 0 && produced > RATIO_FLOOR && produced > maxRatio * consumed.n) {
      throw new ZoneP2vError(
        'LIMIT_RATIO',
        `${name}: ${produced} bytes decompressed from ${consumed.n} (more than ${maxRatio} times the input); this looks like a decompression bomb; raise the ratio limit if the image is trusted`,
        { layer: name, offset: produced },
      );
    }
    yield c;
  }
}

export interface ArchiveReader {
  /** Outermost first: e.g. compress, flar, compress, cpio. */
  readonly layers: readonly Layer[];
  /** The format, or null when a filter decoded to an empty stream (nothing to list). */
  readonly format: FormatName | null;
  /** The variant from the bid; `stats.variant` has the one observed while reading. */
  readonly variant: string | null;
  /** Flash archive identification, when the image is a flar. */
  readonly flar: FlarInfo | undefined;
  readonly stats: ReaderStats;
  /** The entries, in archive order. Call once. */
  entries(): AsyncGenerator<Entry>;
  close(): Promise<void>;
}

/** Human form of a chain, e.g. `compress > flar > cpio (newc)`. */
export function describeChain(layers: readonly Layer[]): string {
  return layers.map((l) => (l.variant ? `${l.name} (${l.variant})` : l.name)).join(' > ');
}

/**
 * Opens `input` (chunks, or a ByteSource such as ByteSource.fromRandomAccess for a plain file)
 * and detects its layers.
 */
export async function openArchive(input: ChunkIterable | ByteSource, options: OpenOptions = {}): Promise<ArchiveReader> {
  const onWarning: WarningHandler = options.onWarning ?? (() => {});
  const warn: WarningHandler = (w) => {
    if (options.name && !w.file) w.file = options.name;
    onWarning(w);
  };
  const layers: Layer[] = [];
  let flar: FlarInfo | undefined;
  let src = input instanceof ByteSource ? input : new ByteSource(input, 'input');
  try {
    for (let depth = 0; depth < MAX_LAYERS; depth++) {
      options.signal?.throwIfAborted();
      await src.fill(HEAD_SIZE);
      const head = src.peek(HEAD_SIZE);
      const inside = layers.length > 0 ? ` after ${describeChain(layers)}` : '';
      if (head.length === 0) {
        if (layers.length === 0) throw new ZoneP2vError('DETECT_EMPTY', 'detect: the input is empty', { layer: 'detect', offset: 0 });
        if (layers[layers.length - 1]!.kind === 'envelope') {
          throw new ZoneP2vError('DETECT_EMPTY', `detect: the ${layers[layers.length - 1]!.name} payload is empty`, { layer: 'detect', offset: 0 });
        }
        warn(new ZoneP2vError('DETECT_EMPTY', `detect: the stream is empty${inside}; nothing to list`, { layer: 'detect', severity: 'warning' }));
        return emptyReader(layers, flar, src);
      }
      const refusal = refusalFor(head);
      if (refusal) throw refusal;
      const winner = detect(head);
      if (flar && layers[layers.length - 1]?.kind === 'envelope') checkFlarHints(flar, winner, warn);
      if (winner === null && layers.length === 0 && options.randomAccess && (await hasZipTail(options.randomAccess))) {
        // A self-extracting zip: its stub fills the head; the central directory finds the entries.
        const zip = FORMATS.find((f) => f.name === 'zip');
        if (zip) {
          layers.push({ kind: 'format', name: 'zip', variant: 'sfx' });
          return formatReader(layers, flar, src, zip, 'sfx', options, warn);
        }
      }
      if (winner === null) {
        if (layers.some((l) => l.kind === 'filter')) {
          throw new ZoneP2vError('DETECT_NO_ARCHIVE', `detect: the data${inside} is not an archive (no cpio, tar, flar or other format recognised at its start)`, { layer: 'detect', offset: 0 });
        }
        throw new ZoneP2vError('DETECT_UNKNOWN', `detect: unrecognised format${inside} (first bytes ${head.subarray(0, 8).toString('hex')}); expected a flar, cpio, tar/pax or compressed archive`, { layer: 'detect', offset: 0 });
      }
      if (winner.kind === 'filter') {
        const filter = winner.filter;
        layers.push({ kind: 'filter', name: filter.name });
        const consumed = { n: 0 };
        const filterCtx: FilterContext = { onWarning: warn };
        if (options.signal) filterCtx.signal = options.signal;
        if (options.externalDecoders !== undefined) filterCtx.externalDecoders = options.externalDecoders;
        if (options.name) filterCtx.name = options.name;
        const decoded = filter.open(counted(src.rest(), consumed), filterCtx);
        src = new ByteSource(ratioGuard(decoded, consumed, filter.name, options.maxRatio ?? DEFAULT_MAX_RATIO), filter.name);
        continue;
      }
      if (winner.kind === 'envelope') {
        layers.push({ kind: 'envelope', name: winner.envelope.name });
        const info = await winner.envelope.open(src, { onWarning: warn });
        if (info.name === 'flar') flar = info as FlarInfo;
        continue;
      }
      layers.push({ kind: 'format', name: winner.format.name, variant: winner.variant });
      return formatReader(layers, flar, src, winner.format, winner.variant, options, warn);
    }
    throw new ZoneP2vError('DETECT_UNKNOWN', `detect: more than ${MAX_LAYERS} nested layers (${describeChain(layers)})`, { layer: 'detect' });
  } catch (e) {
    await src.close();
    throw annotate(e, options.name);
  }
}

function annotate(e: unknown, name: string | undefined): unknown {
  if (isZoneP2vError(e)) {
    if (name && !e.file) e.file = name;
    return e;
  }
  return e;
}

function checkFlarHints(flar: FlarInfo, winner: ReturnType<typeof detect>, warn: WarningHandler): void {
  const got = winner === null ? 'nothing recognisable' : winner.kind === 'filter' ? winner.filter.name : winner.kind === 'format' ? winner.format.name : winner.envelope.name;
  const isCompress = winner?.kind === 'filter' && (winner.filter.name as FilterName) === 'compress';
  if (flar.compressedMethod === 'compress' && !isCompress) {
    warn(new ZoneP2vError('ENVELOPE_WARNING', `flar: identification says files_compressed_method=compress but the archive section holds ${got}; reading it as found`, { layer: 'flar', severity: 'warning' }));
  } else if (flar.compressedMethod === 'none' && winner?.kind === 'filter') {
    warn(new ZoneP2vError('ENVELOPE_WARNING', `flar: identification says files_compressed_method=none but the archive section is ${got}-compressed; decompressing it`, { layer: 'flar', severity: 'warning' }));
  } else if (winner?.kind === 'format' && winner.format.name !== (flar.archivedMethod === 'pax' ? 'tar' : 'cpio')) {
    warn(new ZoneP2vError('ENVELOPE_WARNING', `flar: identification says files_archived_method=${flar.archivedMethod} but the archive section is ${got}; reading it as found`, { layer: 'flar', severity: 'warning' }));
  }
}

function emptyReader(layers: Layer[], flar: FlarInfo | undefined, src: ByteSource): ArchiveReader {
  return {
    layers,
    format: null,
    variant: null,
    flar,
    stats: newStats('empty'),
    async *entries() {
      /* nothing */
    },
    close: () => src.close(),
  };
}

function formatReader(
  layers: Layer[],
  flar: FlarInfo | undefined,
  src: ByteSource,
  format: FormatReader,
  variant: string,
  options: OpenOptions,
  warn: WarningHandler,
): ArchiveReader {
  const stats = newStats(variant);
  let started = false;
  return {
    layers,
    format: format.name,
    variant,
    flar,
    stats,
    async *entries() {
      if (started) throw new Error('entries() can be called only once');
      started = true;
      try {
        const readOptions: FormatReadOptions = { onWarning: warn };
        if (options.maxMetaSize) readOptions.maxMetaSize = options.maxMetaSize;
        if (options.signal) readOptions.signal = options.signal;
        // Random access only when the format stream is the file itself.
        if (options.randomAccess && layers.length === 1) readOptions.randomAccess = options.randomAccess;
        for await (const entry of format.read(src, stats, readOptions)) {
          options.signal?.throwIfAborted();
          yield entry;
        }
      } catch (e) {
        throw annotate(e, options.name);
      } finally {
        await src.close();
      }
    },
    close: () => src.close(),
  };
}
