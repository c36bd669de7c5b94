/**
 * Error codes of the sink layer (members of ErrorCode in src/errors.ts), as constants with
 * their literal types, so refusals can carry them as RefusalCode.
 */

import type { ErrorCode } from '../errors.js';

/** A write to the destination failed (ENOSPC, EIO, EACCES, EROFS...): the run stops. */
export const SINK_WRITE = 'SINK_WRITE' satisfies ErrorCode;
/** The destination is not an empty directory (and allowNonEmpty is off), or is not a directory; or a name existed before the run. */
export const SINK_EXISTS = 'SINK_EXISTS' satisfies ErrorCode;
/** One entry was refused (written through a symlink, a hard link outside, a conflict...). */
export const SINK_REFUSED = 'SINK_REFUSED' satisfies ErrorCode;
/** Something the caller should know that did not stop the run (owners skipped, leading `/` removed, symlink times). */
export const SINK_WARNING = 'SINK_WARNING' satisfies ErrorCode;

/** Codes a refusal can carry (path checks use the core's PATH_INVALID and LIMIT_DEPTH). */
export type RefusalCode = 'PATH_INVALID' | 'LIMIT_DEPTH' | typeof SINK_REFUSED | typeof SINK_EXISTS;
