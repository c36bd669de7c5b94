/**
 * Parsers for the SVR4 package metadata the release gate and the inventory read (reference
 * §4.2, §6.4, §1.4): a package's `pkginfo` and `install/depend`, the
 * `var/sadm/install/gz-only-packages` list, `var/sadm/system/admin/INST_RELEASE` and the first
 * line of `etc/release`.
 *
 * All functions are pure and take the whole file body (these files are small: the largest
 * pkginfo of a heavily patched system is a few hundred KiB). Text is decoded as `latin1`, one
 * character per byte, so every string round-trips to the original bytes
 * (`Buffer.from(s, 'latin1')`) and string comparison is C's strcmp.
 *
 * Where the original (sw_support.c, image_install.ksh) read these files in a way that matters
 * to the verdicts, the rule is reproduced and cited; the few places where its C buffer handling
 * corrupted data are not, and are listed in docs/p2v/inventory.md ("Deviations").
 */

import { patchNumberKey, patchRevisionValue } from './version.js';

/** One logical line: physical lines joined where one ended in a backslash. */
export interface LogicalLine {
  /** The text, without the newline and without the joining backslash-newline pairs. */
  readonly text: string;
  /** Whether the line ended with a newline (false only for a last line without one). */
  readonly terminated: boolean;
}

/**
 * Splits a body into logical lines, as sw_support's read_pkg_data did: a line whose last byte
 * before the newline is `\` continues on the next line, the backslash and newline both being
 * removed (no space is inserted). Lines may be of any length.
 */
export function logicalLines(body: Buffer): LogicalLine[] {
  const s = body.toString('latin1');
  const out: LogicalLine[] = [];
  let pending = '';
  let pos = 0;
  while (pos < s.length) {
    const nl = s.indexOf('\n', pos);
    if (nl < 0) {
      out.push({ text: pending + s.slice(pos), terminated: false });
      return out;
    }
    const physical = s.slice(pos, nl);
    pos = nl + 1;
    if (physical.endsWith('\\')) {
      pending += physical.slice(0, -1);
      continue;
    }
    out.push({ text: pending + physical, terminated: true });
    pending = '';
  }
  if (pending !== '') out.push({ text: pending, terminated: false });
  return out;
}

/** What the inventory needs from one pkginfo file. */
export interface PkgInfo {
  /** `PKG=` (quotes removed), when present. The inventory names packages by directory, not by this. */
  readonly pkg: string | undefined;
  /**
   * The `VERSION=` value as sw_support took it: the whole rest of the (last) line starting with
   * `VERSION=`, quotes and spaces included. Undefined when there is no such line.
   */
  readonly version: string | undefined;
  /** A line that is exactly `SUNW_PKG_ALLZONES=true` followed by a newline (sw_support matched the literal line). */
  readonly allZones: boolean;
  /** A line that is exactly `SUNW_PKG_THISZONE=true` followed by a newline. */
  readonly thisZone: boolean;
  /** `SUNW_PKG_HOLLOW=true` anywhere in the file (p2v used `grep -s`). */
  readonly hollow: boolean;
  /** The `PATCHLIST=` value (rest of the last such line), when present. */
  readonly patchList: string | undefined;
  /** Every logical line starting with `PATCH_INFO_`, whole, in file order. */
  readonly patchInfo: readonly string[];
  /** Every `KEY=VALUE` line (last wins), with one pair of surrounding quotes removed; for logs and other rules. */
  readonly params: ReadonlyMap<string, string>;
}

const KEY_VALUE = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

/** Removes one pair of matching surrounding double or single quotes. */
export function unquote(value: string): string {
  if (value.length >= 2) {
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q)) return value.slice(1, -1);
  }
  return value;
}

/** Parses a pkginfo body (reference §6.4; sw_support get_pkginfo). */
export function parsePkgInfo(body: Buffer): PkgInfo {
  let version: string | undefined;
  let patchList: string | undefined;
  let allZones = false;
  let thisZone = false;
  let hollow = false;
  const patchInfo: string[] = [];
  const params = new Map<string, string>();
  for (const { text, terminated } of logicalLines(body)) {
    if (text.includes('SUNW_PKG_HOLLOW=true')) hollow = true;
    if (text.startsWith('VERSION=')) version = text.slice(8);
    else if (terminated && text === 'SUNW_PKG_ALLZONES=true') allZones = true;
    else if (terminated && text === 'SUNW_PKG_THISZONE=true') thisZone = true;
    else if (text.startsWith('PATCHLIST=')) patchList = text.slice(10);
    else if (text.startsWith('PATCH_INFO_')) patchInfo.push(text);
    const kv = KEY_VALUE.exec(text);
    if (kv) params.set(kv[1] as string, unquote(kv[2] as string));
  }
  return { pkg: params.get('PKG'), version, allZones, thisZone, hollow, patchList, patchInfo, params };
}

/** One installed patch of a package, as the inventory records it. */
export interface InstalledPatch {
  /** The patch number as written (the part of `<id>-<rev>` before the first `-`). */
  readonly id: string;
  /** The revision as written (after the first `-`; empty when there is none). */
  readonly rev: string;
  /** Patch numbers this entry names after `Obsoletes:` (revisions cut off at their first `-`). */
  readonly obsoletes: readonly string[];
}

/** The patches of one package (sw_support parse_info over every PATCH_INFO line). */
export interface PackagePatches {
  /** For every patch number, the entry with the highest revision; in first-seen order. */
  readonly patches: readonly InstalledPatch[];
  /**
   * Every number named after `Obsoletes:` by an entry that was, when it was read, the highest
   * revision of its patch. These feed the inventory-wide obsolete set; the original kept them
   * even when a later, higher revision replaced the entry that named them.
   */
  readonly obsoleted: readonly string[];
}

const SECTION_KEYWORDS = new Set(['Installed:', 'Requires:', 'From:', 'Incompatibles:']);

/**
 * Reads the installed patches from a package's PATCH_INFO lines (reference §4.2):
 * `PATCH_INFO_<id>-<rev>=Installed: <date> From: <host> Obsoletes: <ids…> Requires: <ids…>
 * Incompatibles: <ids…>`. Only values starting with `Installed:` count (a backed-out patch says
 * `backed out`). For each patch number (compared as strtoul does) only the highest revision
 * (strtoul again) is kept; an entry whose revision is not higher than the one kept is ignored
 * entirely, its Obsoletes included. Tokens are separated by blanks and tabs.
 *
 * `backedOut` holds `<id>-<rev>` strings (the `-b` patches): their lines are ignored, as if
 * patchrm had already removed them (the original backed them out before taking the inventory).
 */
export function installedPatches(patchInfo: readonly string[], backedOut?: ReadonlySet<string>): PackagePatches {
  const byNumber = new Map<number, InstalledPatch>();
  const obsoleted: string[] = [];
  for (const line of patchInfo) {
    const rest = line.slice('PATCH_INFO_'.length);
    const eq = rest.indexOf('=');
    if (eq < 0) continue;
    const fullId = rest.slice(0, eq);
    const value = rest.slice(eq + 1);
    if (!value.startsWith('Installed:')) continue;
    if (backedOut?.has(fullId)) continue;
    const dash = fullId.indexOf('-');
    const id = dash < 0 ? fullId : fullId.slice(0, dash);
    const rev = dash < 0 ? '' : fullId.slice(dash + 1);
    const key = patchNumberKey(id);
    const kept = byNumber.get(key);
    if (kept && patchRevisionValue(rev) <= patchRevisionValue(kept.rev)) continue;
    const obsoletes: string[] = [];
    let inObsoletes = false;
    for (const token of value.split(/[ \t]+/)) {
      if (token === '') continue;
      if (SECTION_KEYWORDS.has(token)) inObsoletes = false;
      else if (token === 'Obsoletes:') inObsoletes = true;
      else if (inObsoletes) {
        const d = token.indexOf('-');
        const number = d < 0 ? token : token.slice(0, d);
        obsoletes.push(number);
        obsoleted.push(number);
      }
    }
    if (kept) byNumber.delete(key);
    byNumber.set(key, { id, rev, obsoletes });
  }
  return { patches: [...byNumber.values()], obsoleted };
}

/** The prerequisites of a package (its `install/depend` file). */
export interface DependInfo {
  /** Package names from `P` lines, in file order (duplicates kept; the inventory includes each once). */
  readonly prerequisites: readonly string[];
  /**
   * Names from `P` lines that sw_support could not follow: the name was the last thing on its
   * line, so its token kept the newline and the package was never found. Reported for the log;
   * not part of the inventory.
   */
  readonly unfollowed: readonly string[];
}

const isDelimiter = (c: string | undefined) => c === ' ' || c === '\t';

/**
 * Parses `install/depend` (reference §6.4; sw_support add_dependents): lines starting with `P`;
 * the name is the first blank- or tab-separated token after the line's first two characters.
 */
export function parseDepend(body: Buffer): DependInfo {
  const prerequisites: string[] = [];
  const unfollowed: string[] = [];
  for (const { text, terminated } of logicalLines(body)) {
    if (!text.startsWith('P')) continue;
    const rest = text.slice(2);
    let i = 0;
    while (i < rest.length && isDelimiter(rest[i])) i++;
    if (i >= rest.length) continue;
    let j = i;
    while (j < rest.length && !isDelimiter(rest[j])) j++;
    const name = rest.slice(i, j);
    if (j >= rest.length && terminated) unfollowed.push(name);
    else prerequisites.push(name);
  }
  return { prerequisites, unfollowed };
}

/**
 * Parses `var/sadm/install/gz-only-packages` (reference §4.2, [SW2]): one package per line;
 * lines starting with `#` and empty lines are ignored; nothing is trimmed.
 */
export function parseGzOnlyPackages(body: Buffer): Set<string> {
  const out = new Set<string>();
  const lines = body.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line === '' || line.startsWith('#')) continue;
    out.add(line);
  }
  return out;
}

/** `var/sadm/system/admin/INST_RELEASE` (reference §6.4: `OS=Solaris`, `VERSION=10`, `REV=0`). */
export interface InstRelease {
  /**
   * The value image_install compared: `nawk -F= '$1 == "VERSION" {print $2}'`, i.e. on the first
   * line whose text before the first `=` is exactly `VERSION`, the text between the first and
   * the second `=`. Undefined when there is no such line or the value is empty.
   */
  readonly version: string | undefined;
  /** How many lines had the key `VERSION` (the original broke on more than one). */
  readonly versionLines: number;
  /** `OS` and `REV`, the same way, for the log. */
  readonly os: string | undefined;
  readonly rev: string | undefined;
}

/** Parses INST_RELEASE with nawk's `-F=` field rule (image_install sanity_check). */
export function parseInstRelease(body: Buffer): InstRelease {
  const found = new Map<string, string>();
  let versionLines = 0;
  for (const record of body.toString('latin1').split('\n')) {
    const fields = record.split('=');
    const key = fields[0] as string;
    if (key === 'VERSION') versionLines++;
    if (!found.has(key)) found.set(key, fields[1] ?? '');
  }
  const value = (k: string) => {
    const v = found.get(k);
    return v === undefined || v === '' ? undefined : v;
  };
  return { version: value('VERSION'), versionLines, os: value('OS'), rev: value('REV') };
}

/** The first line of `etc/release`, surrounding white space removed (it is centred with blanks). */
export function firstReleaseLine(body: Buffer): string | undefined {
  const s = body.toString('latin1');
  const nl = s.indexOf('\n');
  const line = (nl < 0 ? s : s.slice(0, nl)).trim();
  return line === '' ? undefined : line;
}
