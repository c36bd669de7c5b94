/**
 * Errors and warnings of the zip reader: `zip: <what>[; <hint>]`, with the layer, the byte
 * offset (in the format stream, or in the file in random-access mode) and the entry path in
 * the context. Unlike formatError, the offset is not appended as " at byte N": zip messages
 * name their offsets where the sentence needs them ("entry 'a' (local header at byte 0) ...").
 */

import { escapePath } from '../../entry/escape-path.js';
import { ZoneP2vError, type ErrorCode, type Severity } from '../../errors.js';

export const LAYER = 'zip';

/** What an error says about the entry it concerns. */
export interface EntryContext {
  path: Buffer;
  /** Offset of the entry's local header. */
  offset: number;
}

export function zipError(
  code: ErrorCode,
  what: string,
  offset: number | undefined,
  hint?: string,
  options: { path?: Buffer; severity?: Severity; cause?: unknown } = {},
): ZoneP2vError {
  const tail = hint ? `; ${hint}` : '';
  const opts: ConstructorParameters<typeof ZoneP2vError>[2] = { layer: LAYER };
  if (offset !== undefined) opts.offset = offset;
  if (options.path !== undefined) opts.path = options.path;
  if (options.severity !== undefined) opts.severity = options.severity;
  if (options.cause !== undefined) opts.cause = options.cause;
  return new ZoneP2vError(code, `${LAYER}: ${what}${tail}`, opts);
}

export function zipWarning(code: ErrorCode, what: string, offset: number | undefined, hint?: string, path?: Buffer): ZoneP2vError {
  return zipError(code, what, offset, hint, path === undefined ? { severity: 'warning' } : { severity: 'warning', path });
}

/** `entry 'a/b' (local header at byte 123)` */
export function entryName(e: EntryContext): string {
  return `entry '${escapePath(e.path)}' (local header at byte ${e.offset})`;
}

export function hex32(x: number): string {
  return '0x' + (x >>> 0).toString(16).padStart(8, '0');
}
