/** How the CLI words errors and warnings on standard error: `zonep2v: FILE: <message>`. */

import { isZoneP2vError, type ZoneP2vError } from '../errors.js';

export function errorLine(e: unknown, file?: string): string {
  if (isZoneP2vError(e)) {
    const where = e.file ?? file;
    return `zonep2v: ${where ? `${where}: ` : ''}${e.message}`;
  }
  const err = e as Error;
  return `zonep2v: ${file ? `${file}: ` : ''}internal error: ${err?.stack ?? String(e)}`;
}

export function warningLine(w: ZoneP2vError, file?: string): string {
  const where = w.file ?? file;
  return `zonep2v: warning: ${where ? `${where}: ` : ''}${w.message}`;
}
