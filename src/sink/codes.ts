/**
 * Error codes of the sink layer.
 *
 * TEMPORARY: `SINK_*` is not yet part of the ErrorCode union in src/errors.ts (the core is owned
 * by the lead). Until it is, the codes are defined here and cast; once the union has them, the
 * casts go and these constants can be replaced by the literals.
 */

import type { ErrorCode } from '../errors.js';

/** A write to the destination failed (ENOSPC, EIO, EACCES, EROFS...): the run stops. */
export const SINK_WRITE = 'SINK_WRITE' as string as ErrorCode;
/** The destination is not an empty directory (and allowNonEmpty is off), or is not a directory. */
export const SINK_EXISTS = 'SINK_EXISTS' as string as ErrorCode;
/** One entry was refused (written through a symlink, a hard link outside, a conflict...). */
export const SINK_REFUSED = 'SINK_REFUSED' as string as ErrorCode;

/** Something the caller should know that did not stop the run (owners skipped, leading `/` removed, symlink times). */
export const SINK_WARNING = 'SINK_WARNING' as string as ErrorCode;

/** Codes a refusal can carry (path checks use the core's PATH_INVALID and LIMIT_DEPTH). */
export type RefusalCode = 'PATH_INVALID' | 'LIMIT_DEPTH' | 'SINK_REFUSED' | 'SINK_EXISTS';
