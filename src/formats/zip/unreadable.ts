/**
 * Entries whose data this reader cannot decode: compression methods other than stored (0) and
 * deflate (8), and encrypted entries (flag bit 0, strong encryption bit 6, WinZip AES method
 * 99). They are listed like any other entry; reading their body is FORMAT_UNSUPPORTED naming
 * the entry and the method.
 */

import { FLAG, METHOD_AES, METHOD_DEFLATE, METHOD_STORED, describeMethod } from './header.js';
import { entryName, zipError, type EntryContext } from './zip-error.js';
import type { ZoneP2vError } from '../../errors.js';

/** Why an entry's data cannot be decoded, or null when it can. */
export function unreadableReason(method: number, flags: number): string | null {
  if ((flags & (FLAG.ENCRYPTED | FLAG.STRONG_ENCRYPTION)) !== 0 || method === METHOD_AES) return 'is encrypted';
  if (method !== METHOD_STORED && method !== METHOD_DEFLATE) return `uses compression method ${describeMethod(method)}`;
  return null;
}

export function unsupportedError(ctx: EntryContext, reason: string, hint?: string): ZoneP2vError {
  return zipError('FORMAT_UNSUPPORTED', `${entryName(ctx)} ${reason}, which is not supported`, ctx.offset, hint, { path: ctx.path });
}
