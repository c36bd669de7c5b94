/**
 * Text helpers for rules that rewrite small configuration files (vfstab, dfstab, zones index,
 * shadow, default/init, the SMF upgrade script). Bodies are handled as latin1 strings so every
 * byte round-trips unchanged (Solaris configuration files may carry Latin-1 or EUC comments).
 */

import { escapePath } from '../entry/escape-path.js';
import type { RuleEntry, RuleOutput } from './rule.js';

export interface Lines {
  /** The lines without their `\n` (a `\r` stays part of the line). */
  lines: string[];
  /** The body ended with `\n` (or was empty). */
  finalNewline: boolean;
}

/** Splits a body into lines, byte-exact. An empty body has no lines. */
export function splitLines(body: Buffer): Lines {
  if (body.length === 0) return { lines: [], finalNewline: true };
  const text = body.toString('latin1');
  const lines = text.split('\n');
  const finalNewline = text.endsWith('\n');
  if (finalNewline) lines.pop();
  return { lines, finalNewline };
}

/** Joins lines back; `splitLines` then `joinLines` gives the same bytes. */
export function joinLines(l: Lines): Buffer {
  if (l.lines.length === 0) return Buffer.alloc(0);
  return Buffer.from(l.lines.join('\n') + (l.finalNewline ? '\n' : ''), 'latin1');
}

/** Appends lines to a body (adding the missing `\n` of its last line first). */
export function appendLines(body: Buffer, lines: readonly string[]): Buffer {
  if (lines.length === 0) return body;
  const sep = body.length > 0 && body[body.length - 1] !== 0x0a ? '\n' : '';
  return Buffer.concat([body, Buffer.from(sep + lines.join('\n') + '\n', 'latin1')]);
}

/** Empty or only blanks (space, tab, `\r`, `\f`, `\v`): such lines are never touched. */
export function isBlank(line: string): boolean {
  return /^[ \t\r\f\v]*$/.test(line);
}

/** Whitespace-separated fields, as ksh `read` splits them (space and tab). */
export function fieldsOf(line: string): string[] {
  const t = line.replace(/^[ \t]+/, '').replace(/[ \t\r]+$/, '');
  return t === '' ? [] : t.split(/[ \t]+/);
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/**
 * date(1)'s default format (`%a %b %e %H:%M:%S %Z %Y`, C locale), in UTC:
 * `Tue Feb 10 19:22:33 UTC 2009`. The original ran date(1) in the global zone, i.e. in the
 * host's time zone; we print UTC so that the trailer is reproducible and unambiguous (Node
 * cannot name every zone's abbreviation the way date(1) does).
 */
export function p2vDate(now: Date): string {
  const day = String(now.getUTCDate()).padStart(2, ' ');
  return (
    `${DAYS[now.getUTCDay()]} ${MONTHS[now.getUTCMonth()]} ${day} ` +
    `${two(now.getUTCHours())}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} UTC ${now.getUTCFullYear()}`
  );
}

/** The trailer vfstab and dfstab get when something was commented out (reference §3.5). */
export function modifiedTrailer(now: Date): string {
  return `# Modified by p2v ${p2vDate(now)}`;
}

/** Seconds since the epoch of the install time. */
export function epochSeconds(now: Date): number {
  return Math.floor(now.getTime() / 1000);
}

/**
 * A file a fixup rewrote: same path, type, mode, uid, gid and format leftovers (an ACL stays);
 * the new body and size; the install time as mtime (DECISIONS §5).
 */
export function rewrittenFile(entry: RuleEntry, body: Buffer, now: Date): RuleOutput {
  const { mtimeNsec: _ns, ...rest } = entry;
  const ms = now.getTime();
  return {
    entry: { ...rest, size: body.length, mtime: Math.floor(ms / 1000), mtimeNsec: (((ms % 1000) + 1000) % 1000) * 1e6 },
    body,
  };
}

/** A byte-identical copy under another name, with the original's mode, owner and time. */
export function copiedFile(entry: RuleEntry, path: Buffer, body: Buffer): RuleOutput {
  const { nlink: _n, ino: _i, ...rest } = entry;
  return { entry: { ...rest, path, type: 'file', linkTarget: null, size: body.length }, body };
}

/** A path for log messages: printable UTF-8 as is, other bytes as `\xHH`. */
export function showPath(p: Buffer | string): string {
  return escapePath(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
}

/** A line of a configuration file for log messages (same escaping as paths; tabs stay tabs). */
export function showLine(line: string): string {
  return line
    .split('\t')
    .map((part) => escapePath(Buffer.from(part, 'latin1')))
    .join('\t');
}
