/**
 * Error codes of the release gate and the update-on-attach inventory comparison.
 *
 * TEMPORARY (PROVISIONAL CODES): `P2V_*` is not yet part of the ErrorCode union in
 * src/errors.ts (the core is owned by the lead). Until it is, the codes are defined here and
 * cast; once the union has them, the casts go and these constants can be replaced by the
 * literals. Every code below must be added to the union's `P2V_*` group.
 */

import { ZoneP2vError, type ErrorCode, type Severity } from '../../errors.js';

/** Fatal: the image's INST_RELEASE VERSION differs from the host's (reference §1.4). */
export const P2V_RELEASE_MISMATCH = 'P2V_RELEASE_MISMATCH' as string as ErrorCode;
/** Fatal: update on attach would downgrade a package or a patch (reference §4.4, pass 1). */
export const P2V_DOWNGRADE = 'P2V_DOWNGRADE' as string as ErrorCode;
/** Fatal: a `-b PATCHID` patch is not installed in the image or has no back-out data (§4.6). */
export const P2V_BACKOUT = 'P2V_BACKOUT' as string as ErrorCode;
/** Fatal: the host has INST_RELEASE but its package database (var/sadm/pkg) cannot be read. */
export const P2V_HOST_INVENTORY = 'P2V_HOST_INVENTORY' as string as ErrorCode;
/** Warning: the host root has no INST_RELEASE, so it is not a Solaris host; the gate is skipped. */
export const P2V_NOT_SOLARIS_HOST = 'P2V_NOT_SOLARIS_HOST' as string as ErrorCode;
/** Warning: package metadata the gate had to interpret (duplicate paths, missing VERSION, ...). */
export const P2V_INVENTORY_WARNING = 'P2V_INVENTORY_WARNING' as string as ErrorCode;

/** The layer name used in messages (`<layer>: <what>`). */
export const LAYER = 'p2v-inventory';

/** `p2v-inventory: <what>[; hint]` as a ZoneP2vError. */
export function inventoryError(
  code: ErrorCode,
  what: string,
  options: { hint?: string; severity?: Severity; path?: Buffer; cause?: unknown } = {},
): ZoneP2vError {
  const tail = options.hint ? `; ${options.hint}` : '';
  return new ZoneP2vError(code, `${LAYER}: ${what}${tail}`, {
    layer: LAYER,
    severity: options.severity ?? 'fatal',
    ...(options.path === undefined ? {} : { path: options.path }),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  });
}

/** A warning (severity `warning`) with the inventory layer. */
export function inventoryWarning(what: string, path?: Buffer, code: ErrorCode = P2V_INVENTORY_WARNING): ZoneP2vError {
  return inventoryError(code, what, { severity: 'warning', ...(path === undefined ? {} : { path }) });
}
