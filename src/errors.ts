/**
 * The one error class of zonep2v. Every failure and every warning the library reports is a
 * ZoneP2vError with a code from the union below (grouped by layer, as in STYLE.md), a
 * severity, and context (layer, byte offset, entry path). The library never prints: warnings
 * go to an `onWarning` callback, fatal errors are thrown; the CLI decides what to show.
 *
 * Messages read `<layer>: <what happened>[; <hint>]`, e.g.
 * `cpio-newc: bad header magic at byte 1536; the archive is corrupt or truncated`.
 */

export type ErrorCode =
  // io: reading the input itself
  | 'IO_READ'
  | 'IO_NOT_FOUND'
  // detection by bidding
  | 'DETECT_UNKNOWN'
  | 'DETECT_NO_ARCHIVE'
  | 'DETECT_EMPTY'
  | 'DETECT_UNSUPPORTED'
  // compression filters
  | 'FILTER_CORRUPT'
  | 'FILTER_TRUNCATED'
  | 'FILTER_UNSUPPORTED'
  | 'FILTER_TRAILING_DATA'
  | 'FILTER_CHECKSUM'
  // envelopes (flar)
  | 'ENVELOPE_CORRUPT'
  | 'ENVELOPE_TRUNCATED'
  | 'ENVELOPE_UNSUPPORTED'
  | 'ENVELOPE_WARNING'
  // archive formats
  | 'FORMAT_CORRUPT'
  | 'FORMAT_TRUNCATED'
  | 'FORMAT_CHECKSUM'
  | 'FORMAT_UNSUPPORTED'
  | 'FORMAT_WARNING'
  // entries and paths
  | 'ENTRY_INVALID'
  | 'ENTRY_BODY_STALE'
  | 'PATH_INVALID'
  // fixup rules
  | 'FIXUP_WARNING'
  | 'FIXUP_RULE'
  // the sink (the only code that writes the destination)
  | 'SINK_WRITE'
  | 'SINK_EXISTS'
  | 'SINK_REFUSED'
  | 'SINK_WARNING'
  // p2v install: release gate, inventory, sanity
  | 'P2V_RELEASE_MISMATCH'
  | 'P2V_DOWNGRADE'
  | 'P2V_BACKOUT'
  | 'P2V_HOST_INVENTORY'
  | 'P2V_NOT_SOLARIS_HOST'
  | 'P2V_INVENTORY_WARNING'
  | 'P2V_SANITY'
  // resource limits
  | 'LIMIT_META_SIZE'
  | 'LIMIT_RATIO'
  | 'LIMIT_MEMORY'
  | 'LIMIT_DEPTH'
  // command line
  | 'CLI_USAGE'
  // the run was aborted by the caller
  | 'ABORTED';

export type Severity = 'info' | 'warning' | 'entry' | 'fatal';

export interface ErrorContext {
  /** The layer that detected the problem: a filter, envelope or format name (`gzip`, `flar`, `cpio-newc`, `tar`). */
  layer?: string;
  /** Byte offset in the stream of that layer (after every outer filter was peeled). */
  offset?: number;
  /** Raw path of the entry concerned, if any. */
  path?: Buffer;
  /** The input file name (set by the pipeline, for messages). */
  file?: string;
}

export interface ZoneP2vErrorOptions extends ErrorContext {
  severity?: Severity;
  cause?: unknown;
}

export class ZoneP2vError extends Error {
  readonly code: ErrorCode;
  readonly severity: Severity;
  readonly layer: string | undefined;
  readonly offset: number | undefined;
  readonly path: Buffer | undefined;
  file: string | undefined;

  constructor(code: ErrorCode, message: string, options: ZoneP2vErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ZoneP2vError';
    this.code = code;
    this.severity = options.severity ?? 'fatal';
    this.layer = options.layer;
    this.offset = options.offset;
    this.path = options.path;
    this.file = options.file;
  }
}

/** Builds `<layer>: <what>[ at byte N][; hint]` and the error in one call (the common case in readers). */
export function formatError(
  code: ErrorCode,
  layer: string,
  what: string,
  offset?: number,
  hint?: string,
  extra: Omit<ZoneP2vErrorOptions, 'layer' | 'offset'> = {},
): ZoneP2vError {
  const at = offset === undefined ? '' : ` at byte ${offset}`;
  const tail = hint ? `; ${hint}` : '';
  return new ZoneP2vError(code, `${layer}: ${what}${at}${tail}`, { ...extra, layer, offset });
}

export function isZoneP2vError(e: unknown): e is ZoneP2vError {
  return e instanceof ZoneP2vError;
}

/** Receives warnings (severity `warning` or `info`); the library never prints them itself. */
export type WarningHandler = (warning: ZoneP2vError) => void;
